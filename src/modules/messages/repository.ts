import { and, asc, count, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { messages, toolCalls } from '../../db/schema'

export type MessageRow = typeof messages.$inferSelect
export type NewMessageRow = typeof messages.$inferInsert
export type ToolCallRow = typeof toolCalls.$inferSelect
export type NewToolCallRow = typeof toolCalls.$inferInsert

/**
 * Drizzle only. A conversation's message count, token totals, cost, models and time span are kept on its row;
 * every write here updates them in the same transaction as the messages it changes.
 */
export function createMessageRepository(db: Db) {
  const byId = db
    .select()
    .from(messages)
    .where(and(eq(messages.conversationId, sql.placeholder('conversationId')), eq(messages.id, sql.placeholder('id'))))
    .prepare()

  /** Recomputes a conversation's aggregates from its messages (exact after any change). */
  const refreshAggregates = (tx: Pick<Db, 'run'>, conversationId: string, now: number) =>
    tx.run(sql`
      UPDATE conversations SET
        message_count = (SELECT count(*) FROM messages WHERE conversation_id = ${conversationId}),
        input_tokens = (SELECT coalesce(sum(input_tokens), 0) FROM messages WHERE conversation_id = ${conversationId}),
        output_tokens = (SELECT coalesce(sum(output_tokens), 0) FROM messages WHERE conversation_id = ${conversationId}),
        cache_creation_tokens = (SELECT coalesce(sum(cache_creation_tokens), 0) FROM messages WHERE conversation_id = ${conversationId}),
        cache_read_tokens = (SELECT coalesce(sum(cache_read_tokens), 0) FROM messages WHERE conversation_id = ${conversationId}),
        cost_usd = (SELECT coalesce(sum(cost_usd), 0) FROM messages WHERE conversation_id = ${conversationId}),
        models = (SELECT json_group_array(model) FROM (SELECT DISTINCT model FROM messages
                  WHERE conversation_id = ${conversationId} AND model IS NOT NULL ORDER BY model)),
        started_at = coalesce((SELECT min(timestamp) FROM messages WHERE conversation_id = ${conversationId}), created_at),
        ended_at = (SELECT max(timestamp) FROM messages WHERE conversation_id = ${conversationId}),
        updated_at = ${now}
      WHERE id = ${conversationId}`)

  return {
    async list(conversationId: string, limit: number, offset: number) {
      const rows = db
        .select()
        .from(messages)
        .where(eq(messages.conversationId, conversationId))
        .orderBy(asc(messages.timestamp), asc(messages.seq))
        .limit(limit)
        .offset(offset)
        .all()
      const total = db.select({ n: count() }).from(messages).where(eq(messages.conversationId, conversationId)).get()?.n
      return { rows, total: total ?? 0 }
    },
    async find(conversationId: string, id: string) {
      return byId.get({ conversationId, id })
    },
    async toolCallsOf(messageIds: string[]) {
      if (messageIds.length === 0) return []
      return db.select().from(toolCalls).where(inArray(toolCalls.messageId, messageIds)).all()
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
    /** Inserts a message and its tool calls and updates the conversation's aggregates, atomically. */
    async insert(row: NewMessageRow, calls: NewToolCallRow[]) {
      return db.transaction(
        (tx) => {
          const inserted = tx.insert(messages).values(row).returning().get()
          if (calls.length > 0) tx.insert(toolCalls).values(calls).run()
          refreshAggregates(tx, row.conversationId, row.createdAt)
          return inserted
        },
        { behavior: 'immediate' },
      )
    },
    /** Deletes a message (its tool calls cascade) and updates the conversation's aggregates, atomically. */
    async delete(conversationId: string, id: string) {
      return db.transaction(
        (tx) => {
          const gone = tx
            .delete(messages)
            .where(and(eq(messages.conversationId, conversationId), eq(messages.id, id)))
            .returning({ id: messages.id })
            .get()
          if (gone) refreshAggregates(tx, conversationId, Date.now())
          return gone !== undefined
        },
        { behavior: 'immediate' },
      )
    },
  }
}
export type MessageRepository = ReturnType<typeof createMessageRepository>
