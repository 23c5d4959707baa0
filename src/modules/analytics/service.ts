import { type Actor, ownerScope } from '../../lib/actor'
import { AppError } from '../../lib/errors'
import { usd } from '../../lib/pricing'
import type { BlocksQuery, ToolsQuery, UsageQuery } from './model'
import { type AnalyticsRepository, BUCKET_MS, type OffsetSegment, type UsageRow } from './repository'
import { DAY_MS, dateIn, HOUR_MS, nextDate, offsetAt, startOfDate, weekOf } from './time'

type Tokens = {
  input_tokens: number
  output_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
  total_tokens: number
  cost_usd: number
}
const zero = (): Tokens => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  total_tokens: 0,
  cost_usd: 0,
})
const add = (t: Tokens, r: Pick<UsageRow, 'input' | 'output' | 'cache_creation' | 'cache_read' | 'cost'>) => {
  t.input_tokens += r.input
  t.output_tokens += r.output
  t.cache_creation_input_tokens += r.cache_creation
  t.cache_read_input_tokens += r.cache_read
  t.total_tokens += r.input + r.output + r.cache_creation + r.cache_read
  t.cost_usd += r.cost
}

/** A bound given as a date (YYYY-MM-DD, the schema has checked it), not a date-time. */
const isDate = (value: string) => value.length === 10

/**
 * A bound from the query: a date means the start of that day in tz (`to`: the end of it, inclusive, which is the
 * start of the next: a day when the clocks change is 23 or 25 hours long).
 */
function bound(value: string | undefined, tz: string, end: boolean) {
  if (value === undefined) return undefined
  if (!isDate(value)) return Date.parse(value)
  return startOfDate(end ? nextDate(value) : value, tz)
}

/** The range [from, to) of a query's bounds; a 422 when from comes after to. */
function range(q: { from?: string; to?: string }, tz: string) {
  const from = bound(q.from, tz, false)
  const to = bound(q.to, tz, true)
  // a date `to` is its whole day: a `from` at that day's end is after it too
  if (from !== undefined && to !== undefined && (from > to || (from === to && isDate(q.to as string))))
    throw new AppError(422, 'VALIDATION', `from: ${q.from} is after to: ${q.to}`, [
      { path: '/from', message: 'after to' },
    ])
  return { from, to }
}

/**
 * The zone's offsets over the given UTC days (ascending): probed at each day's first and last quarter hour, a change
 * within a day narrowed down to its quarter hour. Between two days the offset may change any number of times: no
 * usage lies there. Two changes within one day would be seen as one; no zone's rules have them.
 */
function offsetSegments(days: number[], tz: string): OffsetSegment[] {
  const offset = (bucket: number) => offsetAt(bucket * BUCKET_MS, tz)
  const segments: OffsetSegment[] = []
  for (const day of days) {
    const [start, end] = [(day * DAY_MS) / BUCKET_MS, ((day + 1) * DAY_MS) / BUCKET_MS - 1]
    const first = offset(start)
    if (segments.at(-1)?.offsetMs !== first) segments.push({ from: start, offsetMs: first })
    if (offset(end) === first) continue
    let [l, h] = [start, end]
    while (h - l > 1) {
      const mid = Math.floor((l + h) / 2)
      if (offset(mid) === first) l = mid
      else h = mid
    }
    segments.push({ from: h, offsetMs: offset(h) })
  }
  return segments
}

type Response = Omit<UsageRow, 'key' | 'label'> & { timestamp: number }
/** A billing block before the clock is read: what the database says, reusable until it changes. */
type Block = Tokens & {
  id: string
  start: number
  end: number
  /** the first and the last response in the block (null in a gap) */
  first: number | null
  last: number | null
  is_gap: boolean
  entries: number
  models: string[]
}

/**
 * Claude's usage limits run in blocks of `sessionMs` (5 hours) from the first request's hour, as ccusage's `blocks`
 * report cuts them: a response more than a block after the block's start opens the next block at its own hour (UTC);
 * a pause longer than a block shows as a gap, from the last response plus a block's length to the next response.
 */
function cutBlocks(responses: Response[], sessionMs: number): Block[] {
  const blocks: Block[] = []
  let open: Block | undefined
  for (const r of responses) {
    if (open && r.timestamp - open.start > sessionMs) {
      blocks.push(open)
      const last = open.last as number // an open block holds at least one response
      if (r.timestamp - last > sessionMs) {
        const start = last + sessionMs
        const gap = { id: `gap-${new Date(start).toISOString()}`, start, end: r.timestamp, first: null, last: null }
        blocks.push({ ...gap, ...zero(), is_gap: true, entries: 0, models: [] })
      }
      open = undefined
    }
    if (!open) {
      const start = Math.floor(r.timestamp / HOUR_MS) * HOUR_MS
      const id = new Date(start).toISOString()
      open = {
        id,
        start,
        end: start + sessionMs,
        first: r.timestamp,
        last: null,
        ...zero(),
        is_gap: false,
        entries: 0,
        models: [],
      }
    }
    open.last = r.timestamp
    open.entries++
    add(open, r)
    const model = r.model ?? 'unknown'
    if (!open.models.includes(model)) open.models.push(model)
  }
  if (open) blocks.push(open)
  return blocks
}

/** A block as of `now`: whether it is still running and, when it is, its burn rate and where it is heading. */
function blockAsOf(b: Block, now: number, sessionMs: number) {
  const { first, last, start, end, ...rest } = b
  const isActive = !b.is_gap && last !== null && now - last < sessionMs && now < end
  const minutes = first !== null && last !== null ? (last - first) / 60_000 : 0
  const burn =
    isActive && minutes > 0
      ? {
          tokens_per_minute: b.total_tokens / minutes,
          tokens_per_minute_for_indicator: (b.input_tokens + b.output_tokens) / minutes,
          cost_per_hour: (b.cost_usd / minutes) * 60,
        }
      : null
  const remaining = Math.max(0, (end - now) / 60_000)
  return {
    ...rest,
    cost_usd: usd(b.cost_usd),
    start_time: new Date(start).toISOString(),
    end_time: new Date(end).toISOString(),
    actual_end_time: last !== null ? new Date(last).toISOString() : null,
    is_active: isActive,
    burn_rate: burn,
    projection: burn
      ? {
          total_tokens: Math.round(b.total_tokens + burn.tokens_per_minute * remaining),
          total_cost_usd: Math.round((b.cost_usd + (burn.cost_per_hour / 60) * remaining) * 100) / 100,
          remaining_minutes: Math.round(remaining),
        }
      : null,
  }
}

/** nearest-rank percentile of sorted values */
const percentile = (sorted: number[], p: number) =>
  sorted.length ? (sorted[Math.ceil(p * sorted.length) - 1] ?? null) : null

/** Token, cost and tool reports over the caller's data (an admin's: everyone's, or one owner's). */
export function createAnalyticsService(repo: AnalyticsRepository) {
  const scope = (actor: Actor, ownerId?: string) => (actor.role === 'admin' ? (ownerId ?? null) : ownerScope(actor))

  return {
    async usage(actor: Actor, q: UsageQuery) {
      const tz = q.tz ?? 'UTC'
      const groupBy = q.group_by ?? 'day'
      dateIn(0, tz) // an unknown zone is a 400 before any work
      const filter = { ownerId: scope(actor, q.owner_id), ...range(q, tz), projectPath: q.project_path }
      const byTime = groupBy === 'day' || groupBy === 'week' || groupBy === 'month'
      let rows: UsageRow[] = []
      if (byTime) {
        // the zone's offsets matter on the days that hold usage only, however long the range
        rows = await repo.usageByDay(filter, (days) => offsetSegments(days, tz))
      } else rows = await repo.usage(filter, groupBy as 'model' | 'project' | 'conversation')
      const keyOf = (r: UsageRow) => {
        if (!byTime) return String(r.key)
        const day = new Date(Number(r.key) * DAY_MS).toISOString().slice(0, 10)
        return groupBy === 'day' ? day : groupBy === 'week' ? weekOf(day) : day.slice(0, 7)
      }
      type Group = Tokens & { key: string; label: string | null; byModel: Map<string, Tokens> }
      const groups = new Map<string, Group>()
      const totals = { ...zero(), byModel: new Map<string, Tokens>() }
      for (const r of rows) {
        const key = keyOf(r)
        let g = groups.get(key)
        if (!g) {
          g = { key, label: r.label, ...zero(), byModel: new Map() }
          groups.set(key, g)
        }
        const model = r.model ?? 'unknown'
        for (const target of [g, totals]) {
          add(target, r)
          const m = target.byModel.get(model) ?? zero()
          add(m, r)
          target.byModel.set(model, m)
        }
      }
      const models = (byModel: Map<string, Tokens>) =>
        [...byModel]
          .map(([model, t]) => ({ model, ...t, cost_usd: usd(t.cost_usd) }))
          .sort((a, b) => b.total_tokens - a.total_tokens)
      const list = [...groups.values()].sort((a, b) =>
        byTime ? a.key.localeCompare(b.key) : b.total_tokens - a.total_tokens || a.key.localeCompare(b.key),
      )
      const { byModel, ...totalTokens } = totals
      return {
        group_by: groupBy,
        tz,
        groups: list.map(({ byModel: m, ...g }) => ({ ...g, cost_usd: usd(g.cost_usd), models: models(m) })),
        totals: { ...totalTokens, cost_usd: usd(totalTokens.cost_usd), models: models(byModel) },
      }
    },

    /** One account's billing blocks that start in the range, oldest first, without the clock (see `blocksAsOf`). */
    async blocks(actor: Actor, q: BlocksQuery) {
      const tz = q.tz ?? 'UTC'
      dateIn(0, tz) // an unknown zone is a 400 before any work
      const sessionMs = (q.session_hours ?? 5) * HOUR_MS
      // limits are per account: an admin's own blocks, or one user's
      const ownerId = actor.role === 'admin' ? (q.owner_id ?? actor.id) : actor.id
      const { from, to } = range(q, tz)
      // Blocks are cut as over all the account's responses, then those starting in [from, to) kept: reading from the
      // start of the activity going on at `from`, and up to a block's length past `to` (the last block's rest).
      const responses = await repo.responses({
        ownerId,
        from: from === undefined ? undefined : ((await repo.activityStart(ownerId, from, sessionMs)) ?? from),
        to: to === undefined ? undefined : to + sessionMs,
      })
      const blocks = cutBlocks(responses, sessionMs).filter(
        (b) => (from === undefined || b.start >= from) && (to === undefined || b.start < to),
      )
      return { sessionHours: sessionMs / HOUR_MS, blocks }
    },

    /** The blocks as of `now`: which one is active, its burn rate and projection. */
    blocksAsOf(report: { sessionHours: number; blocks: Block[] }, now: number) {
      const sessionMs = report.sessionHours * HOUR_MS
      const blocks = report.blocks.map((b) => blockAsOf(b, now, sessionMs))
      return { session_hours: report.sessionHours, blocks, total: blocks.length }
    },

    async tools(actor: Actor, q: ToolsQuery) {
      const tz = q.tz ?? 'UTC'
      dateIn(0, tz) // an unknown zone is a 400 before any work
      const filter = {
        ownerId: ownerScope(actor),
        conversationId: q.conversation_id,
        projectPath: q.project_path,
        ...range(q, tz),
      }
      const counts = await repo.toolCounts(filter)
      const durations = Map.groupBy(await repo.toolDurations(filter), (r) => r.name)
      const items = counts.map((c) => {
        const sorted = (durations.get(c.name) ?? []).map((d) => d.duration)
        return {
          name: c.name,
          calls: c.calls,
          errors: c.errors,
          error_rate: c.calls ? c.errors / c.calls : 0,
          p50_duration_ms: percentile(sorted, 0.5),
          p95_duration_ms: percentile(sorted, 0.95),
        }
      })
      return { items, total: items.length }
    },

    async overview(actor: Actor) {
      const o = await repo.overview(ownerScope(actor))
      const t = o.tokens ?? { input: 0, output: 0, cache_creation: 0, cache_read: 0, cost: 0 }
      return {
        conversations: o.counts?.conversations ?? 0,
        messages: o.counts?.messages ?? 0,
        tool_calls: o.counts?.tool_calls ?? 0,
        files: o.counts?.files ?? 0,
        input_tokens: t.input,
        output_tokens: t.output,
        cache_creation_input_tokens: t.cache_creation,
        cache_read_input_tokens: t.cache_read,
        total_tokens: t.input + t.output + t.cache_creation + t.cache_read,
        cost_usd: usd(t.cost),
        active_days: o.days,
        top_projects: o.projects.map((p) => ({ ...p, cost_usd: usd(p.cost_usd) })),
        top_models: o.models.map((m) => ({ ...m, cost_usd: usd(m.cost_usd) })),
        top_tools: o.tools,
      }
    },
  }
}
export type AnalyticsService = ReturnType<typeof createAnalyticsService>
