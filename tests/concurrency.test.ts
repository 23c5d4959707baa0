import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '../src/client'
import { startServer } from './server-process'

const dir = mkdtempSync(join(tmpdir(), 'observatory-concurrency-'))
const dataDir = join(dir, 'data')
const watched = join(dir, 'projects', 'p')
mkdirSync(watched, { recursive: true })
const procs: Bun.Subprocess[] = []
afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all(procs.map((p) => p.exited))
  rmSync(dir, { recursive: true, force: true })
})
const root = join(import.meta.dir, '..')

const lines = (session: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      type: 'user',
      uuid: `${session}-${from + i}`,
      sessionId: session,
      timestamp: '2026-01-01T00:00:00Z',
      message: { role: 'user', content: `needle ${from + i}` },
    }),
  )
    .map((l) => `${l}\n`)
    .join('')

const count = (sql: string) => {
  const db = new Database(join(dataDir, 'observatory.db'), { readonly: true })
  try {
    return (db.query(sql).get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('the server and a CLI watch on one database', () => {
  it('serves readers without a 5xx while both write, ends with exact counts, and stores a file uploaded twice at once once', async () => {
    writeFileSync(join(watched, 'session-a.jsonl'), lines('a', 0, 2000))
    const server = await startServer({ DATA_DIR: dataDir })
    procs.push(server.proc)
    const url = server.url
    const anon = createClient(url)
    await anon.api.auth.register.post({ email: 'ada@example.com', password: 'a long passphrase', display_name: 'Ada' })
    const token = (await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })).data!
      .access_token
    const key = (await createClient(url, { token }).api.auth['api-keys'].post({ name: 'c' })).data!.key
    const api = createClient(url, { apiKey: key })

    const watch = Bun.spawn([process.execPath, join(root, 'src/cli.ts'), 'watch', join(dir, 'projects'), '--json'], {
      env: { ...process.env, DATA_DIR: dataDir },
      stdout: 'ignore',
      stderr: 'ignore',
    })
    procs.push(watch)

    const statuses: number[] = []
    let reading = true
    const readers = Array.from({ length: 4 }, async (_, r) => {
      for (let i = 0; reading && i < 400; i++) {
        const res =
          r % 2 ? await api.api.conversations.get({ query: {} }) : await api.api.search.get({ query: { q: 'needle' } })
        statuses.push(res.status)
      }
    })
    // the CLI follows appends while the server takes an upload and API writes
    for (let k = 1; k <= 5; k++) {
      appendFileSync(join(watched, 'session-a.jsonl'), lines('a', k * 2000, 500))
      await Bun.sleep(100)
    }
    const upload = await api.api.files.post({ file: new File([lines('b', 0, 3000)], 'b.jsonl') })
    const conv = (await api.api.conversations.post({ title: 'api writes' })).data!
    for (let i = 0; i < 50; i++)
      expect(
        (await api.api.conversations({ id: conv.id }).messages.post({ role: 'user', content: `w${i}` })).status,
      ).toBe(201)

    const expected = 2000 + 5 * 500 + 3000 + 50
    for (let i = 0; i < 1000 && count('SELECT count(*) AS n FROM messages') < expected; i++) await Bun.sleep(20)
    reading = false
    await Promise.all(readers)

    expect(statuses.length).toBeGreaterThan(0)
    expect(statuses.filter((s) => s >= 500)).toEqual([])
    expect(count('SELECT count(*) AS n FROM messages')).toBe(expected)
    expect(count("SELECT message_count AS n FROM conversations WHERE id = 'a'")).toBe(4500)
    expect((await api.api.files({ id: upload.data!.id }).get()).data?.status).toBe('completed')
    expect(count("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'needle'")).toBe(2000 + 2500 + 3000)

    // the same file uploaded twice at once: one set of rows
    const twice = lines('c', 0, 4000)
    const both = await Promise.all([0, 1].map(() => api.api.files.post({ file: new File([twice], 'c.jsonl') })))
    for (let i = 0; i < 1000; i++) {
      const s = await Promise.all(both.map((b) => api.api.files({ id: b.data!.id }).get()))
      if (s.every((f) => f.data?.status === 'completed')) break
      await Bun.sleep(20)
    }
    expect(count("SELECT count(*) AS n FROM messages WHERE conversation_id = 'c'")).toBe(4000)
    expect(count("SELECT message_count AS n FROM conversations WHERE id = 'c'")).toBe(4000)
  }, 60_000)
})
