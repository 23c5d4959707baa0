import { sql } from 'drizzle-orm'
import { type Db, firstRow } from '../../db/client'

export type SearchFilter = {
  match: string
  ownerId: string | null
  conversationId?: string
  projectPath?: string
  role?: string
  model?: string
  tool?: string
  from?: number
  to?: number
  includeSidechains: boolean
}

export type SearchRow = {
  message_id: string
  conversation_id: string
  conversation_title: string | null
  role: 'user' | 'assistant' | 'system' | null
  model: string | null
  timestamp: number
  snippet: string
  rank: number
}

/** Snippet markers: control characters that never appear in text, replaced by <mark> after HTML escaping. */
export const MARK_OPEN = '\u0002'
export const MARK_CLOSE = '\u0003'

/** FTS5 queries over messages_fts; `match` is always a query built by toFtsQuery, never raw input. */
export function createSearchRepository(db: Db) {
  const where = (f: SearchFilter) =>
    sql.join(
      [
        sql`messages_fts MATCH ${f.match}`,
        f.ownerId !== null ? sql`m.owner_id = ${f.ownerId}` : undefined,
        f.conversationId !== undefined ? sql`m.conversation_id = ${f.conversationId}` : undefined,
        f.projectPath !== undefined ? sql`c.project_path = ${f.projectPath}` : undefined,
        f.role !== undefined ? sql`m.role = ${f.role}` : undefined,
        f.model !== undefined ? sql`m.model = ${f.model}` : undefined,
        f.tool !== undefined
          ? sql`EXISTS (SELECT 1 FROM tool_calls tc WHERE tc.message_id = m.id AND tc.name = ${f.tool})`
          : undefined,
        f.from !== undefined ? sql`m.timestamp >= ${f.from}` : undefined,
        f.to !== undefined ? sql`m.timestamp < ${f.to}` : undefined,
        f.includeSidechains ? undefined : sql`m.is_sidechain = 0`,
      ].filter((s) => s !== undefined),
      sql` AND `,
    )
  return {
    async search(f: SearchFilter, limit: number, offset: number) {
      const condition = where(f)
      const rows = db.all<SearchRow>(sql`
        SELECT m.id AS message_id, m.conversation_id, c.title AS conversation_title, m.role, m.model, m.timestamp,
               snippet(messages_fts, 0, ${MARK_OPEN}, ${MARK_CLOSE}, '…', 24) AS snippet,
               bm25(messages_fts) AS rank
        FROM messages_fts
        JOIN messages m ON m.seq = messages_fts.rowid
        JOIN conversations c ON c.id = m.conversation_id
        WHERE ${condition}
        ORDER BY rank, m.seq
        LIMIT ${limit} OFFSET ${offset}`)
      const total = firstRow<{ n: number }>(
        db,
        sql`
        SELECT count(*) AS n FROM messages_fts
        JOIN messages m ON m.seq = messages_fts.rowid
        JOIN conversations c ON c.id = m.conversation_id
        WHERE ${condition}`,
      )
      return { rows, total: total?.n ?? 0 }
    },
  }
}
export type SearchRepository = ReturnType<typeof createSearchRepository>
