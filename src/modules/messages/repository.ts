import { and, asc, eq, getTableColumns, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { messages, rawLines, toolCalls } from '../../db/schema'
import { refreshConversationAggregates } from '../conversations/repository'

/** A message row; an imported one also brings the transcript line its content is read from (`raw`). */
export type MessageRow = typeof messages.$inferSelect & { raw?: Buffer | null }
export type NewMessageRow = typeof messages.$inferInsert
export type ToolCallRow = typeof toolCalls.$inferSelect
export type NewToolCallRow = typeof toolCalls.$inferInsert

/**
 * Drizzle only. A conversation's message count, token totals, cost, models and time span are kept on its row;
 * every write here updates them in the same transaction as the messages it changes.
 */
export function createMessageRepository(db: Db) {
  // an imported message's content is its transcript line's (stored once, in raw_lines)
  const withRaw = () =>
    db
      .select({ ...getTableColumns(messages), raw: rawLines.raw })
      .from(messages)
      .leftJoin(rawLines, and(eq(rawLines.sourceId, messages.rawSourceId), eq(rawLines.line, messages.rawLine)))
  const byId = withRaw()
    .where(and(eq(messages.conversationId, sql.placeholder('conversationId')), eq(messages.id, sql.placeholder('id'))))
    .prepare()
  // Prepared once: building a query per request cost more than running it. The page is chosen on the index alone,
  // then joined to its lines: with the join under the OFFSET, every skipped message was joined too (9 ms at 9,000).
  const page = withRaw()
    .where(
      inArray(
        messages.seq,
        db
          .select({ seq: messages.seq })
          .from(messages)
          .where(eq(messages.conversationId, sql.placeholder('conversationId')))
          .orderBy(asc(messages.timestamp), asc(messages.seq))
          .limit(sql.placeholder('limit'))
          .offset(sql.placeholder('offset')),
      ),
    )
    .orderBy(asc(messages.timestamp), asc(messages.seq))
    .prepare()
  // the ids as one JSON array parameter, so one statement serves any number of them
  const toolCallsOfMessages = db
    .select()
    .from(toolCalls)
    .where(sql`${toolCalls.messageId} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`)
    .prepare()

  return {
    async list(conversationId: string, limit: number, offset: number) {
      return page.all({ conversationId, limit, offset })
    },
    async find(conversationId: string, id: string) {
      return byId.get({ conversationId, id })
    },
    /** The threading columns of every message of a conversation (small rows: enough to order a long session). */
    async skeleton(conversationId: string) {
      return db
        .select({
          id: messages.id,
          parentId: messages.parentId,
          logicalParentId: messages.logicalParentId,
          subtype: messages.subtype,
          isSidechain: messages.isSidechain,
          agentId: messages.agentId,
        })
        .from(messages)
        .where(eq(messages.conversationId, conversationId))
        .orderBy(asc(messages.timestamp), asc(messages.seq))
        .all()
    },
    /** Tool calls that started a subagent: the agent id and the message that made the call. */
    async agentSpawns(conversationId: string) {
      return db
        .select({ id: toolCalls.id, agentId: toolCalls.agentId, messageId: toolCalls.messageId })
        .from(toolCalls)
        .where(and(eq(toolCalls.conversationId, conversationId), sql`${toolCalls.agentId} IS NOT NULL`))
        .all()
    },
    async findMany(ids: string[]) {
      if (ids.length === 0) return []
      return withRaw().where(inArray(messages.id, ids)).all()
    },
    async toolCallsOf(messageIds: string[]) {
      if (messageIds.length === 0) return []
      return toolCallsOfMessages.all({ ids: JSON.stringify(messageIds) })
    },
    async toolCallExists(conversationId: string, ids: string[]) {
      if (ids.length === 0) return false
      const row = db
        .select({ id: toolCalls.id })
        .from(toolCalls)
        .where(and(eq(toolCalls.conversationId, conversationId), inArray(toolCalls.id, ids)))
        .get()
      return row !== undefined
    },
    /**
     * Inserts a message and the tool calls it starts, completes the calls of the conversation it answers (`results`),
     * and updates the conversation's aggregates, atomically.
     */
    async insert(
      row: NewMessageRow,
      calls: NewToolCallRow[],
      results: { id: string; result: string; isError: boolean; endedAt: number }[] = [],
    ) {
      return db.transaction(
        (tx) => {
          const inserted = tx.insert(messages).values(row).returning().get()
          tx.run(sql`INSERT INTO messages_fts (rowid, text) VALUES (${inserted.seq}, ${inserted.text})`)
          if (calls.length > 0) tx.insert(toolCalls).values(calls).run()
          for (const r of results)
            tx.update(toolCalls)
              .set({
                result: r.result,
                isError: r.isError,
                endedAt: r.endedAt,
                durationMs: sql`CASE WHEN ${toolCalls.startedAt} IS NOT NULL THEN ${r.endedAt} - ${toolCalls.startedAt} END`,
              })
              .where(and(eq(toolCalls.conversationId, row.conversationId), eq(toolCalls.id, r.id)))
              .run()
          refreshConversationAggregates(tx, row.conversationId, row.createdAt)
          return inserted
        },
        { behavior: 'immediate' },
      )
    },
    /**
     * Deletes a message (its tool calls cascade) and its transcript line, so the export no longer holds it, and
     * updates the conversation's aggregates, atomically.
     */
    async delete(conversationId: string, id: string) {
      return db.transaction(
        (tx) => {
          const gone = tx
            .delete(messages)
            .where(and(eq(messages.conversationId, conversationId), eq(messages.id, id)))
            .returning({ id: messages.id, sourceId: messages.rawSourceId, line: messages.rawLine })
            .get()
          if (gone?.sourceId && gone.line !== null)
            tx.delete(rawLines)
              .where(and(eq(rawLines.sourceId, gone.sourceId), eq(rawLines.line, gone.line)))
              .run()
          if (gone) refreshConversationAggregates(tx, conversationId, Date.now())
          return gone !== undefined
        },
        { behavior: 'immediate' },
      )
    },
  }
}
export type MessageRepository = ReturnType<typeof createMessageRepository>
