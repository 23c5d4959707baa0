import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '../src/client'
import { startServer } from './server-process'

const dir = mkdtempSync(join(tmpdir(), 'observatory-server-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const entry = join(import.meta.dir, '../src/index.ts')

describe('the real server', () => {
  it('serves over HTTP on the data folder it creates, then shuts down cleanly on SIGTERM', async () => {
    const dataDir = join(dir, 'fresh', 'data')
    const { proc, url } = await startServer({ DATA_DIR: dataDir })
    try {
      expect(existsSync(join(dataDir, 'observatory.db'))).toBe(true)
      const health = await fetch(`${url}/health`)
      expect(health.status).toBe(200)
      const anon = createClient(url)
      const registered = await anon.api.auth.register.post({
        email: 'ada@example.com',
        password: 'a long passphrase',
        display_name: 'Ada',
      })
      expect(registered.data?.role).toBe('admin')
      const login = await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })
      const api = createClient(url, { token: login.data?.access_token })
      expect((await anon.api.conversations.get({ query: {} })).status).toBe(401)
      const created = await api.api.conversations.post({ title: 'over the wire' })
      expect(created.status).toBe(201)
      const list = await api.api.conversations.get({ query: {} })
      expect(list.data?.items.map((c) => c.title)).toEqual(['over the wire'])
      expect(typeof list.data?.items[0]?.created_at).toBe('string')
      const missing = await api.api.conversations({ id: 'nope' }).get()
      expect(missing.status).toBe(404)
      const swagger = await fetch(`${url}/swagger`)
      expect(swagger.status).toBe(200)
    } finally {
      proc.kill('SIGTERM')
    }
    expect(await proc.exited).toBe(0)
    // Shutdown checkpoints the WAL back into the database file.
    const wal = join(dataDir, 'observatory.db-wal')
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0)

    // A second start applies no migration again and keeps the data.
    const again = await startServer({ DATA_DIR: dataDir })
    try {
      const anon = createClient(again.url)
      const login = await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })
      const key = await createClient(again.url, { token: login.data?.access_token }).api.auth['api-keys'].post({
        name: 'ci',
      })
      const list = await createClient(again.url, { apiKey: key.data?.key }).api.conversations.get({ query: {} })
      expect(list.data?.total).toBe(1)
    } finally {
      again.proc.kill('SIGINT')
    }
    expect(await again.proc.exited).toBe(0)
  })

  it('folds the WAL back into the database file from its own thread, not in requests', async () => {
    const dataDir = join(dir, 'checkpoint', 'data')
    const { proc, url } = await startServer({ DATA_DIR: dataDir })
    try {
      const anon = createClient(url)
      await anon.api.auth.register.post({
        email: 'wal@example.com',
        password: 'a long passphrase',
        display_name: 'Wal',
      })
      const login = await anon.api.auth.login.post({ email: 'wal@example.com', password: 'a long passphrase' })
      const api = createClient(url, { token: login.data?.access_token })
      expect((await api.api.conversations.post({ title: 'checkpointed' })).status).toBe(201)
      // the main file alone (no -wal beside it) holds the row once a checkpoint has copied it there
      const copy = join(dir, 'checkpoint', 'main-only.db')
      let titles: string[] = []
      for (let i = 0; i < 40 && !titles.includes('checkpointed'); i++) {
        await Bun.sleep(100)
        copyFileSync(join(dataDir, 'observatory.db'), copy)
        rmSync(`${copy}-wal`, { force: true })
        // before the first checkpoint the main file may not even hold the schema yet; a copy taken mid-checkpoint
        // may be torn: both mean "not yet"
        try {
          const db = new Database(copy, { readonly: true })
          titles = (db.query('SELECT title FROM conversations').all() as { title: string }[]).map((r) => r.title)
          db.close()
        } catch {}
      }
      expect(titles).toEqual(['checkpointed'])
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  })

  it('refuses a port another server holds, instead of sharing its requests', async () => {
    const first = await startServer({ DATA_DIR: join(dir, 'port-1') })
    try {
      const port = new URL(first.url).port
      const second = Bun.spawn([process.execPath, entry], {
        env: { ...process.env, PORT: port, HOST: '127.0.0.1', DATA_DIR: join(dir, 'port-2') },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      expect(await second.exited).toBe(1)
      expect(await new Response(second.stderr).text()).toContain(`cannot listen on 127.0.0.1:${port}`)
      expect((await fetch(`${first.url}/health`)).status).toBe(200)
    } finally {
      first.proc.kill('SIGTERM')
      await first.proc.exited
    }
  })

  it('exits 1 naming the variable when the configuration is bad', async () => {
    const proc = Bun.spawn([process.execPath, entry], {
      env: { ...process.env, PORT: 'eighty', DATA_DIR: join(dir, 'bad') },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await proc.exited).toBe(1)
    const stderr = await new Response(proc.stderr).text()
    expect(stderr).toContain('PORT:')
    expect(existsSync(join(dir, 'bad'))).toBe(false)
  })
})
