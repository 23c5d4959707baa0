import { and, asc, count, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { conversations } from '../../db/schema'

export type ConversationRow = typeof conversations.$inferSelect
export type NewConversationRow = typeof conversations.$inferInsert

export type ConversationFilter = {
  /** null: every owner (admins) */
  ownerId: string | null
  projectPath?: string
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

  const where = (f: ConversationFilter): SQL | undefined =>
    and(
      f.ownerId !== null ? eq(conversations.ownerId, f.ownerId) : undefined,
      f.projectPath !== undefined ? eq(conversations.projectPath, f.projectPath) : undefined,
      f.titleContains ? sql`${conversations.title} LIKE ${`%${escapeLike(f.titleContains)}%`} ESCAPE '\\'` : undefined,
      f.startedFrom !== undefined ? gte(conversations.startedAt, f.startedFrom) : undefined,
      f.startedTo !== undefined ? lt(conversations.startedAt, f.startedTo) : undefined,
    )

  return {
    async list(filter: ConversationFilter, sort: ConversationSort, limit: number, offset: number) {
      const condition = where(filter)
      const dir = sort.order === 'asc' ? asc : desc
      const rows = db
        .select()
        .from(conversations)
        .where(condition)
        .orderBy(dir(sortColumns[sort.by]), dir(conversations.id))
        .limit(limit)
        .offset(offset)
        .all()
      const total = db.select({ n: count() }).from(conversations).where(condition).get()?.n ?? 0
      return { rows, total }
    },
    /** The conversation if it exists and, unless ownerId is null, belongs to that owner. */
    async find(id: string, ownerId: string | null) {
      return ownerId === null ? byId.get({ id }) : byIdAndOwner.get({ id, ownerId })
    },
    async insert(row: NewConversationRow) {
      return db.insert(conversations).values(row).returning().get()
    },
    async update(id: string, patch: Partial<NewConversationRow>) {
      return db.update(conversations).set(patch).where(eq(conversations.id, id)).returning().get()
    },
    /** Deletes the conversation; its messages and tool calls go with it (ON DELETE CASCADE). */
    async delete(id: string) {
      return db.delete(conversations).where(eq(conversations.id, id)).returning({ id: conversations.id }).get()
    },
  }
}
export type ConversationRepository = ReturnType<typeof createConversationRepository>
