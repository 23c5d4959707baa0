import { and, asc, count, desc, eq, gte, inArray, isNull, lt, ne, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { conversationSources, conversations, files, importErrors, sources } from '../../db/schema'

export type FileRow = typeof files.$inferSelect

/** Drizzle only: uploaded and server-side files, and the line errors each one's imports found. */
export function createFileRepository(db: Db) {
  const scoped = (ownerId: string | null, id: string) =>
    ownerId === null ? eq(files.id, id) : and(eq(files.id, id), eq(files.ownerId, ownerId))
  const sourceOf = (row: FileRow) =>
    db
      .select({ id: sources.id })
      .from(sources)
      .where(and(eq(sources.ownerId, row.ownerId), eq(sources.sourceKey, row.sourceKey), isNull(sources.replacedAt)))
      .get()
  // the source's bad lines in the bytes this record's imports read (the other uploads of its key read the rest)
  const errorsOfRecord = (sourceId: string, row: FileRow, fromOffset: number) =>
    and(
      eq(importErrors.sourceId, sourceId),
      gte(importErrors.offset, Math.max(row.startOffset ?? 0, fromOffset)),
      lt(importErrors.offset, row.bytesDone),
    )
  const errorRows = (where: ReturnType<typeof errorsOfRecord>, limit: number, offset: number) =>
    db
      .select({
        line: importErrors.line,
        offset: importErrors.offset,
        reason: importErrors.reason,
        message: importErrors.message,
      })
      .from(importErrors)
      .where(where)
      .orderBy(asc(importErrors.line))
      .limit(limit)
      .offset(offset)
      .all()
  return {
    async insert(row: typeof files.$inferInsert) {
      return db.insert(files).values(row).returning().get()
    },
    async find(ownerId: string | null, id: string) {
      return db.select().from(files).where(scoped(ownerId, id)).get()
    },
    async list(ownerId: string | null, limit: number, offset: number) {
      const where = ownerId === null ? undefined : eq(files.ownerId, ownerId)
      const rows = db
        .select()
        .from(files)
        .where(where)
        .orderBy(desc(files.createdAt), desc(files.id))
        .limit(limit)
        .offset(offset)
        .all()
      return { rows, total: db.select({ n: count() }).from(files).where(where).get()?.n ?? 0 }
    },
    async update(id: string, patch: Partial<typeof files.$inferInsert>) {
      return db.update(files).set(patch).where(eq(files.id, id)).returning().get()
    },
    async delete(id: string) {
      return db.delete(files).where(eq(files.id, id)).returning().get()
    },
    /** The newest upload under this source key (its stored file is the one the key's uploads build up). */
    async latestOf(ownerId: string, sourceKey: string) {
      return db
        .select()
        .from(files)
        .where(and(eq(files.ownerId, ownerId), eq(files.sourceKey, sourceKey)))
        .orderBy(desc(files.createdAt), desc(files.id))
        .limit(1)
        .get()
    },
    /** Leaves the key's other records no bad lines of their own (its file was read again from the start). */
    async emptyErrorRangesOfKey(ownerId: string, sourceKey: string, exceptId: string) {
      db.update(files)
        .set({ startOffset: sql`${files.bytesDone}` })
        .where(and(eq(files.ownerId, ownerId), eq(files.sourceKey, sourceKey), ne(files.id, exceptId)))
        .run()
    },
    /** Whether a file record whose import has yet to finish reads from this stored path. */
    async pathStillImporting(storedPath: string) {
      const row = db
        .select({ id: files.id })
        .from(files)
        .where(and(eq(files.storedPath, storedPath), inArray(files.status, ['pending', 'processing'])))
        .limit(1)
        .get()
      return row !== undefined
    },
    /** The record's bad lines (a page of them, and how many there are), from `fromOffset` on. */
    async errors(row: FileRow, limit: number, offset: number, fromOffset = 0) {
      const source = sourceOf(row)
      if (!source) return { rows: [], total: 0 }
      const where = errorsOfRecord(source.id, row, fromOffset)
      return {
        rows: errorRows(where, limit, offset),
        total: db.select({ n: count() }).from(importErrors).where(where).get()?.n ?? 0,
      }
    },
    /**
     * What a record shows beside its own columns: its first bad lines, and the conversations its file added messages
     * to (those its lines are exported with; none while the record has added none).
     */
    async detailsOf(row: FileRow, firstErrors: number) {
      const source = sourceOf(row)
      if (!source) return { firstErrors: [], conversationIds: [] }
      const conversationIds =
        row.messagesAdded > 0
          ? db
              .select({ id: conversationSources.conversationId })
              .from(conversationSources)
              .innerJoin(conversations, eq(conversations.id, conversationSources.conversationId))
              .where(
                and(
                  eq(conversationSources.sourceId, source.id),
                  eq(conversationSources.inExport, true),
                  eq(conversations.ownerId, row.ownerId),
                ),
              )
              .orderBy(asc(conversationSources.conversationId))
              .all()
              .map((r) => r.id)
          : []
      return { firstErrors: errorRows(errorsOfRecord(source.id, row, 0), firstErrors, 0), conversationIds }
    },
  }
}
export type FileRepository = ReturnType<typeof createFileRepository>
