import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { integrityOf, restoreFrom } from '../src/db/backup'
import { openDatabase } from '../src/db/client'
import { makeApp } from './helpers'

const dir = mkdtempSync(join(tmpdir(), 'observatory-backup-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A synthetic transcript of `n` user lines in one session. */
const transcript = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      type: 'user',
      uuid: `b-${i}`,
      sessionId: 'backup-session',
      timestamp: '2026-01-01T00:00:00Z',
      message: { role: 'user', content: `line ${i}` },
    }),
  ).join('\n')

describe('backup and restore', () => {
  it('copies the database consistently while an import runs, and the copy restores', async () => {
    const { admin, api, db, config } = await makeApp({ DATA_DIR: dir, DB_PATH: join(dir, 'observatory.db') })
    const path = join(dir, 'big.jsonl')
    writeFileSync(path, `${transcript(20_000)}\n`)
    const upload = await api.api.files.post({ file: new File([await Bun.file(path).bytes()], 'big.jsonl') })
    // wait until the import is under way, then back up in the middle of it
    for (let i = 0; i < 500; i++) {
      const f = (await api.api.files({ id: upload.data!.id }).get()).data
      if (f && f.lines_done > 0) break
      await Bun.sleep(5)
    }
    const before = (db.$client.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    const backup = await admin.api.api.admin.backups.post()
    expect(backup.status).toBe(201)
    const file = join(config.dataDir, 'backups', backup.data!.name)
    expect(integrityOf(file)).toBe('ok')
    const copy = new Database(file, { readonly: true })
    const inCopy = (copy.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    const sessionCount = (
      copy.query("SELECT message_count AS n FROM conversations WHERE id = 'backup-session'").get() as { n: number }
    ).n
    copy.close()
    expect(inCopy).toBeGreaterThanOrEqual(before)
    expect(inCopy % 2000).toBe(0) // whole chunks only: a chunk commits atomically
    expect(sessionCount).toBe(inCopy)

    const list = await admin.api.api.admin.backups.get()
    expect(list.data?.items.map((b) => b.name)).toEqual([backup.data!.name])
    const download = await admin.api.api.admin.backups({ name: backup.data!.name }).get()
    expect(download.status).toBe(200)
    expect((await api.api.admin.backups.post()).status).toBe(403)
    // it takes no fields: a name (a path) is refused, and no second backup is made
    const named = await admin.api.api.admin.backups.post({ name: '../../x' } as never)
    expect(named.status).toBe(422)
    expect((await admin.api.api.admin.backups.get()).data?.items).toHaveLength(1)
    expect((await admin.api.api.admin.backups({ name: '../observatory.db' }).get()).status).toBe(404)

    const restored = join(dir, 'restored', 'observatory.db')
    restoreFrom(file, restored)
    expect(integrityOf(restored)).toBe('ok')
    const r = new Database(restored, { readonly: true })
    expect((r.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(inCopy)
    r.close()
  })

  it('makes the copy on a thread of its own, unlisted until complete, and a stopping server ends it', async () => {
    const dataDir = join(dir, 'busy')
    const backups = join(dataDir, 'backups')
    mkdirSync(backups, { recursive: true })
    writeFileSync(join(backups, 'observatory-2026-01-01T00-00-00-000Z.db.0190.part'), 'cut off by a crash')
    const { admin, app, db } = await makeApp({ DATA_DIR: dataDir, DB_PATH: join(dataDir, 'observatory.db') })
    expect(readdirSync(backups)).toEqual([]) // a crash's leftover is gone at start
    // ~64 MiB to copy
    db.$client.exec('CREATE TABLE ballast (b BLOB)')
    const insert = db.$client.prepare('INSERT INTO ballast VALUES (randomblob(1048576))')
    db.$client.transaction(() => {
      for (let i = 0; i < 64; i++) insert.run()
    })()
    const started = async () => {
      let finished = false
      const pending = admin.api.api.admin.backups.post().then((r) => {
        finished = true
        return r
      })
      while (!finished && readdirSync(backups).length === 0) await Bun.sleep(1)
      return { pending, finished: () => finished }
    }

    const first = await started()
    // the server answers meanwhile, and the copy under way is neither listed nor served
    expect((await app.handle(new Request('http://localhost/health'))).status).toBe(200)
    expect((await admin.api.api.admin.backups.get()).data).toEqual({ items: [], total: 0 })
    expect(first.finished()).toBe(false)
    const backup = await first.pending
    expect(backup.status).toBe(201)
    expect(readdirSync(backups)).toEqual([backup.data?.name ?? ''])
    expect(integrityOf(join(backups, backup.data?.name ?? ''))).toBe('ok')

    const second = await started()
    await app.shutdown()
    const stopped = await second.pending
    expect([stopped.status, (stopped.error?.value as { code?: string })?.code]).toEqual([503, 'UNAVAILABLE'])
    expect(readdirSync(backups)).toEqual([backup.data?.name ?? ''])
  })

  it('restores over a database SQLite cannot read, keeping that file as it was', () => {
    const target = join(dir, 'garbage', 'observatory.db')
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, 'not a database at all, but a restore should still replace it')
    const good = join(dir, 'garbage', 'good.db')
    new Database(good, { create: true }).close()
    const { kept } = restoreFrom(good, target)
    expect(readFileSync(kept ?? '', 'utf8')).toBe('not a database at all, but a restore should still replace it')
    expect(integrityOf(target)).toBe('ok')
  })

  it('refuses to restore a damaged file', () => {
    const bad = join(dir, 'bad.db')
    writeFileSync(bad, 'this is not a database')
    expect(() => restoreFrom(bad, join(dir, 'never.db'))).toThrow()
  })
})

describe('backup and restore from the CLI', () => {
  const cli = (args: string[], env: Record<string, string>) =>
    Bun.spawnSync([process.execPath, join(import.meta.dir, '../src/cli.ts'), ...args], {
      env: { ...process.env, ...env },
      stderr: 'pipe',
      stdout: 'pipe',
    })

  it('backs up a database and restores it elsewhere, keeping the replaced file', async () => {
    const source = join(dir, 'cli-source')
    const { api, db } = await makeApp({ DATA_DIR: source, DB_PATH: join(source, 'observatory.db') })
    const c = (await api.api.conversations.post({ title: 'to be saved' })).data!
    await api.api.conversations({ id: c.id }).messages.post({ role: 'user', content: 'saved' })
    const file = join(dir, 'cli-backup.db')
    const backup = cli(['backup', file], { DATA_DIR: source })
    expect(backup.exitCode).toBe(0)
    expect(backup.stdout.toString()).toContain('integrity: ok')
    // a file that is there already is left alone, with one plain line saying why
    const again = cli(['backup', file], { DATA_DIR: source })
    expect([again.exitCode, again.stderr.toString().trim()]).toEqual([
      1,
      `observatory: cannot back up to ${file}: ${file} already exists`,
    ])
    db.$client.close()

    const target = join(dir, 'cli-target')
    expect(cli(['migrate'], { DATA_DIR: target }).exitCode).toBe(0)
    const restore = cli(['restore', file], { DATA_DIR: target })
    expect(restore.exitCode).toBe(0)
    expect(restore.stdout.toString()).toContain('previous database is kept')
    const restored = new Database(join(target, 'observatory.db'), { readonly: true })
    expect(restored.query('SELECT title FROM conversations').all()).toEqual([{ title: 'to be saved' }])
    restored.close()

    // not while another process has the database open; the database is then left as it was
    const holder = openDatabase(join(target, 'observatory.db'))
    holder.$client.exec("UPDATE conversations SET title = 'still here'")
    const refused = cli(['restore', file], { DATA_DIR: target })
    expect([refused.exitCode, refused.stderr.toString().trim()]).toEqual([
      1,
      `observatory: cannot restore from ${file}: ${join(target, 'observatory.db')} is open in another process (a running server or import): stop it first`,
    ])
    expect(holder.$client.query('SELECT title FROM conversations').all()).toEqual([{ title: 'still here' }])

    // what only the WAL held (a process that died without closing) stays in the kept file
    const crashed = join(dir, 'cli-crashed')
    mkdirSync(crashed)
    for (const suffix of ['', '-wal'])
      copyFileSync(join(target, `observatory.db${suffix}`), join(crashed, `observatory.db${suffix}`))
    holder.$client.close()
    expect(statSync(join(crashed, 'observatory.db-wal')).size).toBeGreaterThan(0)
    const fromCrash = cli(['restore', file], { DATA_DIR: crashed })
    expect(fromCrash.exitCode).toBe(0)
    // its WAL folded in, so kept as one file
    const keptFiles = readdirSync(crashed).filter((f) => f.includes('before-restore'))
    expect(keptFiles).toHaveLength(1)
    const keptName = keptFiles[0] ?? ''
    const kept = new Database(join(crashed, keptName), { readonly: true })
    expect(kept.query('SELECT title FROM conversations').all()).toEqual([{ title: 'still here' }])
    kept.close()

    const bad = cli(['restore', join(dir, 'nope.db')], { DATA_DIR: target })
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr.toString()).toContain('cannot restore')
    expect(cli(['backup'], { DATA_DIR: target }).exitCode).toBe(2)
  })
})
