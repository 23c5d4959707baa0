import { sql } from 'drizzle-orm'
import { type Db, firstRow } from '../../db/client'

export type UsageFilter = { ownerId: string | null; from?: number; to?: number; projectPath?: string }
export type UsageRow = {
  key: string
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

/** The length of a time bucket: a quarter hour divides every time zone's offset, so buckets map to local days. */
export const BUCKET_MS = 15 * 60_000

const sumColumns = sql`sum(m.input_tokens) AS input, sum(m.output_tokens) AS output,
  sum(m.cache_creation_tokens) AS cache_creation, sum(m.cache_read_tokens) AS cache_read, sum(m.cost_usd) AS cost`

/** Aggregates over messages and tool calls. Only lines that carry a response's usage have tokens. */
export function createAnalyticsRepository(db: Db) {
  const usageWhere = (f: UsageFilter) =>
    sql.join(
      [
        // the same expression as the partial index messages_usage_idx, so the planner can use it
        sql`(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) > 0`,
        f.ownerId !== null ? sql`m.owner_id = ${f.ownerId}` : undefined,
        f.from !== undefined ? sql`m.timestamp >= ${f.from}` : undefined,
        f.to !== undefined ? sql`m.timestamp < ${f.to}` : undefined,
        f.projectPath !== undefined ? sql`c.project_path = ${f.projectPath}` : undefined,
      ].filter((s) => s !== undefined),
      sql` AND `,
    )
  const keyColumn = {
    bucket: sql`CAST(m.timestamp / ${BUCKET_MS} AS TEXT)`,
    model: sql`coalesce(m.model, 'unknown')`,
    project: sql`coalesce(c.project_path, '')`,
    conversation: sql`m.conversation_id`,
  }
  return {
    /** Usage summed per key and model: time buckets (BUCKET_MS), models, projects or conversations. */
    async usage(f: UsageFilter, by: keyof typeof keyColumn) {
      // conversations are joined only when the report needs them
      const join = by === 'project' || by === 'conversation' || f.projectPath !== undefined
      return db.all<UsageRow>(sql`
        SELECT ${keyColumn[by]} AS key, ${by === 'conversation' ? sql`max(c.title)` : sql`NULL`} AS label, m.model, ${sumColumns}
        FROM messages m ${join ? sql`JOIN conversations c ON c.id = m.conversation_id` : sql``}
        WHERE ${usageWhere(f)}
        GROUP BY 1, m.model`)
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
               (SELECT count(*) FROM files f WHERE ${own('f')}) AS files`,
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
        SELECT m.model, sum(m.input_tokens + m.output_tokens + m.cache_creation_tokens + m.cache_read_tokens) AS total_tokens,
               sum(m.cost_usd) AS cost_usd
        FROM messages m WHERE ${own('m')} AND m.model IS NOT NULL
          AND (m.input_tokens + m.output_tokens + m.cache_creation_tokens + m.cache_read_tokens) > 0
        GROUP BY m.model ORDER BY total_tokens DESC LIMIT 10`)
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
