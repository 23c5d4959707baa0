import { describe, expect, it } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { createSearchRepository, SEARCH_WINDOW } from '../src/modules/search/repository'
import { expectedBy, expectedResponses, fixtureFiles } from './fixture-expectations'
import { countRows, errorOf, makeApp } from './helpers'

type Ctx = Awaited<ReturnType<typeof makeApp>>

async function importAll(api: Ctx['api'], paths: string[]) {
  for (const path of paths) {
    const posted = await api.api.files.post({ file: new File([await Bun.file(path).bytes()], basename(path)) })
    for (let i = 0; i < 500; i++) {
      const f = (await api.api.files({ id: posted.data!.id }).get()).data
      if (f?.status === 'completed' || f?.status === 'error') break
      await Bun.sleep(10)
    }
  }
}

const fixtures = fixtureFiles()
const ctx = await makeApp()
await importAll(ctx.api, fixtures)
const responses = [...expectedResponses(fixtures).values()]
const four = (g?: {
  input_tokens: number
  output_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
}) => (g ? [g.input_tokens, g.output_tokens, g.cache_creation_input_tokens, g.cache_read_input_tokens] : undefined)

/** A new conversation of `app`'s user, and a way to post it a reply with `input` tokens at a given time. */
async function replies(app: Ctx, title: string) {
  const conversation = (await app.api.api.conversations.post({ title })).data!
  const post = (at: string, input: number) =>
    app.api.api.conversations({ id: conversation.id }).messages.post({
      role: 'assistant',
      content: 'ok',
      model: 'claude-sonnet-4-5-20250929',
      usage: { input_tokens: input, output_tokens: 1 },
      timestamp: at,
    })
  return { conversation, post }
}

describe('usage report', () => {
  it('equals the per-response totals of the fixture lines per UTC day, week, month, model, project and session', async () => {
    // a session's project is the first folder (`cwd`) its lines name, in import order; "" when they name none
    const folderOf = new Map<string, string>()
    for (const file of fixtures)
      for (const text of readFileSync(file, 'utf8').split('\n')) {
        const line = (() => {
          try {
            return JSON.parse(text) as { sessionId?: unknown; cwd?: unknown }
          } catch {
            return null
          }
        })()
        if (typeof line?.sessionId === 'string' && typeof line.cwd === 'string' && !folderOf.has(line.sessionId))
          folderOf.set(line.sessionId, line.cwd)
      }
    const cases = {
      day: (p: (typeof responses)[number]) => p.day,
      month: (p: (typeof responses)[number]) => p.day.slice(0, 7),
      week: (p: (typeof responses)[number]) => {
        const d = new Date(`${p.day}T00:00:00Z`)
        return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10)
      },
      model: (p: (typeof responses)[number]) => p.model,
      project: (p: (typeof responses)[number]) => folderOf.get(p.sessionId) ?? '',
      conversation: (p: (typeof responses)[number]) => p.sessionId,
    }
    expect(new Set(responses.map(cases.project)).size).toBeGreaterThan(1)
    for (const [groupBy, keyOf] of Object.entries(cases)) {
      const expected = expectedBy(responses, keyOf)
      const r = await ctx.api.api.analytics.usage.get({ query: { group_by: groupBy as 'day' } })
      expect(r.status).toBe(200)
      const got = Object.fromEntries(r.data!.groups.map((g) => [g.key, four(g)]))
      const want = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.slice(0, 4)]))
      expect({ groupBy, got }).toEqual({ groupBy, got: want })
    }
  })

  it('follows tz for day boundaries', async () => {
    const tz = 'Asia/Kolkata'
    const local = (ms: number) => new Date(ms).toLocaleDateString('en-CA', { timeZone: tz })
    const expected = expectedBy(responses, (p) => local(p.ms))
    const r = await ctx.api.api.analytics.usage.get({ query: { group_by: 'day', tz } })
    expect(Object.fromEntries(r.data!.groups.map((g) => [g.key, four(g)]))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.slice(0, 4)])),
    )
    // a date that does not exist is a 422, never an empty report
    for (const route of ['usage', 'tools', 'blocks'])
      for (const query of ['from=2026-02-30', 'to=2025-02-29', 'from=2026-99-99', 'from=2026-02-12T25:99:00Z']) {
        const r = await ctx.raw(`/api/analytics/${route}?${query}`)
        expect({ route, query, status: r.status }).toEqual({ route, query, status: 422 })
        expect((await errorOf(r)).error).toContain(query.slice(0, query.indexOf('=')))
      }
    expect((await ctx.raw('/api/analytics/usage?from=2024-02-29')).status).toBe(200)
    const bad = await ctx.raw('/api/analytics/usage?tz=Mars/Olympus')
    expect(bad.status).toBe(400)
    expect((await errorOf(bad)).error).toContain('Mars/Olympus')
  })

  it('limits to a date range (dates in tz, `to` inclusive) and adds up per-model rows to the group totals', async () => {
    const r = await ctx.api.api.analytics.usage.get({
      query: { group_by: 'day', from: '2026-02-10', to: '2026-02-12' },
    })
    expect(r.data!.groups.map((g) => g.key)).toEqual(['2026-02-10', '2026-02-12'])
    for (const g of r.data!.groups) {
      expect(g.models.reduce((n, m) => n + m.total_tokens, 0)).toBe(g.total_tokens)
      expect(g.models.reduce((n, m) => n + m.cost_usd, 0)).toBeCloseTo(g.cost_usd, 9)
    }
    const totals = r.data!.totals
    expect(totals.total_tokens).toBe(r.data!.groups.reduce((n, g) => n + g.total_tokens, 0))
  })

  it('follows a zone with daylight saving time across its changes', async () => {
    // the fixtures run from June 2025 (Paris at UTC+2) to February 2026 (UTC+1); a reply at 22:57 UTC on
    // 2026-02-10 belongs to that day in winter time, and to the next day were summer time applied throughout
    const tz = 'Europe/Paris'
    const local = (ms: number) => new Date(ms).toLocaleDateString('en-CA', { timeZone: tz })
    const expected = expectedBy(responses, (p) => local(p.ms))
    const r = await ctx.api.api.analytics.usage.get({ query: { group_by: 'day', tz } })
    expect(Object.fromEntries(r.data!.groups.map((g) => [g.key, four(g)]))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.slice(0, 4)])),
    )
  })

  it('counts exactly between date-times that fall inside a quarter hour', async () => {
    const cases = [
      ['2026-02-12T14:20:00.001Z', '2026-02-12T14:50:07.123Z'],
      ['2026-02-12T14:21:00Z', '2026-02-12T14:29:00Z'],
      ['2025-06-14T10:00:00Z', '2026-02-10T22:58:30.5Z'],
    ] as const
    for (const [from, to] of cases) {
      const inRange = [...responses].filter((p) => p.ms >= Date.parse(from) && p.ms < Date.parse(to))
      expect(inRange.length).toBeGreaterThan(0)
      const r = await ctx.api.api.analytics.usage.get({ query: { group_by: 'model', from, to } })
      const want = Object.fromEntries(
        Object.entries(expectedBy(inRange, (p) => p.model)).map(([k, v]) => [k, v.slice(0, 4)]),
      )
      expect({ from, got: Object.fromEntries(r.data!.groups.map((g) => [g.key, four(g)])) }).toEqual({
        from,
        got: want,
      })
    }
  })

  it('starts a day where the clocks skip midnight, and answers any range at once, or a 4xx saying what is wrong', async () => {
    const own = await makeApp()
    const { post } = await replies(own, 'edges')
    // Havana springs forward at midnight on 2026-03-08: 04:30Z is 23:30 on the 7th, 05:30Z is 01:30 on the 8th
    await post('2026-03-08T04:30:00Z', 10)
    await post('2026-03-08T05:30:00Z', 20)
    await post('2400-01-01T12:00:00Z', 40) // far ahead: reports must not walk every day in between
    const usage = async (query: Record<string, string>) => {
      const r = await own.raw(`/api/analytics/usage?${new URLSearchParams(query)}`)
      return { status: r.status, body: (await r.json()) as { groups?: { key: string; input_tokens: number }[] } }
    }
    const days = async (query: Record<string, string>) =>
      Object.fromEntries((await usage(query)).body.groups!.map((g) => [g.key, g.input_tokens]))
    const havana = { group_by: 'day', tz: 'America/Havana' }
    expect(await days({ ...havana, from: '2026-03-08', to: '2026-03-08' })).toEqual({ '2026-03-08': 20 })
    expect(await days({ ...havana, from: '2026-03-07', to: '2026-03-07' })).toEqual({ '2026-03-07': 10 })
    // a date-time inside the `to` day, and an empty range between equal date-times, are ranges
    expect(await days({ group_by: 'day', from: '2026-03-08T05:00:00Z', to: '2026-03-08' })).toEqual({
      '2026-03-08': 20,
    })
    expect(await days({ group_by: 'day', from: '2026-03-08T05:00:00Z', to: '2026-03-08T05:00:00Z' })).toEqual({})
    const all = { '2026-03-07': 10, '2026-03-08': 20, '2400-01-01': 40 }
    expect(await days(havana)).toEqual(all)
    expect(await days({ ...havana, from: '1970-01-01', to: '9999-12-31' })).toEqual(all)
    for (const tz of ['Europe/Paris', 'UTC', '+05:30'])
      expect(Object.values(await days({ group_by: 'day', tz, from: '1970-01-01', to: '9999-12-31' }))).toEqual([30, 40])
    for (const route of ['usage', 'tools', 'blocks'])
      expect((await own.raw(`/api/analytics/${route}?to=9999-12-31`)).status).toBe(200)
    // what cannot be answered right
    const refused = [
      [{ tz: '+05:07' }, 400, 'quarter hours'],
      [{ from: '2026-03-10', to: '2026-03-01' }, 422, 'from'],
      [{ from: '2026-03-02', to: '2026-03-01' }, 422, 'from'],
      [{ from: '2026-03-02T00:00:00Z', to: '2026-03-01' }, 422, 'from'],
      [{ from: '2026-03-01T00:00:01Z', to: '2026-03-01T00:00:00Z' }, 422, 'from'],
      [{ from: '0051-01-01' }, 422, 'from'],
      [{ to: '1969-12-31' }, 422, 'to'],
      [{ group_by: 'hour' }, 422, 'group_by: must be one of day, week, month, model, project, conversation'],
    ] as const
    for (const [query, status, named] of refused) {
      const r = await own.raw(`/api/analytics/usage?${new URLSearchParams(query)}`)
      expect({ query, status: r.status }).toEqual({ query, status })
      expect((await errorOf(r)).error).toContain(named)
    }
  })

  it('drops a deleted conversation from every report', async () => {
    const own = await makeApp()
    const file = fixtures.find((f) => f.endsWith('tool_heavy.jsonl'))!
    await importAll(own.api, [file])
    const mine = [...expectedResponses([file]).values()]
    const before = await own.api.api.analytics.usage.get({ query: { group_by: 'conversation' } })
    expect(before.data!.groups).toHaveLength(1)
    expect(four(before.data!.totals)).toEqual(expectedBy(mine, () => 'all').all!.slice(0, 4))
    const id = before.data!.groups[0]!.key
    expect((await own.api.api.conversations({ id }).delete()).status).toBe(204)
    const after = await own.api.api.analytics.usage.get({ query: { group_by: 'conversation' } })
    expect(after.data!.groups).toEqual([])
    expect(after.data!.totals.total_tokens).toBe(0)
    expect(countRows(own.db, 'usage_rollup')).toBe(0)
    expect(countRows(own.db, 'usage_hourly')).toBe(0)
  })

  it('keeps the hourly and daily sums equal to the quarter-hour ones through imports, usage moves and deletes', async () => {
    // a sum table's rows, and the same sums from usage_rollup's quarter hours (`per` of them to the table's row)
    const table = (db: Ctx['db'], name: string, column: string) =>
      db.$client
        .query(
          `SELECT owner_id, ${column} AS at, model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens
           FROM ${name} ORDER BY 1, 2, 3`,
        )
        .all()
    const fromQuarters = (db: Ctx['db'], per: number) =>
      db.$client
        .query(
          `SELECT owner_id, bucket / ${per} AS at, model, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
             sum(cache_creation_tokens) AS cache_creation_tokens, sum(cache_read_tokens) AS cache_read_tokens
           FROM usage_rollup GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        )
        .all()
    const hourly = (db: Ctx['db']) => table(db, 'usage_hourly', 'hour')
    const daily = (db: Ctx['db']) => table(db, 'usage_daily', 'day')
    const inputs = (rows: unknown[]) => rows.map((r) => (r as { input_tokens: number }).input_tokens)
    expect(hourly(ctx.db).length).toBeGreaterThan(0)
    expect(hourly(ctx.db)).toEqual(fromQuarters(ctx.db, 4))
    expect(daily(ctx.db).length).toBeGreaterThan(0)
    expect(daily(ctx.db)).toEqual(fromQuarters(ctx.db, 96))
    // a message's usage changed and one deleted, through the API
    const own = await makeApp()
    const { conversation: c, post } = await replies(own, 'hours')
    const first = (await post('2026-03-01T10:05:00.000Z', 100)).data!
    await post('2026-03-01T10:50:00.000Z', 200) // same hour, another quarter
    await post('2026-03-01T11:01:00.000Z', 300)
    await post('2026-03-02T00:01:00.000Z', 400) // the next day
    expect(inputs(hourly(own.db))).toEqual([300, 300, 400])
    expect(inputs(daily(own.db))).toEqual([600, 400])
    await own.api.api.conversations({ id: c.id }).messages({ messageId: first.id }).delete()
    expect(hourly(own.db)).toEqual(fromQuarters(own.db, 4))
    expect(daily(own.db)).toEqual(fromQuarters(own.db, 96))
    expect(inputs(hourly(own.db))).toEqual([200, 300, 400])
    expect(inputs(daily(own.db))).toEqual([500, 400])
  })

  it('sums by local day, week, month and model in zones of every kind of offset, whatever the bounds', async () => {
    // messages every 40-odd minutes from 2026-03-26 to 2026-04-07: across the European change to summer time
    // (03-29) and the southern ends of it (04-05: Chatham by an hour, Lord Howe by half an hour), in two models
    const own = await makeApp()
    const c = (await own.api.api.conversations.post({ title: 'zones' })).data!
    const models = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805']
    const posted: { ms: number; model: string; tokens: number[]; cost: number }[] = []
    for (let i = 0, ms = Date.parse('2026-03-26T00:03:00Z'); ms < Date.parse('2026-04-07T00:00:00Z'); i++) {
      const model = models[i % 3 === 0 ? 1 : 0]!
      const tokens = [100 + i, 10 + (i % 7), i % 5 === 0 ? 2000 + i : 0, i % 2 ? 5000 + i : 0]
      const r = await own.api.api.conversations({ id: c.id }).messages.post({
        role: 'assistant',
        content: `reply ${i}`,
        model,
        usage: {
          input_tokens: tokens[0]!,
          output_tokens: tokens[1]!,
          cache_creation_input_tokens: tokens[2]!,
          cache_read_input_tokens: tokens[3]!,
        },
        timestamp: new Date(ms).toISOString(),
      })
      expect(r.status).toBe(201)
      posted.push({ ms, model, tokens, cost: r.data!.cost_usd })
      ms += (40 + ((i * 13) % 11)) * 60_000 + ((i * 7) % 60) * 1000
    }
    const zones = [
      'UTC',
      'Europe/Paris',
      'America/New_York',
      'Asia/Kolkata', // +5:30
      'Asia/Kathmandu', // +5:45
      'America/St_Johns', // -2:30 in summer time
      'Pacific/Chatham', // +13:45, then +12:45
      'Australia/Lord_Howe', // +11, then +10:30
      'Pacific/Kiritimati', // +14
      'Etc/GMT+12', // -12
    ]
    const ranges = [
      {},
      { from: '2026-03-28', to: '2026-04-05' },
      { from: '2026-03-27T10:07:00.123Z', to: '2026-04-05T13:52:30Z' },
      { from: '2026-03-30T05:00:00Z', to: '2026-03-30T21:00:00Z' }, // shorter than a day
      { from: '2026-03-29T00:00:00Z', to: '2026-04-02T00:00:00Z' }, // whole UTC days
    ]
    for (const tz of zones) {
      const local = new Intl.DateTimeFormat('en-CA', { timeZone: tz })
      const date = (ms: number) => local.format(ms)
      const monday = (d: string) => {
        const day = new Date(`${d}T00:00:00Z`)
        return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10)
      }
      const keys = {
        day: (p: (typeof posted)[number]) => date(p.ms),
        week: (p: (typeof posted)[number]) => monday(date(p.ms)),
        month: (p: (typeof posted)[number]) => date(p.ms).slice(0, 7),
        model: (p: (typeof posted)[number]) => p.model,
      }
      for (const range of ranges) {
        const inRange = posted.filter((p) => {
          const lower =
            range.from === undefined ||
            (range.from.length === 10 ? date(p.ms) >= range.from : p.ms >= Date.parse(range.from))
          const upper =
            range.to === undefined || (range.to.length === 10 ? date(p.ms) <= range.to : p.ms < Date.parse(range.to))
          return lower && upper
        })
        expect(inRange.length).toBeGreaterThan(10)
        for (const [groupBy, keyOf] of Object.entries(keys)) {
          const want = new Map<string, { tokens: number[]; cost: number }>()
          for (const p of inRange) {
            const g = want.get(keyOf(p)) ?? { tokens: [0, 0, 0, 0], cost: 0 }
            g.tokens = g.tokens.map((n, k) => n + p.tokens[k]!)
            g.cost += p.cost
            want.set(keyOf(p), g)
          }
          const r = await own.api.api.analytics.usage.get({ query: { group_by: groupBy as 'day', tz, ...range } })
          expect(r.status).toBe(200)
          const label = { tz, range, groupBy }
          expect({ ...label, got: Object.fromEntries(r.data!.groups.map((g) => [g.key, four(g)])) }).toEqual({
            ...label,
            got: Object.fromEntries([...want].map(([k, g]) => [k, g.tokens])),
          })
          for (const g of r.data!.groups) expect(g.cost_usd).toBeCloseTo(want.get(g.key)!.cost, 9)
        }
      }
    }
  })

  it('shows another user nothing, and an admin everything', async () => {
    const bob = await ctx.user(`bob${Date.now()}`)
    const theirs = await bob.api.api.analytics.usage.get({ query: {} })
    expect(theirs.data?.groups).toEqual([])
    expect((await bob.api.api.analytics.overview.get()).data?.messages).toBe(0)
    expect((await bob.api.api.analytics.tools.get({ query: {} })).data?.total).toBe(0)
    const all = await ctx.admin.api.api.analytics.usage.get({ query: { group_by: 'model' } })
    expect(all.data?.totals.total_tokens).toBe(responses.reduce((n, p) => n + p.input + p.output + p.write + p.read, 0))
    // by local day too, over every account
    const tz = 'Asia/Kolkata'
    const local = new Intl.DateTimeFormat('en-CA', { timeZone: tz })
    const byDay = await ctx.admin.api.api.analytics.usage.get({
      query: { group_by: 'day', tz, from: '2025-06-01', to: '2026-02-28' },
    })
    expect(Object.fromEntries(byDay.data!.groups.map((g) => [g.key, four(g)]))).toEqual(
      Object.fromEntries(
        Object.entries(expectedBy(responses, (p) => local.format(p.ms))).map(([k, v]) => [k, v.slice(0, 4)]),
      ),
    )
  })
})

describe('billing blocks', () => {
  const HOUR = 3_600_000
  /** The 5-hour blocks of the fixture responses, cut longhand: [start, last response, responses, total tokens]. */
  function expectedBlocks(hours: number) {
    const span = hours * HOUR
    const sorted = responses.toSorted((a, b) => a.ms - b.ms)
    const out: { id: string; last: number | null; entries: number; tokens: number }[] = []
    let start = 0
    for (const p of sorted) {
      const open = out.at(-1)
      if (!open || open.last === null || p.ms - start > span || p.ms - open.last > span) {
        if (open?.last != null && p.ms - open.last > span)
          out.push({ id: `gap-${new Date(open.last + span).toISOString()}`, last: null, entries: 0, tokens: 0 })
        start = Math.floor(p.ms / HOUR) * HOUR
        out.push({ id: new Date(start).toISOString(), last: null, entries: 0, tokens: 0 })
      }
      const block = out.at(-1)!
      block.last = p.ms
      block.entries++
      block.tokens += p.input + p.output + p.write + p.read
    }
    return out.map((b) => ({ ...b, last: b.last === null ? null : new Date(b.last).toISOString() }))
  }
  const shape = (b: { id: string; actual_end_time: string | null; entries: number; total_tokens: number }) => ({
    id: b.id,
    last: b.actual_end_time,
    entries: b.entries,
    tokens: b.total_tokens,
  })

  it('cuts the responses into blocks from the hour of their first request, with the pauses as gaps', async () => {
    for (const hours of [5, 1, 24]) {
      const r = await ctx.api.api.analytics.blocks.get({ query: { session_hours: hours } })
      expect(r.status).toBe(200)
      const want = expectedBlocks(hours)
      expect({ hours, got: r.data!.blocks.map(shape) }).toEqual({ hours, got: want })
      expect(r.data!.total).toBe(want.length)
      for (const b of r.data!.blocks) {
        if (!b.is_gap) expect(Date.parse(b.end_time) - Date.parse(b.start_time)).toBe(hours * HOUR)
        expect(b.is_active).toBe(false) // every fixture response is long past
        expect(b.burn_rate).toBeNull()
        expect(b.models.length > 0).toBe(!b.is_gap)
      }
    }
    const all = (await ctx.api.api.analytics.blocks.get({ query: {} })).data!
    expect(all.blocks.reduce((n, b) => n + b.total_tokens, 0)).toBe(
      responses.reduce((n, p) => n + p.input + p.output + p.write + p.read, 0),
    )
  })

  it('limits to a range, and answers 400 for an unknown zone and 422 for a block length out of range', async () => {
    const r = await ctx.api.api.analytics.blocks.get({ query: { from: '2026-02-12', to: '2026-02-12' } })
    const day = responses.filter((p) => p.day === '2026-02-12')
    expect(r.data!.blocks.map((b) => b.entries)).toEqual([day.length])
    expect((await ctx.raw('/api/analytics/blocks?tz=Mars/Olympus')).status).toBe(400)
    const bad = await ctx.raw('/api/analytics/blocks?session_hours=0')
    expect(bad.status).toBe(422)
    expect((await errorOf(bad)).error).toContain('session_hours')
  })

  it('gives the running block its burn rate and projection', async () => {
    const own = await makeApp()
    const conversation = (await own.api.api.conversations.post({ title: 'live' })).data!
    const now = Date.now()
    const first = now - 20 * 60_000
    const sent = [
      { at: first, usage: { input_tokens: 1000, output_tokens: 200 } },
      { at: now - 5 * 60_000, usage: { input_tokens: 3000, output_tokens: 800, cache_read_input_tokens: 600 } },
    ]
    for (const m of sent) {
      const r = await own.api.api.conversations({ id: conversation.id }).messages.post({
        role: 'assistant',
        content: 'ok',
        model: 'claude-sonnet-4-5-20250929',
        usage: m.usage,
        timestamp: new Date(m.at).toISOString(),
      })
      expect(r.status).toBe(201)
    }
    const before = Date.now()
    const r = await own.api.api.analytics.blocks.get({ query: {} })
    const after = Date.now()
    const [block] = r.data!.blocks
    expect(r.data!.blocks).toHaveLength(1)
    expect(block!.is_active).toBe(true)
    expect(block!.start_time).toBe(new Date(Math.floor(first / HOUR) * HOUR).toISOString())
    const minutes = 15 // from the first response to the last
    expect(block!.burn_rate!.tokens_per_minute).toBeCloseTo(5600 / minutes, 9) // all four kinds
    expect(block!.burn_rate!.tokens_per_minute_for_indicator).toBeCloseTo(5000 / minutes, 9) // input and output
    expect(block!.burn_rate!.cost_per_hour).toBeCloseTo((block!.cost_usd / minutes) * 60, 9)
    const end = Date.parse(block!.end_time)
    const remaining = (at: number) => (end - at) / 60_000
    expect(block!.projection!.remaining_minutes).toBeGreaterThanOrEqual(Math.round(remaining(after)))
    expect(block!.projection!.remaining_minutes).toBeLessThanOrEqual(Math.round(remaining(before)))
    expect(block!.projection!.total_tokens).toBeGreaterThanOrEqual(
      Math.round(5600 + (5600 / minutes) * remaining(after)),
    )
    expect(block!.projection!.total_tokens).toBeLessThanOrEqual(Math.round(5600 + (5600 / minutes) * remaining(before)))
    // another user sees none of it; an admin, asking for alice's, sees the same block
    const bob = await own.user('bob')
    expect((await bob.api.api.analytics.blocks.get({ query: {} })).data).toEqual({
      session_hours: 5,
      blocks: [],
      total: 0,
    })
    const asAdmin = await own.admin.api.api.analytics.blocks.get({ query: { owner_id: own.alice.id } })
    expect(asAdmin.data!.blocks.map((b) => b.total_tokens)).toEqual([5600])
    // usage limits are per account: an admin's blocks are their own unless they name another account
    expect((await own.admin.api.api.analytics.blocks.get({ query: {} })).data?.blocks).toEqual([])
  })

  it('keeps whole blocks in a range: cut over all the responses, then those starting in it', async () => {
    const own = await makeApp()
    const conversation = (await own.api.api.conversations.post({ title: 'range' })).data!
    // 08:30 and 12:30 make one block from 08:00 (12:30 is within 5 hours of it); 13:30 opens the next, at 13:00
    for (const at of ['2026-03-02T08:30:00.000Z', '2026-03-02T12:30:00.000Z', '2026-03-02T13:30:00.000Z'])
      await own.api.api.conversations({ id: conversation.id }).messages.post({
        role: 'assistant',
        content: 'ok',
        model: 'claude-sonnet-4-5-20250929',
        usage: { input_tokens: 10, output_tokens: 1 },
        timestamp: at,
      })
    const blocks = async (query: Record<string, string>) =>
      (await own.api.api.analytics.blocks.get({ query })).data!.blocks.map((b) => [b.start_time, b.entries])
    const first = ['2026-03-02T08:00:00.000Z', 2]
    const second = ['2026-03-02T13:00:00.000Z', 1]
    const all = [first, second]
    expect(await blocks({})).toEqual(all)
    // a bound inside a block moves no boundary: the block that started before `from` is left out whole,
    expect(await blocks({ from: '2026-03-02T10:00:00Z' })).toEqual([second])
    // and the one that started before `to` keeps its responses after it
    expect(await blocks({ to: '2026-03-02T12:00:00Z' })).toEqual([first])
    expect(await blocks({ from: '2026-03-02', to: '2026-03-02' })).toEqual(all)
  })
})

describe('tool analytics and overview', () => {
  it('counts calls and errors per tool from the tool_use and tool_result blocks', async () => {
    const calls = new Map<string, { calls: number; errors: number }>()
    const names = new Map<string, string>()
    const seenLines = new Set<string>()
    for (const path of fixtures) {
      for (const text of readFileSync(path, 'utf8').split('\n')) {
        let line: { type?: string; uuid?: string; message?: { content?: unknown } }
        try {
          line = JSON.parse(text)
        } catch {
          continue
        }
        if (!line || typeof line !== 'object' || line.type === 'progress' || !line.uuid || seenLines.has(line.uuid))
          continue
        seenLines.add(line.uuid)
        const blocks = Array.isArray(line.message?.content) ? (line.message.content as Record<string, unknown>[]) : []
        for (const b of blocks) {
          if (b.type === 'tool_use') {
            names.set(b.id as string, b.name as string)
            const c = calls.get(b.name as string) ?? { calls: 0, errors: 0 }
            c.calls++
            calls.set(b.name as string, c)
          }
          if (b.type === 'tool_result' && b.is_error === true) {
            const c = calls.get(names.get(b.tool_use_id as string) ?? '')
            if (c) c.errors++
          }
        }
      }
    }
    const r = await ctx.api.api.analytics.tools.get({ query: {} })
    const got = Object.fromEntries(
      r.data!.items.filter((i) => i.name !== '').map((i) => [i.name, { calls: i.calls, errors: i.errors }]),
    )
    expect(got).toEqual(Object.fromEntries(calls))
    const bash = r.data!.items.find((i) => i.name === 'Bash')!
    expect(bash.p50_duration_ms).not.toBeNull()
    expect(bash.p95_duration_ms!).toBeGreaterThanOrEqual(bash.p50_duration_ms!)
  })

  it('sums the overview from the same data', async () => {
    const o = (await ctx.api.api.analytics.overview.get()).data!
    const list = (await ctx.api.api.conversations.get({ query: { limit: 200 } })).data!
    expect(o.conversations).toBe(list.total)
    expect(o.messages).toBe(list.items.reduce((n, c) => n + c.message_count, 0))
    expect(o.total_tokens).toBe(responses.reduce((n, p) => n + p.input + p.output + p.write + p.read, 0))
    expect(o.files).toBe(fixtures.length)
    const byModel = expectedBy(responses, (p) => p.model)
    const biggest = Object.entries(byModel).sort(
      ([, a], [, b]) => b.slice(0, 4).reduce((x, y) => x + y) - a.slice(0, 4).reduce((x, y) => x + y),
    )[0]
    expect(o.top_models[0]?.model).toBe(biggest![0])
    expect(o.active_days).toBeGreaterThanOrEqual(5)
  })
})

describe('search beyond its ranking window', async () => {
  // 1,010 prompts with "quokka", in this order; the oldest says it most often, so bm25 would put it first
  const own = await makeApp()
  const words = (i: number) =>
    i === 0 ? 'quokka quokka quokka quokka' : i === 600 ? 'quokka quokka and a wombat' : `quokka number ${i}`
  const lines = Array.from({ length: 1010 }, (_, i) =>
    JSON.stringify({
      type: 'user',
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      parentUuid: null,
      sessionId: 'window-session',
      cwd: '/src/zoo',
      timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      message: { role: 'user', content: `${words(i)}${i % 250 === 7 ? ' platypus' : ''}` },
    }),
  )
  const path = join(tmpdir(), `window-${Date.now()}.jsonl`)
  writeFileSync(path, `${lines.join('\n')}\n`)
  await importAll(own.api, [path])
  const newest = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`

  it('counts up to the window and says the count is not exact', async () => {
    const r = (await own.api.api.search.get({ query: { q: 'quokka', limit: 100 } })).data!
    expect([r.total, r.total_exact]).toEqual([SEARCH_WINDOW, false])
    const few = (await own.api.api.search.get({ query: { q: 'platypus' } })).data!
    expect([few.total, few.total_exact, few.items.length]).toEqual([5, true, 5]) // lines 7, 257, 507, 757, 1007
  })

  it('ranks by bm25 among the newest matches, and pages through exactly the window', async () => {
    const first = (await own.api.api.search.get({ query: { q: 'quokka', limit: 1 } })).data!
    expect(first.items[0]?.message_id).toBe(newest(600)) // line 0 says it more often, but is not among the newest
    const seen = new Set<string>()
    for (let offset = 0; offset < 1100; offset += 100) {
      const page = (await own.api.api.search.get({ query: { q: 'quokka', limit: 100, offset } })).data!
      for (const hit of page.items) seen.add(hit.message_id)
    }
    const window = new Set(Array.from({ length: SEARCH_WINDOW }, (_, k) => newest(1009 - k)))
    expect(seen).toEqual(window)
  })
})

describe('search', () => {
  const search = (q: string, extra: Record<string, string> = {}) =>
    ctx.raw(`/api/search?${new URLSearchParams({ q, ...extra })}`)

  it('finds messages, ranks the better match first, and highlights safely', async () => {
    const r = await ctx.api.api.search.get({ query: { q: 'phoenix' } })
    expect(r.status).toBe(200)
    expect(r.data!.total).toBeGreaterThan(0)
    const hit = r.data!.items[0]!
    expect(hit.snippet.toLowerCase()).toContain('<mark>phoenix</mark>')
    expect(hit.snippet).not.toMatch(/<(?!\/?mark>)/)
    const ranks = r.data!.items.map((i) => i.rank)
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks)
    expect(hit.conversation_title).toBeTruthy()
  })

  it('highlights only matches, whatever control characters a text holds', async () => {
    const c = (await ctx.api.api.conversations.post({ title: 'markers' })).data!
    const content = `\u0002forged\u0003 zebrafish \u0002unclosed`
    await ctx.api.api.conversations({ id: c.id }).messages.post({ role: 'user', content })
    const hits = (await ctx.api.api.search.get({ query: { q: 'zebrafish' } })).data!.items
    expect(hits.map((h) => h.snippet)).toEqual([' forged  <mark>zebrafish</mark>  unclosed'])
  })

  it('answers any input with results or a 400, never a 500', async () => {
    const hostile = [
      '"',
      "'",
      'AND OR NEAR(',
      'a-b',
      'x:y',
      '*',
      'NOT',
      '(',
      ')',
      '^',
      '"unterminated',
      'col:phoenix',
      '🦀 emoji 🎉',
      'x'.repeat(10_000),
      'a '.repeat(5000),
      '\\',
      '%',
      '_',
      '-phoenix',
      '""',
      'phoenix*',
      '-',
      '---',
      'NEAR(a b, 3)',
      "'; DROP TABLE messages; --",
      '\u0000',
    ]
    for (const q of hostile) {
      const r = await search(q)
      expect({ q: q.slice(0, 30), ok: r.status === 200 || r.status === 400 }).toEqual({ q: q.slice(0, 30), ok: true })
      if (r.status === 400) expect((await errorOf(r)).code).toBe('BAD_REQUEST')
    }
    const empty = await search('')
    expect(empty.status).toBe(400)
    expect((await errorOf(empty)).error).toContain('nothing to search for')
  })

  it('supports phrases, prefixes and exclusion', async () => {
    const word = (await ctx.api.api.search.get({ query: { q: 'phoenix' } })).data!.total
    const prefix = (await ctx.api.api.search.get({ query: { q: 'phoeni*' } })).data!.total
    expect(prefix).toBeGreaterThanOrEqual(word)
    const excluded = (await ctx.api.api.search.get({ query: { q: 'phoenix -server' } })).data!.total
    expect(excluded).toBeLessThan(word)
    const phrase = await ctx.api.api.search.get({ query: { q: '"phx.server"' } })
    expect(phrase.data!.total).toBeGreaterThan(0)
    for (const i of phrase.data!.items) expect(i.snippet.toLowerCase()).toMatch(/<mark>phx[^<]*<\/mark>/)
  })

  it('applies each filter', async () => {
    const base = (await ctx.api.api.search.get({ query: { q: 'the', limit: 200 } })).data!
    const conversation = base.items[0]!.conversation_id
    const byConversation = (
      await ctx.api.api.search.get({ query: { q: 'the', conversation_id: conversation, limit: 200 } })
    ).data!
    expect(byConversation.items.every((i) => i.conversation_id === conversation)).toBe(true)
    const users = (await ctx.api.api.search.get({ query: { q: 'the', role: 'user', limit: 200 } })).data!
    expect(users.items.every((i) => i.role === 'user')).toBe(true)
    const opus = (await ctx.api.api.search.get({ query: { q: 'the', model: 'claude-opus-4-6', limit: 200 } })).data!
    expect(opus.total).toBeGreaterThan(0)
    expect(opus.items.every((i) => i.model === 'claude-opus-4-6')).toBe(true)
    const before = (await ctx.api.api.search.get({ query: { q: 'the', to: '2026-01-01T00:00:00Z', limit: 200 } })).data!
    expect(before.items.every((i) => i.timestamp < '2026-01-01')).toBe(true)
    const after = (await ctx.api.api.search.get({ query: { q: 'the', from: '2026-01-01T00:00:00Z', limit: 200 } }))
      .data!
    expect(before.total + after.total).toBe(base.total)
    const bash = (await ctx.api.api.search.get({ query: { q: 'the', tool: 'Bash', limit: 200 } })).data!
    expect(bash.total).toBeGreaterThan(0)
    expect(bash.total).toBeLessThan(base.total)
    const project = (
      await ctx.api.api.search.get({ query: { q: 'the', project_path: '/home/marco/projects/spotter' } })
    ).data!
    expect(project.total).toBeGreaterThan(0)
    expect(project.total).toBeLessThan(base.total)
    const sidechains = (await ctx.api.api.search.get({ query: { q: 'opentelemetry', include_sidechains: true } })).data!
    const main = (await ctx.api.api.search.get({ query: { q: 'opentelemetry' } })).data!
    expect(sidechains.total).toBeGreaterThan(main.total)
  })

  it('lets the full-text match lead every statement, whatever the filters', async () => {
    // led by an index on a filter (a date range, the owner), SQLite would run the MATCH once per message in range
    const statements: { sql: string; params: unknown[] }[] = []
    const db = ctx.db
    const dialect = new SQLiteSyncDialect()
    const watched = new Proxy(db, {
      get: (target, key) =>
        key === 'all'
          ? (query: SQL) => {
              statements.push(dialect.sqlToQuery(query))
              return target.all(query)
            }
          : Reflect.get(target, key),
    })
    const repo = createSearchRepository(watched)
    for (const filter of [
      { from: 0, to: Date.now() },
      { tool: 'Bash' },
      { role: 'user', model: 'claude-opus-4-6' },
      { projectPath: '/home/marco/projects/spotter' },
    ])
      for (const match of ['"the"', '"nowhere-to-be-found"'])
        await repo.search({ match, ownerId: ctx.alice.id, includeSidechains: false, ...filter }, 10, 0)
    expect(statements.length).toBeGreaterThanOrEqual(12) // ranked and details, or ranked and a count
    for (const s of statements) {
      const plan = db.$client.query(`EXPLAIN QUERY PLAN ${s.sql}`).all(...(s.params as never[])) as { detail: string }[]
      const leading = plan.map((p) => p.detail).find((d) => /^(SCAN|SEARCH) /.test(d))
      expect({ sql: s.sql.slice(0, 80), leading }).toEqual({
        sql: s.sql.slice(0, 80),
        leading: expect.stringMatching(/^SCAN messages_fts VIRTUAL TABLE/),
      })
    }
  })

  it("searches only the caller's messages", async () => {
    const bob = await ctx.user(`carol${Date.now()}`)
    expect((await bob.api.api.search.get({ query: { q: 'phoenix' } })).data?.total).toBe(0)
    const mine = (await ctx.api.api.search.get({ query: { q: 'phoenix' } })).data!.total
    const viaAdmin = await ctx.admin.api.api.search.get({ query: { q: 'phoenix', owner_id: ctx.alice.id } })
    expect(viaAdmin.data?.total).toBe(mine)
    const adminOwn = await ctx.admin.api.api.search.get({ query: { q: 'phoenix', owner_id: ctx.admin.id } })
    expect(adminOwn.data?.total).toBe(0)
  })
})
