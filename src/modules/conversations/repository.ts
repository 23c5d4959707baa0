import { and, asc, count, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { conversations } from '../../db/schema'
import { LINE_SESSION } from '../ingest/repository'

export type ConversationRow = typeof conversations.$inferSelect
export type NewConversationRow = typeof conversations.$inferInsert
/** What a session upsert sets (every key given, null for unknown). */
export type SessionRow = {
  id: string
  ownerId: string
  workspaceId: string | null
  title: string | null
  titleSource: 'user' | null
  gitBranch: string | null
  projectPath: string | null
  startedAt: number
  createdAt: number
  updatedAt: number
}

export type ConversationFilter = {
  /** null: every owner (admins) */
  ownerId: string | null
  projectPath?: string
  workspaceId?: string
  titleContains?: string
  startedFrom?: number
  startedTo?: number
}
export type ConversationSort = { by: 'title' | 'created_at' | 'updated_at'; order: 'asc' | 'desc' }

/** Sortable columns: an allowlist, so no request text reaches ORDER BY. */
const sortColumns = {
  title: conversations.title,
  created_at: conversations.createdAt,
  updated_at: conversations.updatedAt,
} as const

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`)

/** Drizzle only: rows in, rows out. */
export function createConversationRepository(db: Db) {
  const byId = db
    .select()
    .from(conversations)
    .where(eq(conversations.id, sql.placeholder('id')))
    .prepare()
  const byIdAndOwner = db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, sql.placeholder('id')), eq(conversations.ownerId, sql.placeholder('ownerId'))))
    .prepare()

  // prepared once: hooks upsert their session on every call
  const upsertSessionStatement = db
    .insert(conversations)
    .values({
      id: sql.placeholder('id'),
      ownerId: sql.placeholder('ownerId'),
      source: 'claude-code',
      workspaceId: sql.placeholder('workspaceId'),
      title: sql.placeholder('title'),
      titleSource: sql.placeholder('titleSource'),
      gitBranch: sql.placeholder('gitBranch'),
      projectPath: sql.placeholder('projectPath'),
      startedAt: sql.placeholder('startedAt'),
      createdAt: sql.placeholder('createdAt'),
      updatedAt: sql.placeholder('updatedAt'),
    })
    .onConflictDoUpdate({
      target: conversations.id,
      set: {
        workspaceId: sql`coalesce(excluded.workspace_id, ${conversations.workspaceId})`,
        gitBranch: sql`coalesce(excluded.git_branch, ${conversations.gitBranch})`,
        projectPath: sql`coalesce(${conversations.projectPath}, excluded.project_path)`,
        title: sql`CASE WHEN excluded.title IS NOT NULL THEN excluded.title ELSE ${conversations.title} END`,
        titleSource: sql`CASE WHEN excluded.title IS NOT NULL THEN 'user' ELSE ${conversations.titleSource} END`,
      },
      setWhere: sql`${conversations.ownerId} = excluded.owner_id AND (
          (excluded.workspace_id IS NOT NULL AND excluded.workspace_id IS NOT ${conversations.workspaceId})
          OR (excluded.git_branch IS NOT NULL AND excluded.git_branch IS NOT ${conversations.gitBranch})
          OR (${conversations.projectPath} IS NULL AND excluded.project_path IS NOT NULL)
          OR (excluded.title IS NOT NULL
              AND (excluded.title IS NOT ${conversations.title} OR ${conversations.titleSource} IS NOT 'user')))`,
    })
    .returning()
    .prepare()

  // A list's statements are prepared once per shape (which filters, which order) with the values as placeholders:
  // building and preparing the query on every request cost more than running it.
  const placeholder = sql.placeholder
  const where = (f: ConversationFilter): SQL | undefined =>
    and(
      f.ownerId !== null ? eq(conversations.ownerId, placeholder('ownerId')) : undefined,
      f.projectPath !== undefined ? eq(conversations.projectPath, placeholder('projectPath')) : undefined,
      f.workspaceId !== undefined ? eq(conversations.workspaceId, placeholder('workspaceId')) : undefined,
      f.titleContains ? sql`${conversations.title} LIKE ${placeholder('titleLike')} ESCAPE '\\'` : undefined,
      f.startedFrom !== undefined ? gte(conversations.startedAt, placeholder('startedFrom')) : undefined,
      f.startedTo !== undefined ? lt(conversations.startedAt, placeholder('startedTo')) : undefined,
    )
  const prepareList = (f: ConversationFilter, sort: ConversationSort) => {
    const condition = where(f)
    const dir = sort.order === 'asc' ? asc : desc
    return {
      page: db
        .select()
        .from(conversations)
        .where(condition)
        .orderBy(dir(sortColumns[sort.by]), dir(conversations.id))
        .limit(placeholder('limit'))
        .offset(placeholder('offset'))
        .prepare(),
      count: db.select({ n: count() }).from(conversations).where(condition).prepare(),
    }
  }
  const listStatements = new Map<string, ReturnType<typeof prepareList>>()
  const statementsOf = (f: ConversationFilter, sort: ConversationSort = { by: 'updated_at', order: 'desc' }) => {
    const shape = [
      f.ownerId !== null,
      f.projectPath !== undefined,
      f.workspaceId !== undefined,
      Boolean(f.titleContains),
      f.startedFrom !== undefined,
      f.startedTo !== undefined,
      sort.by,
      sort.order,
    ].join()
    let statements = listStatements.get(shape)
    if (!statements) {
      statements = prepareList(f, sort)
      listStatements.set(shape, statements)
    }
    return statements
  }
  const valuesOf = (f: ConversationFilter) => ({
    ownerId: f.ownerId,
    projectPath: f.projectPath,
    workspaceId: f.workspaceId,
    titleLike: f.titleContains ? `%${escapeLike(f.titleContains)}%` : undefined,
    startedFrom: f.startedFrom,
    startedTo: f.startedTo,
  })

  return {
    /** A page of the conversations that pass the filter, in the given order. */
    async page(filter: ConversationFilter, sort: ConversationSort, limit: number, offset: number) {
      return statementsOf(filter, sort).page.all({ ...valuesOf(filter), limit, offset })
    },
    /** How many conversations pass the filter. */
    async count(filter: ConversationFilter) {
      return statementsOf(filter).count.get(valuesOf(filter))?.n ?? 0
    },
    /** The conversation if it exists and, unless ownerId is null, belongs to that owner. */
    async find(id: string, ownerId: string | null) {
      return ownerId === null ? byId.get({ id }) : byIdAndOwner.get({ id, ownerId })
    },
    async insert(row: NewConversationRow) {
      return db.insert(conversations).values(row).returning().get()
    },
    /**
     * Creates a session's conversation or links it to a workspace; another owner's row is left untouched (undefined).
     * A row that would not change is not rewritten: hooks repeat what is known on every call, and an unchanged
     * upsert then costs a read, not a page written to the WAL.
     */
    async upsertSession(row: SessionRow) {
      const changed = upsertSessionStatement.get(row)
      return changed ?? byIdAndOwner.get({ id: row.id, ownerId: row.ownerId })
    },
    async update(id: string, patch: Partial<NewConversationRow>) {
      return db.update(conversations).set(patch).where(eq(conversations.id, id)).returning().get()
    },
    /**
     * Deletes a conversation with everything it holds (messages, tool calls and usage cascade), its transcript lines
     * included: the files that hold no other conversation's lines go whole, second copies of its lines too (so
     * importing one again brings the conversation back); in a file shared with other sessions, its messages' lines
     * and every line naming it.
     */
    async delete(id: string) {
      return db.transaction(
        (tx) => {
          tx.run(sql`
            DELETE FROM raw_lines WHERE (source_id, line) IN (
              SELECT raw_source_id, raw_line FROM messages WHERE conversation_id = ${id} AND raw_source_id IS NOT NULL)`)
          // (another conversation's file only holding copies of its lines, a resumed session's, is left as it is)
          tx.run(sql`
            DELETE FROM raw_lines WHERE ${sql.raw(LINE_SESSION)} = ${id} AND source_id IN (
              SELECT cs.source_id FROM conversation_sources cs WHERE cs.conversation_id = ${id} AND cs.in_export
                AND EXISTS (SELECT 1 FROM conversation_sources o
                            WHERE o.source_id = cs.source_id AND o.conversation_id != ${id} AND o.in_export))`)
          tx.run(sql`
            DELETE FROM sources WHERE id IN (SELECT source_id FROM conversation_sources WHERE conversation_id = ${id})
              AND NOT EXISTS (SELECT 1 FROM conversation_sources o
                              WHERE o.source_id = sources.id AND o.conversation_id != ${id} AND o.in_export)`)
          return tx.delete(conversations).where(eq(conversations.id, id)).returning({ id: conversations.id }).get()
        },
        { behavior: 'immediate' },
      )
    },
  }
}
export type ConversationRepository = ReturnType<typeof createConversationRepository>

/**
 * Recomputes a conversation's aggregates from its messages (exact after any change) and its title
 * (refreshConversationTitle). Runs inside the caller's write transaction.
 */
export function refreshConversationAggregates(tx: Pick<Db, 'run'>, conversationId: string, now: number) {
  const id = conversationId
  // one pass over the conversation's messages for every total
  tx.run(sql`
    UPDATE conversations SET (message_count, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
                              cost_usd, started_at, ended_at, updated_at) = (
      SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
             coalesce(sum(cache_creation_tokens), 0), coalesce(sum(cache_read_tokens), 0), coalesce(sum(cost_usd), 0),
             coalesce(min(timestamp), conversations.created_at), max(timestamp), ${now}
      FROM messages WHERE conversation_id = ${id})
    WHERE id = ${id}`)
  tx.run(sql`
    UPDATE conversations SET models = (SELECT json_group_array(model) FROM (SELECT DISTINCT model FROM messages
      WHERE conversation_id = ${id} AND model IS NOT NULL AND model <> '<synthetic>' ORDER BY model))
    WHERE id = ${id}`)
  refreshConversationTitle(tx, id)
}

/**
 * Derives the title, unless a user set it: custom-title, else ai-title, else the summary whose leaf is one of its
 * messages, else the first prompt. Runs inside the caller's write transaction.
 */
export function refreshConversationTitle(tx: Pick<Db, 'run'>, id: string) {
  tx.run(sql`
    UPDATE conversations SET (title, title_source) = (
      SELECT CASE WHEN d.source IS NULL THEN conversations.title ELSE d.title END,
             coalesce(d.source, conversations.title_source)
      FROM (SELECT
        coalesce(custom_title, ai_title, s.summary, first_prompt) AS title,
        CASE WHEN custom_title IS NOT NULL THEN 'custom-title' WHEN ai_title IS NOT NULL THEN 'ai-title'
             WHEN s.summary IS NOT NULL THEN 'summary' WHEN first_prompt IS NOT NULL THEN 'prompt' END AS source
        FROM (SELECT (SELECT summaries.summary FROM summaries JOIN messages m ON m.id = summaries.leaf_uuid
                      WHERE m.conversation_id = ${id} AND summaries.owner_id = conversations.owner_id
                      ORDER BY m.seq DESC LIMIT 1) AS summary) AS s) AS d)
    WHERE id = ${id} AND (title_source IS NULL OR title_source <> 'user')`)
}
