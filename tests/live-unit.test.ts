import { describe, expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { type Db, openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createMemoryBus, type LiveEvent, type NewLiveEvent } from '../src/lib/bus'
import { createPricing } from '../src/lib/pricing'
import { createIngestRepository } from '../src/modules/ingest/repository'
import { createIngestService } from '../src/modules/ingest/service'
import { createJobRepository } from '../src/modules/jobs/repository'
import { createJobQueue, JobInterrupted } from '../src/modules/jobs/service'
import { MAX_UNREAD_BYTES } from '../src/modules/live'
import { relayOtherWriters } from '../src/modules/live/relay'
import { createLiveService, type LiveMessage } from '../src/modules/live/service'
import { fixtureFiles } from './fixture-expectations'
import { json, makeApp } from './helpers'

const event = (ownerId: string, extra: Partial<NewLiveEvent> = {}) => ({ type: 'event', ownerId, data: {}, ...extra })
/** The data an event carries, as subscribers read it. */
const dataOf = (e: LiveEvent) => JSON.parse(e.json).data

describe('event bus', () => {
  it('replays what is still in its window and reports a gap otherwise', () => {
    const bus = createMemoryBus({ replay: 3, firstId: 1 })
    const seen: number[] = []
    const unsubscribe = bus.subscribe((e) => seen.push(e.id))
    for (let i = 0; i < 5; i++) bus.publish(event('u'))
    expect(seen).toEqual([1, 2, 3, 4, 5])
    expect(bus.since(2)?.map((e) => e.id)).toEqual([3, 4, 5])
    expect(bus.since(4)?.map((e) => e.id)).toEqual([5])
    expect(bus.since(5)).toEqual([])
    expect(bus.since(1)).toBeNull()
    expect(bus.since(6)).toBeNull() // not an id of this bus (a client's from before a restart, say)
    unsubscribe()
    bus.publish(event('u'))
    expect(seen).toHaveLength(5)
  })

  it('numbers events above every id of an earlier run, so a resumed client is told to start again', async () => {
    const before = createMemoryBus()
    let kept = 0
    before.subscribe((e) => {
      kept = e.id
    })
    before.publish(event('u'))
    await Bun.sleep(2) // the server started again, later
    const after = createMemoryBus()
    let next = 0
    after.subscribe((e) => {
      next = e.id
    })
    after.publish(event('u'))
    expect(next).toBeGreaterThan(kept)
    expect(after.since(kept)).toBeNull() // older than the new window: a reset, never a silent gap
  })

  it('keeps at most replayBytes of serialised events, the newest always', () => {
    const big = (n: number) => event('u', { data: { text: 'x'.repeat(n) } })
    const bus = createMemoryBus({ replayBytes: 2500, firstId: 1 })
    bus.publish(big(1000))
    bus.publish(big(1000))
    const sizes = bus.since(0)?.map((e) => e.json.length) ?? []
    expect(sizes).toHaveLength(2)
    expect(sizes.every((n) => n > 1000 && n < 1250)).toBe(true)
    bus.publish(big(1000))
    expect(bus.since(0)).toBeNull()
    expect(bus.since(1)?.map((e) => e.id)).toEqual([2, 3])
    bus.publish(big(5000))
    expect(bus.since(3)?.map((e) => e.id)).toEqual([4])
    expect(bus.since(2)).toBeNull()
    expect(JSON.parse((bus.since(3)?.[0] as LiveEvent).json)).toEqual({
      type: 'event',
      data: { text: 'x'.repeat(5000) },
      id: 4,
      at: expect.any(String),
    })
  })
})

describe('live subscriptions', () => {
  const setup = (active = { value: true }) => {
    const bus = createMemoryBus({ firstId: 1 })
    const live = createLiveService({
      bus,
      heartbeatMs: 20,
      isActive: async () => active.value,
      placementOfSession: async (id) =>
        id === 's-placed' ? { projectId: 'p1', machineId: 'm1', workspaceId: 'w1' } : null,
    })
    return { bus, live, active }
  }

  it("sends a member only their own matching events, and an admin everyone's", async () => {
    const { bus, live } = setup()
    const mine: LiveMessage[] = []
    const admin: LiveMessage[] = []
    const stopMine = live.subscribe(
      { id: 'a', role: 'member' },
      { types: ['event'] },
      null,
      (m) => mine.push(m),
      () => {},
    )
    const stopAdmin = live.subscribe(
      { id: 'root', role: 'admin' },
      {},
      null,
      (m) => admin.push(m),
      () => {},
    )
    bus.publish(event('a'))
    bus.publish(event('b'))
    bus.publish(event('a', { type: 'message' }))
    await Bun.sleep(5)
    const ids = (ms: LiveMessage[]) => ms.flatMap((m) => (m.kind === 'event' ? [m.event.id] : []))
    expect(ids(mine)).toEqual([1])
    expect(ids(admin)).toEqual([1, 2, 3])
    stopMine()
    stopAdmin()
  })

  it('filters by project, machine and workspace, looking up where a session ran when the event does not say', async () => {
    const { bus, live } = setup()
    const got: LiveMessage[] = []
    const stop = live.subscribe(
      { id: 'a', role: 'member' },
      { projectId: 'p1', machineId: 'm1' },
      null,
      (m) => got.push(m),
      () => {},
    )
    bus.publish(event('a', { projectId: 'p1', machineId: 'm1', workspaceId: 'w9' }))
    bus.publish(event('a', { projectId: 'p2', machineId: 'm1' }))
    bus.publish(event('a', { sessionId: 's-placed' }))
    bus.publish(event('a', { sessionId: 's-elsewhere' }))
    await Bun.sleep(5)
    expect(got.flatMap((m) => (m.kind === 'event' ? [m.event.id] : []))).toEqual([1, 3])
    stop()
  })

  it('replays from the last id, says reset when the gap is too old, beats, and closes when the user is gone', async () => {
    const active = { value: true }
    const { bus, live } = setup(active)
    bus.publish(event('a'))
    bus.publish(event('a'))
    const replayed: LiveMessage[] = []
    const stop = live.subscribe(
      { id: 'a', role: 'member' },
      {},
      1,
      (m) => replayed.push(m),
      () => {},
    )
    await Bun.sleep(5)
    expect(replayed[0]).toMatchObject({ kind: 'event', event: { id: 2 } })
    await Bun.sleep(50)
    expect(replayed.some((m) => m.kind === 'heartbeat')).toBe(true)
    stop()

    const small = createMemoryBus({ replay: 1, firstId: 1 })
    small.publish(event('a'))
    small.publish(event('a'))
    const service = createLiveService({
      bus: small,
      heartbeatMs: 20,
      isActive: async () => active.value,
      placementOfSession: async () => null,
    })
    const reset: LiveMessage[] = []
    let closed = false
    service.subscribe(
      { id: 'a', role: 'member' },
      {},
      0,
      (m) => reset.push(m),
      () => {
        closed = true
      },
    )
    expect(reset[0]).toEqual({ kind: 'reset' })
    active.value = false
    await Bun.sleep(60)
    expect(closed).toBe(true)
  })

  it('serves tickets once', async () => {
    const { live } = setup()
    const { ticket } = live.issueTicket({ id: 'a', role: 'member' })
    expect(await live.redeemTicket(ticket)).toEqual({ id: 'a', role: 'member' })
    expect(await live.redeemTicket(ticket)).toBeUndefined()
    expect(await live.redeemTicket('made-up')).toBeUndefined()
  })
})

describe('SSE in-process', () => {
  it('streams an event, then resumes from Last-Event-ID', async () => {
    const { raw, alice } = await makeApp()
    const read = async (r: Response, until: (text: string) => boolean) => {
      const reader = r.body!.getReader()
      let text = ''
      while (!until(text)) text += new TextDecoder().decode((await reader.read()).value)
      await reader.cancel()
      return text
    }
    const stream = await raw('/api/live/stream')
    expect(stream.headers.get('content-type')).toContain('text/event-stream')
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'k' })).data!.key
    const hook = { session_id: 's', hook_event_name: 'Stop', cwd: '/x' }
    await raw('/api/hooks/claude-code', json('POST', hook, { 'x-api-key': key }))
    const first = await read(stream, (t) => t.includes('event: event'))
    const id = first.match(/id: (\d+)/)![1]!
    await raw('/api/hooks/claude-code', json('POST', { ...hook, hook_event_name: 'SessionEnd' }, { 'x-api-key': key }))
    const resumed = await raw('/api/live/stream', { headers: { 'last-event-id': id } })
    const text = await read(resumed, (t) => t.includes('SessionEnd'))
    expect(text).toContain(`id: ${Number(id) + 1}`)
    expect(text).not.toContain('"hook_event_name":"Stop"')
  })
})

describe('WebSocket in-process', () => {
  it('sends events to a socket opened with a ticket or with a credential header, and refuses one with neither', async () => {
    const { app, api, alice } = await makeApp()
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const base = `ws://127.0.0.1:${server.server!.port}/api/live`
      const ticket = (await api.api.live.ticket.post()).data!.ticket
      const open = (url: string, headers?: Record<string, string>) =>
        new Promise<{ ws: WebSocket; messages: unknown[] } | 'refused'>((resolve) => {
          const ws = new WebSocket(url, { headers } as unknown as string[])
          const messages: unknown[] = []
          ws.onmessage = (m) => messages.push(JSON.parse(String(m.data)))
          ws.onopen = () => resolve({ ws, messages })
          ws.onerror = () => resolve('refused')
        })
      const byTicket = await open(`${base}?ticket=${ticket}&type=message`)
      const byHeader = await open(base, { authorization: `Bearer ${alice.token}` })
      expect(await open(base)).toBe('refused')
      if (byTicket === 'refused' || byHeader === 'refused') throw new Error('socket refused')
      const c = (await api.api.conversations.post({ title: 'live' })).data!
      await api.api.conversations({ id: c.id }).messages.post({ role: 'user', content: 'hello live' })
      for (let i = 0; i < 200 && (byTicket.messages.length === 0 || byHeader.messages.length === 0); i++)
        await Bun.sleep(10)
      expect(byTicket.messages).toHaveLength(1)
      expect(byTicket.messages[0]).toMatchObject({ type: 'message', sessionId: c.id, data: { text: 'hello live' } })
      expect(byHeader.messages[0]).toMatchObject({ type: 'message' })
      byTicket.ws.close()
      byHeader.ws.close()
    } finally {
      await app.stop(true)
    }
  })
})

describe('shutdown', () => {
  it('ends every event stream and socket, so the server drains without waiting for them', async () => {
    const { app, alice } = await makeApp()
    const server = app.listen({ port: 0, hostname: '127.0.0.1' })
    const base = `127.0.0.1:${server.server!.port}/api/live`
    const stream = await fetch(`http://${base}/stream`, { headers: { authorization: `Bearer ${alice.token}` } })
    const reader = stream.body!.getReader()
    await reader.read() // the retry line: the stream is open
    const ws = new WebSocket(`ws://${base}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    } as unknown as string[])
    await new Promise((resolve) => {
      ws.onopen = resolve
    })
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })
    })
    await app.shutdown()
    // the stream ends cleanly, with no revoked event; the socket is told the server is going away
    const rest: string[] = []
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(new TextDecoder().decode(r.value))
    expect(rest.join('')).not.toContain('revoked')
    expect(await closed).toEqual({ code: 1001, reason: 'server shutting down' })
    // a stream opened while the server stops ends at once
    const late = await fetch(`http://${base}/stream`, { headers: { authorization: `Bearer ${alice.token}` } })
    expect(await late.text()).toBe('retry: 2000\n\n')
    // nothing holds the server open now (before, this waited for the clients to leave)
    await server.server!.stop(false)
  })
})

describe('job queue', () => {
  const queueWith = (handler: Parameters<typeof createJobQueue>[0]['handlers'][string]) => {
    const db = openDatabase(':memory:')
    runMigrations(db)
    const repo = createJobRepository(db)
    return { repo, queue: createJobQueue({ repo, logger: pino({ level: 'silent' }), handlers: { work: handler } }) }
  }

  it('retries a failing job, then marks it failed with the error', async () => {
    let calls = 0
    const { repo, queue } = queueWith(async () => {
      calls++
      throw new Error('disk on fire')
    })
    const job = await queue.enqueue('work', {})
    queue.start()
    for (let i = 0; i < 300 && (await repo.find(job.id))?.status !== 'failed'; i++) await Bun.sleep(10)
    await queue.stop()
    expect(calls).toBe(3)
    expect(await repo.find(job.id)).toMatchObject({ status: 'failed', attempts: 3, lastError: 'disk on fire' })
  })

  it('puts a job it was asked to stop back in the queue, untouched', async () => {
    let started = false
    const { repo, queue } = queueWith(async (_payload, { signal }) => {
      started = true
      await new Promise((resolve) => signal.addEventListener('abort', resolve))
      throw new JobInterrupted()
    })
    const job = await queue.enqueue('work', { n: 1 })
    queue.start()
    for (let i = 0; i < 300 && !started; i++) await Bun.sleep(5)
    await queue.stop()
    expect(await repo.find(job.id)).toMatchObject({ status: 'pending', leaseUntil: null })
  })

  it('claims a running job again once its lease has run out (its worker died)', async () => {
    const { repo } = queueWith(async () => {})
    const job = await repo.enqueue('work', {}, 1000)
    expect((await repo.claim(1000, 100))?.id).toBe(job.id)
    expect(await repo.claim(1050, 100)).toBeUndefined()
    await repo.renew(job.id, 1050, 100)
    expect(await repo.claim(1120, 100)).toBeUndefined()
    expect((await repo.claim(1200, 100))?.attempts).toBe(2)
  })
})

/** From the transcript lines themselves: each uuid line's type and time, and the tool calls started and completed. */
function transcriptFacts(files: string[]) {
  const lines = new Map<string, { type: string; timestamp: string }>()
  const started = new Set<string>()
  const completed = new Set<string>()
  for (const f of files)
    for (const text of readFileSync(f, 'utf8').split('\n')) {
      let v: { uuid?: string; sessionId?: string; type: string; timestamp: string; message?: { content?: unknown } }
      try {
        v = JSON.parse(text)
      } catch {
        continue
      }
      if (v.uuid && v.sessionId && !lines.has(v.uuid)) lines.set(v.uuid, { type: v.type, timestamp: v.timestamp })
      const blocks = Array.isArray(v.message?.content) ? (v.message.content as { type?: string; id?: string }[]) : []
      for (const b of blocks) {
        if (b.type === 'tool_use' && b.id) started.add(b.id)
        if (b.type === 'tool_result') completed.add((b as { tool_use_id: string }).tool_use_id)
      }
    }
  return { lines, started, completed }
}

/** Every stored message told exactly once, as its line says, and each tool call last told in its final state. */
function expectChangesTold(events: LiveEvent[], db: Db, files: string[]) {
  type Told = {
    messages: { id: string; type: string; timestamp: string }[]
    tool_calls: { id: string; status: string }[]
  }
  const told = events.map((e) => dataOf(e) as Told)
  const ids = told.flatMap((d) => d.messages.map((m) => m.id))
  const stored = db.$client
    .query<{ id: string }, []>('SELECT id FROM messages')
    .all()
    .map((r) => r.id)
  expect(ids.length).toBe(new Set(ids).size)
  expect(ids.toSorted()).toEqual(stored.toSorted())
  const { lines, started, completed } = transcriptFacts(files)
  for (const m of told.flatMap((d) => d.messages)) {
    const line = lines.get(m.id)
    if (line) expect(m.type).toBe(line.type)
    // (a line without a time takes the one before it)
    if (line?.timestamp) expect(m.timestamp).toBe(new Date(line.timestamp).toISOString())
  }
  expect([...lines.keys()].filter((id) => !ids.includes(id))).toEqual([])
  const last = new Map(told.flatMap((d) => d.tool_calls.map((c) => [c.id, c.status] as const)))
  expect(started.size).toBeGreaterThan(0)
  for (const id of started) expect([id, last.get(id)]).toEqual([id, completed.has(id) ? 'completed' : 'started'])
}

const withOwner = (db: Db) =>
  db.$client
    .query(
      `INSERT INTO users (id, email, password_hash, display_name, role, created_at, updated_at)
       VALUES ('owner-1', 'owner@example.com', 'x', 'Owner', 'member', 0, 0)`,
    )
    .run()

describe('imports on the bus', () => {
  it('tell, per conversation and chunk, the messages they added and the tool calls as they left them', async () => {
    const db = openDatabase(':memory:')
    runMigrations(db)
    withOwner(db)
    const bus = createMemoryBus({ firstId: 1 })
    const seen: LiveEvent[] = []
    bus.subscribe((e) => seen.push(e))
    const ingest = createIngestService(createIngestRepository(db), { pricing: createPricing({}), bus })
    const files = fixtureFiles()
    for (const f of files) await ingest.importFile({ ownerId: 'owner-1', path: f, sourceKey: f, displayName: f })
    expect(seen.every((e) => e.type === 'conversation.updated' && e.ownerId === 'owner-1')).toBe(true)
    expectChangesTold(seen, db, files)
    const count = seen.length
    for (const f of files) await ingest.importFile({ ownerId: 'owner-1', path: f, sourceKey: f, displayName: f })
    expect(seen).toHaveLength(count)
  })
})

describe('imports by another process on the same database', () => {
  it('reach the bus as conversation.updated with what they added, and nothing comes while that process is idle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'observatory-relay-'))
    const path = join(dir, 'observatory.db')
    const server = openDatabase(path)
    runMigrations(server)
    withOwner(server)
    const bus = createMemoryBus({ firstId: 1 })
    const seen: LiveEvent[] = []
    bus.subscribe((e) => seen.push(e))
    // 100 messages a look: the import is caught up over many looks
    const repo = createIngestRepository(server)
    const relay = relayOtherWriters({ db: server, repo, bus, pollMs: 10, messagesPerLook: 100 })
    // the CLI: its own connection, its own ingest service
    const cli = openDatabase(path)
    const ingest = createIngestService(createIngestRepository(cli), { pricing: createPricing({}) })
    const files = fixtureFiles().filter((f) => !f.includes('/subagents/'))
    for (const f of files) await ingest.importFile({ ownerId: 'owner-1', path: f, sourceKey: f, displayName: f })
    const imported = cli.$client
      .query<{ id: string }, []>('SELECT id FROM conversations ORDER BY id')
      .all()
      .map((r) => r.id)
    expect(imported.length).toBeGreaterThan(1)
    const stored = (cli.$client.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    const told = () => seen.reduce((n, e) => n + dataOf(e).messages.length, 0)
    for (let i = 0; i < 300 && told() < stored; i++) await Bun.sleep(10)
    expect([...new Set(seen.map((e) => e.sessionId))].sort()).toEqual(imported)
    expect(seen.every((e) => e.type === 'conversation.updated' && e.ownerId === 'owner-1')).toBe(true)
    expectChangesTold(seen, server, files)
    const count = seen.length
    // the same files again add nothing: no conversation changes, no event
    for (const f of files) await ingest.importFile({ ownerId: 'owner-1', path: f, sourceKey: f, displayName: f })
    await Bun.sleep(100)
    expect(seen).toHaveLength(count)
    relay.stop()
    cli.$client.close()
    server.$client.close()
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('event stream', () => {
  it('lets go of a client that stops reading once it would hold more than MAX_UNREAD_BYTES for it', async () => {
    const { app, alice } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'stream' })).data!.key
    const stream = await app.handle(new Request('http://localhost/api/live/stream', { headers: { 'x-api-key': key } }))
    const reader = stream.body!.getReader()
    await reader.read() // the retry line; then the client reads nothing while events pile up
    const text = 'x'.repeat(5000)
    const batches = Math.ceil((2 * MAX_UNREAD_BYTES) / (1000 * text.length)) // twice what a stream may hold
    for (let b = 0; b < batches; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({
        event_id: `${b}-${i}`,
        type: 'build',
        payload: { text },
      }))
      const posted = await app.handle(
        new Request('http://localhost/api/events', json('POST', { events }, { 'x-api-key': key })),
      )
      expect(posted.status).toBe(200)
    }
    await Bun.sleep(1000) // the events are handed to the stream while its client reads nothing
    // what was held comes through, then the stream ends rather than keep growing
    let held = 0
    for (let chunk = await reader.read(); !chunk.done && held <= 2 * MAX_UNREAD_BYTES; chunk = await reader.read())
      held += chunk.value.byteLength
    expect(held).toBeGreaterThan(MAX_UNREAD_BYTES)
    expect(held).toBeLessThan(MAX_UNREAD_BYTES + 64 * 1024 + 10_000)
  }, 30_000)
})
