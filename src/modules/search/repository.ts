import { sql } from 'drizzle-orm'
import { type Db, firstRow } from '../../db/client'
import { MARK_CLOSE, MARK_OPEN } from '../../lib/content'

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

/** How many of the newest matches a search ranks, and the most it counts. */
export const SEARCH_WINDOW = 1000

/**
 * FTS5 queries over messages_fts; `match` is always a query built by toFtsQuery, never raw input. The full-text match
 * always drives (CROSS JOIN fixes the join order): led by an index on a filter instead (a date range, an owner),
 * SQLite would run the MATCH once per message in the range.
 */
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
    /**
     * The page of hits and how many match (at most SEARCH_WINDOW + 1). The newest SEARCH_WINDOW matches that pass
     * the filters are ranked by bm25, so the cost of a query is bounded whatever the number of matches; only the
     * page's rows get a snippet.
     */
    async search(f: SearchFilter, limit: number, offset: number) {
      const condition = where(f)
      const ranked = db.all<{ seq: number; rank: number; matches: number }>(sql`
        WITH hits AS MATERIALIZED (
          SELECT messages_fts.rowid AS seq, bm25(messages_fts) AS rank
          FROM messages_fts
          CROSS JOIN messages m ON m.seq = messages_fts.rowid
          ${f.projectPath !== undefined ? sql`CROSS JOIN conversations c ON c.id = m.conversation_id` : sql``}
          WHERE ${condition}
          ORDER BY messages_fts.rowid DESC
          LIMIT ${SEARCH_WINDOW + 1})
        SELECT seq, rank, (SELECT count(*) FROM hits) AS matches
        FROM (SELECT seq, rank FROM hits ORDER BY seq DESC LIMIT ${SEARCH_WINDOW})
        ORDER BY rank, seq DESC
        LIMIT ${limit} OFFSET ${offset}`)
      if (ranked.length === 0) {
        const any = firstRow<{ n: number }>(
          db,
          sql`SELECT count(*) AS n FROM (SELECT 1 FROM messages_fts CROSS JOIN messages m ON m.seq = messages_fts.rowid
            ${f.projectPath !== undefined ? sql`CROSS JOIN conversations c ON c.id = m.conversation_id` : sql``}
            WHERE ${condition} LIMIT ${SEARCH_WINDOW + 1})`,
        )
        return { rows: [], matches: any?.n ?? 0 }
      }
      // FTS5 seeks a rowid range within the match; a rowid list it would match again per rowid (a prefix query's
      // merged term lists each time), so the list only filters the range's rows
      const seqs = ranked.map((r) => r.seq)
      const details = db.all<Omit<SearchRow, 'rank'> & { seq: number }>(sql`
        SELECT messages_fts.rowid AS seq, m.id AS message_id, m.conversation_id, c.title AS conversation_title, m.role,
               m.model, m.timestamp, snippet(messages_fts, 0, ${MARK_OPEN}, ${MARK_CLOSE}, '…', 24) AS snippet
        FROM messages_fts
        CROSS JOIN messages m ON m.seq = messages_fts.rowid
        CROSS JOIN conversations c ON c.id = m.conversation_id
        WHERE messages_fts MATCH ${f.match}
          AND messages_fts.rowid BETWEEN ${Math.min(...seqs)} AND ${Math.max(...seqs)}
          AND +messages_fts.rowid IN (${sql.join(
            seqs.map((seq) => sql`${seq}`),
            sql`, `,
          )})`)
      const bySeq = new Map(details.map(({ seq, ...row }) => [seq, row]))
      const rows = ranked.flatMap((r) => {
        const row = bySeq.get(r.seq)
        return row ? [{ ...row, rank: r.rank }] : []
      })
      return { rows, matches: ranked[0]?.matches ?? 0 }
    },
  }
}
export type SearchRepository = ReturnType<typeof createSearchRepository>
