import { sql } from 'drizzle-orm'
import { type Db, firstRow } from '../../db/client'
import { DAY_MS, HOUR_MS } from './time'

export type UsageFilter = { ownerId: string | null; from?: number; to?: number; projectPath?: string }
export type UsageRow = {
  /** the local day number when grouped by day, else the model, project path or conversation id */
  key: string | number
  label: string | null
  model: string | null
  input: number
  output: number
  cache_creation: number
  cache_read: number
  cost: number
}
export type ToolFilter = {
  ownerId: string | null
  conversationId?: string
  projectPath?: string
  from?: number
  to?: number
}

/** The length of a usage_rollup bucket: a quarter hour divides every time zone's offset, so buckets map to local days. */
export const BUCKET_MS = 15 * 60_000
const HOUR_BUCKETS = HOUR_MS / BUCKET_MS
const DAY_BUCKETS = DAY_MS / BUCKET_MS
/** where in its UTC day a usage_daily row is placed: noon, on the local day of most of its hours in every zone */
const NOON = DAY_BUCKETS / 2

/** A time zone's offset from UTC, in force from bucket `from` on (the first segment's `from` is ignored). */
export type OffsetSegment = { from: number; offsetMs: number }
/** A report by local day: the UTC days holding usage in the range (ascending), and the zone's offsets on them. */
export type ByDay = { day: OffsetSegment[]; days: number[] }
type ByTimeOrModel = ByDay | 'model'

const sums = sql`input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd`
const sumColumns = sql`sum(u.input_tokens) AS input, sum(u.output_tokens) AS output,
  sum(u.cache_creation_tokens) AS cache_creation, sum(u.cache_read_tokens) AS cache_read, sum(u.cost_usd) AS cost`

/** The local day of a bucket, as localDay computes it in SQL. */
function localDayOf(segments: OffsetSegment[], bucket: number) {
  let offsetMs = segments[0]?.offsetMs ?? 0
  for (let i = segments.length - 1; i > 0; i--) {
    const s = segments[i] as OffsetSegment
    if (bucket >= s.from) {
      offsetMs = s.offsetMs
      break
    }
  }
  return Math.floor((bucket * BUCKET_MS + offsetMs) / DAY_MS)
}

/**
 * Of the given UTC days, the times whose local day is not that of their day's noon: whole hours, and the quarter
 * hours of an hour holding a local midnight.
 */
function movedTimes(segments: OffsetSegment[], days: number[]) {
  const hours: number[] = []
  const buckets: number[] = []
  for (const day of days) {
    const noonDay = localDayOf(segments, day * DAY_BUCKETS + NOON)
    for (let hour = day * 24; hour < (day + 1) * 24; hour++) {
      const start = hour * HOUR_BUCKETS
      const first = localDayOf(segments, start)
      if (first === localDayOf(segments, start + HOUR_BUCKETS - 1)) {
        if (first !== noonDay) hours.push(hour)
      } else for (let b = start; b < start + HOUR_BUCKETS; b++) if (localDayOf(segments, b) !== noonDay) buckets.push(b)
    }
  }
  return { hours, buckets }
}

/** Aggregates over usage_rollup, messages and tool calls. Only lines that carry a response's usage have tokens. */
export function createAnalyticsRepository(db: Db) {
  const own = (f: UsageFilter) => (f.ownerId !== null ? sql`owner_id = ${f.ownerId}` : sql`1 = 1`)
  /**
   * The usage rows in [from, to): whole buckets from usage_rollup, and the messages of the partial buckets at
   * either end (bounds given to the millisecond), so the sums are exact whatever the bounds.
   */
  const usageSource = (f: UsageFilter) => {
    const firstBucket = f.from === undefined ? undefined : Math.ceil(f.from / BUCKET_MS)
    const endBucket = f.to === undefined ? undefined : Math.floor(f.to / BUCKET_MS)
    const buckets = [
      own(f),
      firstBucket !== undefined ? sql`bucket >= ${firstBucket}` : undefined,
      endBucket !== undefined ? sql`bucket < ${endBucket}` : undefined,
    ].filter((s) => s !== undefined)
    const edges = [
      f.from !== undefined && firstBucket !== undefined && f.from < firstBucket * BUCKET_MS
        ? sql`(timestamp >= ${f.from} AND timestamp < ${Math.min(firstBucket * BUCKET_MS, f.to ?? Infinity)})`
        : undefined,
      f.to !== undefined && endBucket !== undefined && endBucket * BUCKET_MS < f.to
        ? sql`(timestamp >= ${Math.max(endBucket * BUCKET_MS, f.from ?? -Infinity)} AND timestamp < ${f.to})`
        : undefined,
    ].filter((s) => s !== undefined)
    const rollup = sql`SELECT bucket, model, ${sums}, conversation_id FROM usage_rollup
      WHERE ${sql.join(buckets, sql` AND `)}`
    if (!edges.length) return rollup
    return sql`${rollup} UNION ALL
      SELECT timestamp / ${BUCKET_MS}, coalesce(model, 'unknown'), ${sums}, conversation_id
      FROM messages WHERE ${own(f)}
        AND input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens > 0
        AND (${sql.join(edges, sql` OR `)})`
  }
  /**
   * The same rows from usage_hourly (a fifth as many), as buckets of whole hours: only for bounds on whole hours and
   * reports that need neither the conversation nor its project.
   */
  const hourlySource = (f: UsageFilter) => {
    const conditions = [
      own(f),
      f.from !== undefined ? sql`hour >= ${f.from / HOUR_MS}` : undefined,
      f.to !== undefined ? sql`hour < ${f.to / HOUR_MS}` : undefined,
    ].filter((s) => s !== undefined)
    return sql`SELECT hour * ${HOUR_BUCKETS} AS bucket, model, ${sums}, NULL AS conversation_id FROM usage_hourly
      WHERE ${sql.join(conditions, sql` AND `)}`
  }
  /** Whether usage_hourly can answer: bounds on whole hours, and (by day) every offset change of the zone too. */
  const onWholeHours = (f: UsageFilter, by: ByTimeOrModel) => {
    if ((f.from ?? 0) % HOUR_MS !== 0 || (f.to ?? 0) % HOUR_MS !== 0) return false
    return (
      by === 'model' || by.day.every((s, i) => s.offsetMs % HOUR_MS === 0 && (i === 0 || s.from % HOUR_BUCKETS === 0))
    )
  }
  /**
   * Rows for a report that needs no conversation: usage_daily for the whole UTC days in [from, to), each row at its
   * day's noon; the rest of the range from usage_hourly or usage_rollup. By local day, the hours of those UTC days
   * whose local day is not that of their noon are moved there: taken out at the noon, put back at their own hour
   * (at their quarter hour in an hour holding a local midnight).
   */
  const dailySource = (f: UsageFilter, by: ByTimeOrModel) => {
    const part = (p: UsageFilter) => (onWholeHours(p, by) ? hourlySource(p) : usageSource(p))
    const firstDay = f.from === undefined ? undefined : Math.ceil(f.from / DAY_MS)
    const endDay = f.to === undefined ? undefined : Math.floor(f.to / DAY_MS)
    if (firstDay !== undefined && endDay !== undefined && firstDay >= endDay) return part(f)
    const days = [
      own(f),
      firstDay !== undefined ? sql`day >= ${firstDay}` : undefined,
      endDay !== undefined ? sql`day < ${endDay}` : undefined,
    ].filter((s) => s !== undefined)
    const sources = [
      sql`SELECT day * ${DAY_BUCKETS} + ${NOON} AS bucket, model, ${sums}, NULL AS conversation_id FROM usage_daily
        WHERE ${sql.join(days, sql` AND `)}`,
    ]
    if (firstDay !== undefined && f.from !== undefined && f.from < firstDay * DAY_MS)
      sources.push(part({ ...f, to: firstDay * DAY_MS }))
    if (endDay !== undefined && f.to !== undefined && endDay * DAY_MS < f.to)
      sources.push(part({ ...f, from: endDay * DAY_MS }))
    if (by !== 'model') {
      const whole = by.days.filter(
        (d) => (firstDay === undefined || d >= firstDay) && (endDay === undefined || d < endDay),
      )
      const moved = movedTimes(by.day, whole)
      const times = [
        moved.hours.length
          ? sql`SELECT hour * ${HOUR_BUCKETS} AS bucket, model, ${sums} FROM usage_hourly
              WHERE ${own(f)} AND hour IN (SELECT value FROM json_each(${JSON.stringify(moved.hours)}))`
          : undefined,
        moved.buckets.length
          ? sql`SELECT bucket, model, ${sums} FROM usage_rollup
              WHERE ${own(f)} AND bucket IN (SELECT value FROM json_each(${JSON.stringify(moved.buckets)}))`
          : undefined,
      ].filter((s) => s !== undefined)
      // summed per (local day, UTC day, model) first, then each sum put in its local day and taken out of its noon's
      // (CROSS JOIN keeps the sums the outer loop, so they are made once, not once per sign)
      if (times.length)
        sources.push(sql`
          SELECT CASE s.sign WHEN 1 THEN m.bucket ELSE m.noon END, m.model, s.sign * m.input_tokens,
            s.sign * m.output_tokens, s.sign * m.cache_creation_tokens, s.sign * m.cache_read_tokens,
            s.sign * m.cost_usd, NULL
          FROM (
            SELECT min(u.bucket) AS bucket, u.bucket / ${DAY_BUCKETS} * ${DAY_BUCKETS} + ${NOON} AS noon, u.model,
              sum(u.input_tokens) AS input_tokens, sum(u.output_tokens) AS output_tokens,
              sum(u.cache_creation_tokens) AS cache_creation_tokens, sum(u.cache_read_tokens) AS cache_read_tokens,
              sum(u.cost_usd) AS cost_usd
            FROM (${sql.join(times, sql` UNION ALL `)}) u
            GROUP BY ${localDay(by.day)}, noon, u.model
          ) m CROSS JOIN (SELECT 1 AS sign UNION ALL SELECT -1) s`)
    }
    return sql.join(sources, sql` UNION ALL `)
  }
  /** The local day number (days since 1970-01-01 in the zone) of a bucket, with the zone's offsets in the range. */
  const localDay = (segments: OffsetSegment[]) => {
    const [first, ...rest] = segments
    const offset = rest.length
      ? sql`CASE ${sql.join(
          rest.toReversed().map((s) => sql`WHEN u.bucket >= ${s.from} THEN ${s.offsetMs}`),
          sql` `,
        )} ELSE ${first?.offsetMs ?? 0} END`
      : sql`${first?.offsetMs ?? 0}`
    return sql`(u.bucket * ${BUCKET_MS} + ${offset}) / ${DAY_MS}`
  }
  /** Usage summed per key and model: local days (given the zone's offsets), models, projects or conversations. */
  const usageRows = (f: UsageFilter, by: ByDay | 'model' | 'project' | 'conversation') => {
    // an integer day, not text: grouping on text keys took a third longer
    const key =
      typeof by === 'object'
        ? localDay(by.day)
        : by === 'model'
          ? sql`u.model`
          : by === 'project'
            ? sql`coalesce(c.project_path, '')`
            : sql`u.conversation_id`
    // conversations are joined only when the report needs them
    const join = by === 'project' || by === 'conversation' || f.projectPath !== undefined
    return db.all<UsageRow>(sql`
      SELECT ${key} AS key, ${by === 'conversation' ? sql`max(c.title)` : sql`NULL`} AS label, u.model, ${sumColumns}
      FROM (${join ? usageSource(f) : dailySource(f, by as ByTimeOrModel)}) u
      ${join ? sql`JOIN conversations c ON c.id = u.conversation_id` : sql``}
      ${f.projectPath !== undefined ? sql`WHERE c.project_path = ${f.projectPath}` : sql``}
      GROUP BY 1${by === 'model' ? sql`` : sql`, u.model`}
      -- what moved out of a day and back in at once cancels out
      HAVING sum(u.input_tokens) + sum(u.output_tokens) + sum(u.cache_creation_tokens) + sum(u.cache_read_tokens) != 0`)
  }
  return {
    /**
     * Usage summed per local day and model: the UTC days holding usage in [from, to) (a range of usage_daily's
     * primary key), the zone's offsets on them, and the sums, read in one transaction (so an import committing
     * meanwhile cannot add a day without its offsets).
     */
    async usageByDay(f: UsageFilter, offsetsOn: (days: number[]) => OffsetSegment[]): Promise<UsageRow[]> {
      const conditions = [
        own(f),
        f.from !== undefined ? sql`day >= ${Math.floor(f.from / DAY_MS)}` : undefined,
        f.to !== undefined ? sql`day <= ${Math.floor((f.to - 1) / DAY_MS)}` : undefined,
      ].filter((s) => s !== undefined)
      return db.$client.transaction(() => {
        const days = db
          .all<{ day: number }>(
            sql`SELECT DISTINCT day FROM usage_daily WHERE ${sql.join(conditions, sql` AND `)} ORDER BY day`,
          )
          .map((r) => r.day)
        return days.length ? usageRows(f, { day: offsetsOn(days), days }) : []
      })()
    },
    /** Usage summed per model, project or conversation. */
    async usage(f: UsageFilter, by: 'model' | 'project' | 'conversation'): Promise<UsageRow[]> {
      return usageRows(f, by)
    },
    /** One account's responses' usage in [from, to), oldest first: what billing blocks are cut from. */
    async responses(f: UsageFilter & { ownerId: string }) {
      const conditions = [
        sql`owner_id = ${f.ownerId}`,
        f.from !== undefined ? sql`timestamp >= ${f.from}` : undefined,
        f.to !== undefined ? sql`timestamp < ${f.to}` : undefined,
        sql`input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens > 0`,
      ].filter((s) => s !== undefined)
      return db.all<Omit<UsageRow, 'key' | 'label'> & { timestamp: number }>(sql`
        SELECT timestamp, model, input_tokens AS input, output_tokens AS output,
               cache_creation_tokens AS cache_creation, cache_read_tokens AS cache_read, cost_usd AS cost
        FROM messages WHERE ${sql.join(conditions, sql` AND `)} ORDER BY timestamp, seq`)
    },
    /**
     * When the run of activity going on at `at` began: its first response, the first after a pause longer than
     * `gapMs` (a pause that long always starts a block), or null when the account has no response before `at`.
     * Read backwards a page at a time: a night's pause is usually in the first page.
     */
    async activityStart(ownerId: string, at: number, gapMs: number) {
      const PAGE = 1000
      let later: number | null = null
      for (let before = at; ; ) {
        const page = db.all<{ timestamp: number }>(sql`
          SELECT timestamp FROM messages WHERE owner_id = ${ownerId} AND timestamp < ${before}
            AND input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens > 0
          ORDER BY timestamp DESC LIMIT ${PAGE}`)
        for (const { timestamp } of page) {
          if (later !== null && later - timestamp > gapMs) return later
          later = timestamp
        }
        if (page.length < PAGE || later === null) return later
        before = later // (responses at the very same time as this one carry no pause)
      }
    },
    async toolCounts(f: ToolFilter) {
      return db.all<{ name: string; calls: number; errors: number }>(sql`
        SELECT tc.name, count(*) AS calls, sum(tc.is_error) AS errors FROM tool_calls tc ${toolJoin(f)}
        GROUP BY tc.name ORDER BY calls DESC, tc.name`)
    },
    async toolDurations(f: ToolFilter) {
      return db.all<{ name: string; duration: number }>(sql`
        SELECT tc.name, tc.duration_ms AS duration FROM tool_calls tc ${toolJoin(f, sql`tc.duration_ms IS NOT NULL`)}
        ORDER BY tc.name, tc.duration_ms`)
    },
    async overview(ownerId: string | null) {
      const own = (alias: string) => (ownerId === null ? sql`1 = 1` : sql`${sql.raw(alias)}.owner_id = ${ownerId}`)
      const counts = firstRow<Record<'conversations' | 'messages' | 'tool_calls' | 'files', number>>(
        db,
        sql`
        SELECT (SELECT count(*) FROM conversations c WHERE ${own('c')}) AS conversations,
               (SELECT count(*) FROM messages m WHERE ${own('m')}) AS messages,
               (SELECT count(*) FROM tool_calls t WHERE ${own('t')}) AS tool_calls,
               (SELECT count(*) FROM sources s WHERE ${own('s')} AND s.replaced_at IS NULL) AS files`,
      )
      const tokens = firstRow<Omit<UsageRow, 'key' | 'label' | 'model'>>(
        db,
        sql`
        SELECT coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output,
               coalesce(sum(cache_creation_tokens), 0) AS cache_creation, coalesce(sum(cache_read_tokens), 0) AS cache_read,
               coalesce(sum(cost_usd), 0) AS cost
        FROM conversations c WHERE ${own('c')}`,
      )
      const days = db.all<{ day: number }>(sql`
        SELECT DISTINCT m.timestamp / 86400000 AS day FROM messages m WHERE ${own('m')} AND m.role IS NOT NULL`)
      const projects = db.all<{ project_path: string; conversations: number; cost_usd: number }>(sql`
        SELECT project_path, count(*) AS conversations, sum(cost_usd) AS cost_usd FROM conversations c
        WHERE ${own('c')} AND project_path IS NOT NULL GROUP BY project_path ORDER BY cost_usd DESC, conversations DESC LIMIT 10`)
      const models = db.all<{ model: string; total_tokens: number; cost_usd: number }>(sql`
        SELECT model, sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) AS total_tokens,
               sum(cost_usd) AS cost_usd
        FROM usage_rollup u WHERE ${own('u')} AND model != 'unknown'
        GROUP BY model ORDER BY total_tokens DESC LIMIT 10`)
      const tools = db.all<{ name: string; calls: number }>(sql`
        SELECT name, count(*) AS calls FROM tool_calls t WHERE ${own('t')} GROUP BY name ORDER BY calls DESC, name LIMIT 10`)
      return { counts, tokens, days: days.length, projects, models, tools }
    },
  }
}

function toolJoin(f: ToolFilter, extra?: ReturnType<typeof sql>) {
  const conditions = [
    f.ownerId !== null ? sql`tc.owner_id = ${f.ownerId}` : undefined,
    f.conversationId !== undefined ? sql`tc.conversation_id = ${f.conversationId}` : undefined,
    f.projectPath !== undefined ? sql`c.project_path = ${f.projectPath}` : undefined,
    f.from !== undefined ? sql`coalesce(tc.started_at, tc.ended_at) >= ${f.from}` : undefined,
    f.to !== undefined ? sql`coalesce(tc.started_at, tc.ended_at) < ${f.to}` : undefined,
    extra,
  ].filter((s) => s !== undefined)
  return sql`JOIN conversations c ON c.id = tc.conversation_id WHERE ${conditions.length ? sql.join(conditions, sql` AND `) : sql`1 = 1`}`
}
export type AnalyticsRepository = ReturnType<typeof createAnalyticsRepository>
