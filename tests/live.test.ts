import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { treaty } from '@elysiajs/eden'
import type { App } from '../src/app'
import { createClient } from '../src/client'
import { type ServerProcess, startServer } from './server-process'

const dir = mkdtempSync(join(tmpdir(), 'observatory-live-'))
let server: ServerProcess
let adminToken = ''

/** A user with an API key, through the public API. */
async function account(name: string) {
  const anon = createClient(server.url)
  await anon.api.auth.register.post({ email: `${name}@example.com`, password: 'a long passphrase', display_name: name })
  const login = await anon.api.auth.login.post({ email: `${name}@example.com`, password: 'a long passphrase' })
  const token = login.data!.access_token
  const key = (await createClient(server.url, { token }).api.auth['api-keys'].post({ name })).data!.key
  return { key, token, api: createClient(server.url, { apiKey: key }) }
}

type Sse = { id?: string; event?: string; data?: string }

/** Opens an SSE stream and collects its events; `until` resolves once `n` events (not heartbeats) arrived. */
function subscribe(headers: Record<string, string>, query = '') {
  const events: Sse[] = []
  const controller = new AbortController()
  const opened = fetch(`${server.url}/api/live/stream${query}`, { headers, signal: controller.signal })
  const done = opened.then(async (r) => {
    if (r.status !== 200) return r.status
    const reader = r.body!.getReader()
    let buffer = ''
    try {
      while (true) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += new TextDecoder().decode(value)
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const e: Sse = {}
          for (const line of block.split('\n')) {
            const [k, ...v] = line.split(': ')
            if (k === 'id' || k === 'event' || k === 'data') e[k] = v.join(': ')
          }
          if (e.event) events.push(e)
          end = buffer.indexOf('\n\n')
        }
      }
    } catch {}
    return 200
  })
  const until = async (n: number, timeout = 3000) => {
    const start = Date.now()
    while (events.length < n && Date.now() - start < timeout) await Bun.sleep(10)
    return events
  }
  return { events, until, close: () => controller.abort(), done, opened }
}

const hook = (session: string, name: string) => ({
  session_id: session,
  hook_event_name: name,
  cwd: '/src/shop',
  permission_mode: 'default',
})

beforeAll(async () => {
  server = await startServer({ DATA_DIR: dir, ALLOW_SIGNUP: 'true' })
})
afterAll(async () => {
  server.proc.kill('SIGTERM')
  await server.proc.exited
  rmSync(dir, { recursive: true, force: true })
})

describe('live updates', () => {
  it('streams hook events over SSE and resumes after a dropped connection without a gap', async () => {
    const ada = await account('ada')
    adminToken = ada.token
    const first = subscribe({ 'x-api-key': ada.key })
    await first.opened
    await ada.api.api.hooks['claude-code'].post(hook('s-live', 'SessionStart'))
    const [started] = await first.until(1)
    expect(started?.event).toBe('event')
    expect(JSON.parse(started!.data!).data.type).toBe('SessionStart')
    expect(JSON.parse(started!.data!).ownerId).toBeUndefined()
    first.close()

    // two events while disconnected, then resume from the last id seen
    await ada.api.api.hooks['claude-code'].post(hook('s-live', 'UserPromptSubmit'))
    await ada.api.api.hooks['claude-code'].post(hook('s-live', 'Stop'))
    const resumed = subscribe({ 'x-api-key': ada.key, 'last-event-id': started!.id! })
    const missed = await resumed.until(2)
    expect(missed.map((e) => JSON.parse(e.data!).data.type)).toEqual(['UserPromptSubmit', 'Stop'])
    expect(Number(missed[0]!.id)).toBe(Number(started!.id) + 1)
    resumed.close()
  })

  it('filters by session and type, and never shows another user anything', async () => {
    const ada = await account('ada2')
    const eve = await account('eve')
    const eveStream = subscribe({ 'x-api-key': eve.key })
    const filtered = subscribe({ 'x-api-key': ada.key }, '?session_id=s-wanted&type=event')
    await Promise.all([eveStream.opened, filtered.opened])
    await ada.api.api.hooks['claude-code'].post(hook('s-other', 'Stop'))
    await ada.api.api.hooks['claude-code'].post(hook('s-wanted', 'Stop'))
    const got = await filtered.until(1)
    await Bun.sleep(200)
    expect(got.map((e) => JSON.parse(e.data!).sessionId)).toEqual(['s-wanted'])
    expect(eveStream.events).toEqual([])
    filtered.close()
    eveStream.close()
  })

  it('refuses a stream without a credential', async () => {
    const r = await fetch(`${server.url}/api/live/stream`)
    expect(r.status).toBe(401)
    const key = await fetch(`${server.url}/api/live/stream?api_key=obs_x`)
    expect(key.status).toBe(401)
  })

  it('delivers the same events over a WebSocket opened with Eden subscribe() and a one-time ticket', async () => {
    const ada = await account('ada3')
    const ticket = (await ada.api.api.live.ticket.post()).data!.ticket
    const api = treaty<App>(server.url)
    const ws = api.api.live.subscribe({ query: { ticket } })
    const received: unknown[] = []
    ws.subscribe((m) => received.push(m.data))
    await new Promise<void>((resolve) => ws.on('open', () => resolve()))
    await ada.api.api.hooks['claude-code'].post(hook('s-ws', 'Notification'))
    for (let i = 0; i < 300 && received.length === 0; i++) await Bun.sleep(10)
    expect((received[0] as { data: { type: string } }).data.type).toBe('Notification')
    ws.close()
    // a ticket is single use
    const again = api.api.live.subscribe({ query: { ticket } })
    const closed = await new Promise<boolean>((resolve) => {
      again.on('open', () => resolve(false))
      again.on('error', () => resolve(true))
      again.on('close', () => resolve(true))
    })
    expect(closed).toBe(true)

    // a WebSocket resumes as SSE does: everything after last_event_id, none of it twice
    const firstId = (received[0] as { id: number }).id
    await ada.api.api.hooks['claude-code'].post(hook('s-ws', 'Stop'))
    await ada.api.api.hooks['claude-code'].post(hook('s-ws', 'SessionEnd'))
    const resumed = api.api.live.subscribe({
      query: { ticket: (await ada.api.api.live.ticket.post()).data!.ticket, last_event_id: String(firstId) },
    })
    const replayed: { id: number; data: { type: string } }[] = []
    resumed.subscribe((m) => replayed.push(m.data as (typeof replayed)[number]))
    for (let i = 0; i < 300 && replayed.length < 2; i++) await Bun.sleep(10)
    expect(replayed.map((e) => e.data.type)).toEqual(['Stop', 'SessionEnd'])
    expect(replayed.every((e) => e.id > firstId)).toBe(true)
    resumed.close()
  })

  it('cuts the stream of a user who is deleted', async () => {
    const victim = await account('victim')
    const stream = subscribe({ 'x-api-key': victim.key })
    await stream.opened
    const admin = createClient(server.url, { token: adminToken })
    const me = await victim.api.api.auth.me.get()
    expect((await admin.api.users({ id: me.data!.id }).delete()).status).toBe(204)
    const result = await Promise.race([stream.done.then(() => 'ended'), Bun.sleep(8000).then(() => 'still open')])
    expect(result).toBe('ended')
  }, 10_000)

  it('cuts a stream whose API key is revoked, at its next heartbeat', async () => {
    const owner = await account('revoker')
    const spare = (await owner.api.api.auth['api-keys'].post({ name: 'stream' })).data!
    const stream = subscribe({ 'x-api-key': spare.key })
    await stream.opened
    expect((await owner.api.api.auth['api-keys']({ id: spare.id }).delete()).status).toBe(204)
    const result = await Promise.race([stream.done.then(() => 'ended'), Bun.sleep(8000).then(() => 'still open')])
    expect(result).toBe('ended')
    expect(stream.events.map((e) => e.event)).toEqual(['revoked'])
  }, 10_000)
})
