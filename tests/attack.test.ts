import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { createClient } from '../src/client'
import { type ServerProcess, startServer } from './server-process'

const dir = mkdtempSync(join(tmpdir(), 'observatory-attack-'))
const imports = join(dir, 'imports')
mkdirSync(imports)
const SECRET = 's'.repeat(48)
const LIMIT = 20_000 // MAX_BODY_MB below, in bytes
let server: ServerProcess
let token = ''
let userId = ''

beforeAll(async () => {
  server = await startServer({
    DATA_DIR: join(dir, 'data'),
    JWT_SECRET: SECRET,
    MAX_BODY_MB: String(LIMIT / 1024 / 1024),
    IMPORT_ROOTS: imports,
  })
  const anon = createClient(server.url)
  userId = (
    await anon.api.auth.register.post({ email: 'ada@example.com', password: 'a long passphrase', display_name: 'Ada' })
  ).data!.id
  token = (await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })).data!
    .access_token
})
afterAll(async () => {
  server.proc.kill('SIGTERM')
  await server.proc.exited
  rmSync(dir, { recursive: true, force: true })
})

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
  })

describe('limits, over a real socket', () => {
  it('takes a body just under and at the limit, and refuses one just over with 413', async () => {
    const sized = (n: number) => {
      const shell = JSON.stringify({ title: 'x', metadata: { pad: '' } })
      return JSON.stringify({ title: 'x', metadata: { pad: 'p'.repeat(n - shell.length) } })
    }
    expect((await post('/api/conversations', sized(LIMIT - 1))).status).toBe(201)
    expect((await post('/api/conversations', sized(LIMIT))).status).toBe(201)
    const over = await post('/api/conversations', sized(LIMIT + 1))
    expect(over.status).toBe(413)
    expect(((await over.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('answers absurd pages, deep nesting and huge searches with a 4xx', async () => {
    const get = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    expect((await get('/api/conversations?limit=1000000000')).status).toBe(422)
    expect((await get('/api/conversations?offset=-5')).status).toBe(422)
    const terms = Array.from({ length: 10_000 }, (_, i) => `t${i}`).join(' ')
    const search = await fetch(`${server.url}/api/search`, { headers: { authorization: `Bearer ${token}` } }).then(() =>
      get(`/api/search?q=${encodeURIComponent(terms.slice(0, 9_999))}`),
    )
    expect(search.status).toBe(400)
    const nested = await post('/api/conversations', `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, LIMIT - 10))
    expect(nested.status).toBeGreaterThanOrEqual(400)
    expect(nested.status).toBeLessThan(500)
  })

  it('skips a 100 MB line in a transcript without holding it, and imports the rest', async () => {
    const path = join(imports, 'huge-line.jsonl')
    const fd = openSync(path, 'w')
    const line = (uuid: string) =>
      `${JSON.stringify({ type: 'user', uuid, sessionId: 'huge', timestamp: '2026-01-01T00:00:00Z', message: { role: 'user', content: uuid } })}\n`
    writeSync(fd, line('before'))
    writeSync(fd, '{"pad":"')
    const chunk = 'x'.repeat(1024 * 1024)
    for (let i = 0; i < 100; i++) writeSync(fd, chunk)
    writeSync(fd, '"}\n')
    writeSync(fd, line('after'))
    closeSync(fd)
    const api = createClient(server.url, { token })
    const started = await api.api.files['import-path'].post({ path })
    const id = started.data!.items[0]!.id
    let file = (await api.api.files({ id }).get()).data
    for (let i = 0; i < 1000 && file?.status !== 'completed'; i++) {
      await Bun.sleep(20)
      file = (await api.api.files({ id }).get()).data
    }
    expect(file).toMatchObject({ status: 'completed', lines_done: 3, messages_added: 2, lines_skipped: 1 })
    expect(file?.first_errors.map((e) => [e.line, e.reason])).toEqual([[2, 'line_too_long']])
    rmSync(path)
  }, 30_000)

  it('does not let a client that trickles its headers hold up others', async () => {
    const { port, hostname } = new URL(server.url)
    const slow = connect(Number(port), hostname)
    await new Promise((resolve) => slow.once('connect', resolve))
    slow.write('GET /health HTTP/1.1\r\nHost: x\r\n')
    const started = performance.now()
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${server.url}/health`).then((r) => r.status)),
    )
    const took = performance.now() - started
    slow.write('X-Slow: 1\r\n')
    slow.destroy()
    expect(answers.every((s) => s === 200)).toBe(true)
    expect(took).toBeLessThan(5000) // not a timing test: only "not stuck behind the slow client"
  })
})

describe('auth under attack, over a real socket', () => {
  it('refuses every forged or broken token, and rate-limits a brute force with Retry-After', async () => {
    const key = new TextEncoder().encode(SECRET)
    const now = Math.floor(Date.now() / 1000)
    const claims = { typ: 'access', sub: userId, iss: 'observatory', aud: 'observatory-api', iat: now, exp: now + 600 }
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const forged = [
      `${b64({ alg: 'none' })}.${b64(claims)}.`,
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(key),
      await new SignJWT({ ...claims, exp: now - 10 }).setProtectedHeader({ alg: 'HS256' }).sign(key),
      await new SignJWT({ ...claims, aud: 'elsewhere' }).setProtectedHeader({ alg: 'HS256' }).sign(key),
      await new SignJWT({ ...claims, typ: 'refresh' }).setProtectedHeader({ alg: 'HS256' }).sign(key),
      await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('w'.repeat(48))),
    ]
    for (const t of forged) {
      const r = await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${t}` } })
      expect(r.status).toBe(401)
    }
    const good = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key)
    expect((await fetch(`${server.url}/api/auth/me`, { headers: { authorization: `Bearer ${good}` } })).status).toBe(
      200,
    )

    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 15; i++) {
      const r = await post('/api/auth/login', JSON.stringify({ email: 'ada@example.com', password: `guess ${i}` }))
      statuses.push(r.status)
      if (r.status === 429) retryAfter = r.headers.get('retry-after')
    }
    // one login in beforeAll already counted against this address
    expect(statuses.filter((s) => s === 401)).toHaveLength(9)
    expect(statuses.filter((s) => s === 429)).toHaveLength(6)
    expect(Number(retryAfter)).toBeGreaterThan(0)
  })
})
