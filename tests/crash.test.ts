import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '../src/client'
import { startServer as spawnServer } from './server-process'

const dir = mkdtempSync(join(tmpdir(), 'observatory-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A transcript big enough that an import is still running when it is killed: sessions of user/assistant pairs. */
function transcript(lines: number) {
  const out: string[] = []
  for (let i = 0; i < lines; i++) {
    const session = `crash-session-${i % 7}`
    const user = i % 2 === 0
    out.push(
      JSON.stringify({
        type: user ? 'user' : 'assistant',
        uuid: `crash-line-${i}`,
        sessionId: session,
        timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        message: user
          ? { role: 'user', content: `question ${i} ${'lorem ipsum '.repeat(20)}` }
          : {
              id: `msg-${i}`,
              role: 'assistant',
              model: 'claude-sonnet-4-5-20250929',
              content: [{ type: 'text', text: `answer ${i} ${'dolor sit amet '.repeat(20)}` }],
              usage: {
                input_tokens: 10,
                output_tokens: i % 100,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 5,
              },
            },
        requestId: user ? undefined : `req-${i}`,
      }),
    )
  }
  return `${out.join('\n')}\n`
}

const startServer = (dataDir: string) => spawnServer({ DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(40) })

/** Kills during one import; CRASH_TRIALS raises it for the long run. */
const TRIALS = Number(process.env.CRASH_TRIALS ?? 3)

describe('crash recovery', () => {
  it(
    'resumes an import killed with SIGKILL and ends with exact counts, no duplicates, no gaps',
    async () => {
      const dataDir = join(dir, 'data')
      const lines = 30_000
      const path = join(dir, 'big.jsonl')
      writeFileSync(path, transcript(lines))
      const assistantLines = lines / 2
      const expectedOutput = Array.from({ length: assistantLines }, (_, k) => (2 * k + 1) % 100).reduce(
        (a, b) => a + b,
        0,
      )

      let server = await startServer(dataDir)
      const anon = createClient(server.url)
      await anon.api.auth.register.post({
        email: 'ada@example.com',
        password: 'a long passphrase',
        display_name: 'Ada',
      })
      const login = await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })
      const key = (
        await createClient(server.url, { token: login.data?.access_token }).api.auth['api-keys'].post({ name: 'crash' })
      ).data!.key
      const api = createClient(server.url, { apiKey: key })
      const posted = await api.api.files.post({ file: new File([await Bun.file(path).bytes()], 'big.jsonl') })
      expect(posted.status).toBe(202)
      const id = posted.data!.id

      // kill it at random moments while it imports; each restart resumes the job
      let server2 = server
      let kills = 0
      for (let trial = 0; trial < TRIALS; trial++) {
        const client = createClient(server2.url, { apiKey: key })
        const target = Math.floor(Math.random() * lines * 0.6)
        let killed = false
        for (let i = 0; i < 3000 && !killed; i++) {
          const f = (await client.api.files({ id }).get()).data
          if (f?.status === 'completed') break
          if (f && f.status === 'processing' && f.lines_done >= target) {
            server2.proc.kill('SIGKILL')
            killed = true
            kills++
          }
          await Bun.sleep(3)
        }
        await server2.proc.exited
        const db = new Database(join(dataDir, 'observatory.db'))
        expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
        db.close()
        server2 = await startServer(dataDir)
      }
      server = server2
      expect(kills).toBeGreaterThan(0)

      const again = createClient(server.url, { apiKey: key })
      let file = (await again.api.files({ id }).get()).data
      for (let i = 0; i < 3000 && file?.status !== 'completed'; i++) {
        await Bun.sleep(10)
        file = (await again.api.files({ id }).get()).data
      }
      try {
        expect(file).toMatchObject({ status: 'completed', lines_done: lines, messages_added: lines, lines_skipped: 0 })
        const list = await again.api.conversations.get({ query: { limit: 50 } })
        expect(list.data?.total).toBe(7)
        const sum = (k: 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens') =>
          list.data!.items.reduce((n, c) => n + c.usage[k], 0)
        expect(list.data!.items.reduce((n, c) => n + c.message_count, 0)).toBe(lines)
        expect(sum('input_tokens')).toBe(10 * assistantLines)
        expect(sum('output_tokens')).toBe(expectedOutput)
        expect(sum('cache_read_input_tokens')).toBe(5 * assistantLines)
      } finally {
        server.proc.kill('SIGTERM')
        await server.proc.exited
      }
      const check = new Database(join(dataDir, 'observatory.db'))
      expect(check.query('SELECT count(*) AS n FROM messages').get()).toEqual({ n: lines })
      expect(check.query('SELECT count(*) AS n FROM raw_lines').get()).toEqual({ n: lines })
      expect(check.query("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'dolor'").get()).toEqual({
        n: assistantLines,
      })
      check.close()
    },
    60_000 + TRIALS * 15_000,
  )
})

describe('crash during batches of events', () => {
  it('after a SIGKILL mid-stream, re-sending every batch yields exact counts', async () => {
    const dataDir = join(dir, 'events')
    let server = await startServer(dataDir)
    const anon = createClient(server.url)
    await anon.api.auth.register.post({ email: 'ada@example.com', password: 'a long passphrase', display_name: 'Ada' })
    const login = await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })
    const key = (
      await createClient(server.url, { token: login.data?.access_token }).api.auth['api-keys'].post({ name: 'crash' })
    ).data!.key
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 1000 }, (_, i) => ({ event_id: `e-${b}-${i}`, type: 'tick', payload: { b, i } })),
    )
    const api = createClient(server.url, { apiKey: key })
    const killAfter = 2 + Math.floor(Math.random() * 10)
    let sent = 0
    for (const events of batches) {
      if (sent === killAfter) {
        // kill while a batch is on its way
        const inFlight = api.api.events.post({ events }).catch(() => null)
        await Bun.sleep(Math.random() * 20)
        server.proc.kill('SIGKILL')
        await inFlight
        break
      }
      expect((await api.api.events.post({ events })).data?.created).toBe(1000)
      sent++
    }
    await server.proc.exited
    server = await startServer(dataDir)
    const again = createClient(server.url, { apiKey: key })
    let created = 0
    let duplicates = 0
    for (const events of batches) {
      const r = (await again.api.events.post({ events })).data!
      created += r.created
      duplicates += r.duplicates
      expect(r.created + r.duplicates).toBe(1000)
    }
    server.proc.kill('SIGTERM')
    await server.proc.exited
    const db = new Database(join(dataDir, 'observatory.db'))
    expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
    expect(db.query('SELECT count(*) AS n FROM events').get()).toEqual({ n: 20_000 })
    db.close()
    expect(created + duplicates).toBe(20_000)
    // a batch is one transaction: what survived the kill is whole batches
    expect(duplicates % 1000).toBe(0)
  }, 60_000)
})
