import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import {
  conversationSources,
  conversations,
  importErrors,
  messages,
  rawLines,
  sources,
  summaries,
} from '../../db/schema'
import { refreshConversationAggregates } from '../conversations/repository'

export type SourceRow = typeof sources.$inferSelect
export type NewMessage = typeof messages.$inferInsert

export type ToolUsePlan = { id: string; name: string; input: unknown; at: number }
export type ToolResultPlan = { id: string; result: string; isError: boolean; at: number }

/** One line of a chunk, decided by the service; the repository only stores it. */
export type LinePlan = {
  line: number
  offset: number
  raw: Uint8Array
  error?: { reason: string; message: string }
  /** the message row for a line with a uuid; its tokens are set only if it carries its response's usage */
  message?: NewMessage
  /** applied only when the message row is new (a replayed line must not count its tool calls twice) */
  toolUses?: ToolUsePlan[]
  toolResults?: ToolResultPlan[]
  agentLink?: { agentId: string; toolUseId: string }
}

export type ConversationPlan = {
  id: string
  projectPath: string | null
  gitBranch: string | null
  version: string | null
  customTitle: string | null
  aiTitle: string | null
  firstPrompt: string | null
  startedAt: number
}

export type ChunkPlan = {
  sourceId: string
  ownerId: string
  now: number
  bytesDone: number
  linesDone: number
  prefixHash: string
  lines: LinePlan[]
  conversations: ConversationPlan[]
  summaries: { leafUuid: string; summary: string }[]
  /** uuids of rows that carried a response's usage before a later line with a larger total took it over */
  zeroUsageOf: string[]
}

export type ChunkResult = { messagesAdded: number; toolCallsAdded: number; conversationIds: string[] }

/**
 * Drizzle only. `applyChunk` writes one chunk of an import in a single IMMEDIATE transaction with prepared
 * statements: raw lines, errors, conversations, messages (deduplicated by uuid), tool calls, the full-text index,
 * aggregates and the source's new offset, so an interrupted import resumes exactly after its last committed chunk.
 */
export function createIngestRepository(db: Db) {
  const p = sql.placeholder
  const insertRaw = db
    .insert(rawLines)
    .values({ sourceId: p('sourceId'), line: p('line'), offset: p('offset'), raw: p('raw') })
    .onConflictDoNothing()
    .prepare()
  const insertError = db
    .insert(importErrors)
    .values({
      sourceId: p('sourceId'),
      line: p('line'),
      offset: p('offset'),
      reason: p('reason'),
      message: p('message'),
    })
    .onConflictDoNothing()
    .prepare()
  const upsertConversation = db
    .insert(conversations)
    .values({
      id: p('id'),
      ownerId: p('ownerId'),
      source: 'claude-code',
      projectPath: p('projectPath'),
      gitBranch: p('gitBranch'),
      agentVersion: p('version'),
      customTitle: p('customTitle'),
      aiTitle: p('aiTitle'),
      firstPrompt: p('firstPrompt'),
      startedAt: p('startedAt'),
      createdAt: p('now'),
      updatedAt: p('now'),
    })
    .onConflictDoUpdate({
      target: conversations.id,
      set: {
        projectPath: sql`coalesce(${conversations.projectPath}, excluded.project_path)`,
        gitBranch: sql`coalesce(excluded.git_branch, ${conversations.gitBranch})`,
        agentVersion: sql`coalesce(excluded.agent_version, ${conversations.agentVersion})`,
        customTitle: sql`coalesce(excluded.custom_title, ${conversations.customTitle})`,
        aiTitle: sql`coalesce(excluded.ai_title, ${conversations.aiTitle})`,
        firstPrompt: sql`coalesce(${conversations.firstPrompt}, excluded.first_prompt)`,
      },
      // another owner's session is never touched
      setWhere: sql`${conversations.ownerId} = excluded.owner_id`,
    })
    .prepare()
  const linkSource = db
    .insert(conversationSources)
    .values({ conversationId: p('conversationId'), sourceId: p('sourceId') })
    .onConflictDoNothing()
    .prepare()
  const insertMessage = db.$client.prepare(
    `INSERT OR IGNORE INTO messages (id, owner_id, conversation_id, parent_id, logical_parent_id, type, subtype, role,
       content, text, model, response_key, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
       cost_usd, is_sidechain, agent_id, metadata, timestamp, created_at)
     VALUES ($id, $ownerId, $conversationId, $parentId, $logicalParentId, $type, $subtype, $role, $content, $text,
       $model, $responseKey, $input, $output, $cacheCreation, $cacheRead, $cost, $isSidechain, $agentId, $metadata,
       $timestamp, $createdAt)`,
  )
  const setUsage = db.$client.prepare(
    `UPDATE messages SET input_tokens = $input, output_tokens = $output, cache_creation_tokens = $cacheCreation,
       cache_read_tokens = $cacheRead, cost_usd = $cost WHERE id = $id AND owner_id = $ownerId`,
  )
  const zeroUsage = db.$client.prepare(
    `UPDATE messages SET input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0, cache_read_tokens = 0,
       cost_usd = 0 WHERE id = $id AND owner_id = $ownerId`,
  )
  const upsertToolUse = db.$client.prepare(
    `INSERT INTO tool_calls (id, owner_id, conversation_id, message_id, name, input, started_at)
     VALUES ($id, $ownerId, $conversationId, $messageId, $name, $input, $at)
     ON CONFLICT (conversation_id, id) DO UPDATE SET message_id = excluded.message_id, name = excluded.name,
       input = excluded.input, started_at = excluded.started_at,
       duration_ms = CASE WHEN tool_calls.ended_at IS NOT NULL THEN tool_calls.ended_at - excluded.started_at END`,
  )
  const upsertToolResult = db.$client.prepare(
    `INSERT INTO tool_calls (id, owner_id, conversation_id, name, result, is_error, ended_at)
     VALUES ($id, $ownerId, $conversationId, '', $result, $isError, $at)
     ON CONFLICT (conversation_id, id) DO UPDATE SET result = excluded.result, is_error = excluded.is_error,
       ended_at = excluded.ended_at,
       duration_ms = CASE WHEN tool_calls.started_at IS NOT NULL THEN excluded.ended_at - tool_calls.started_at END`,
  )
  const linkAgent = db.$client.prepare(
    'UPDATE tool_calls SET agent_id = $agentId WHERE conversation_id = $conversationId AND id = $toolUseId',
  )
  const indexText = db.$client.prepare(
    'INSERT INTO messages_fts (rowid, text) SELECT seq, text FROM messages WHERE seq > $after',
  )
  const maxSeq = db.$client.prepare('SELECT coalesce(max(seq), 0) AS seq FROM messages')
  const conversationsOfLeaves = (leaves: string[]) =>
    db
      .selectDistinct({ id: messages.conversationId })
      .from(messages)
      .where(inArray(messages.id, leaves))
      .all()
      .map((r) => r.id)

  return {
    async findSource(ownerId: string, sourceKey: string) {
      return db
        .select()
        .from(sources)
        .where(and(eq(sources.ownerId, ownerId), eq(sources.sourceKey, sourceKey)))
        .get()
    },
    async createSource(row: typeof sources.$inferInsert) {
      return db.insert(sources).values(row).returning().get()
    },
    /** Forgets what was read of a rewritten file (its raw lines and errors); the messages it gave stay. */
    async resetSource(sourceId: string, now: number) {
      db.transaction(
        (tx) => {
          tx.delete(rawLines).where(eq(rawLines.sourceId, sourceId)).run()
          tx.delete(importErrors).where(eq(importErrors.sourceId, sourceId)).run()
          tx.update(sources)
            .set({ bytesDone: 0, linesDone: 0, prefixHash: null, updatedAt: now })
            .where(eq(sources.id, sourceId))
            .run()
        },
        { behavior: 'immediate' },
      )
    },
    /** The owners of these conversations, for those that exist. */
    async conversationOwners(ids: string[]) {
      if (ids.length === 0) return new Map<string, string>()
      const rows = db
        .select({ id: conversations.id, ownerId: conversations.ownerId })
        .from(conversations)
        .where(inArray(conversations.id, ids))
        .all()
      return new Map(rows.map((r) => [r.id, r.ownerId]))
    },
    /** For each response key, the stored line carrying its usage and that usage's total. */
    async attributedUsage(ownerId: string, keys: string[]) {
      if (keys.length === 0) return []
      return db
        .select({
          key: messages.responseKey,
          uuid: messages.id,
          total: sql<number>`${messages.inputTokens} + ${messages.outputTokens} + ${messages.cacheCreationTokens} + ${messages.cacheReadTokens}`,
        })
        .from(messages)
        .where(
          and(
            eq(messages.ownerId, ownerId),
            inArray(messages.responseKey, keys),
            sql`${messages.inputTokens} + ${messages.outputTokens} + ${messages.cacheCreationTokens} + ${messages.cacheReadTokens} > 0`,
          ),
        )
        .all()
    },
    async applyChunk(plan: ChunkPlan): Promise<ChunkResult> {
      return db.transaction(
        (tx) => {
          const { sourceId, ownerId, now } = plan
          const touched = new Set<string>()
          for (const c of plan.conversations) {
            upsertConversation.run({ ...c, ownerId, now })
            touched.add(c.id)
          }
          // a source is part of a conversation's export once it added messages to it (a second copy of a file adds none)
          const contributed = new Set<string>()
          const seqBefore = (maxSeq.get() as { seq: number }).seq
          let messagesAdded = 0
          let toolCallsAdded = 0
          for (const l of plan.lines) {
            insertRaw.run({ sourceId, line: l.line, offset: l.offset, raw: l.raw })
            if (l.error) insertError.run({ sourceId, line: l.line, offset: l.offset, ...l.error })
            const m = l.message
            if (!m) continue
            const usage = {
              input: m.inputTokens ?? 0,
              output: m.outputTokens ?? 0,
              cacheCreation: m.cacheCreationTokens ?? 0,
              cacheRead: m.cacheReadTokens ?? 0,
              cost: m.costUsd ?? 0,
            }
            const added =
              insertMessage.run({
                id: m.id,
                ownerId: ownerId,
                conversationId: m.conversationId,
                parentId: m.parentId ?? null,
                logicalParentId: m.logicalParentId ?? null,
                type: m.type,
                subtype: m.subtype ?? null,
                role: m.role ?? null,
                content: m.content === undefined || m.content === null ? null : JSON.stringify(m.content),
                text: m.text ?? '',
                model: m.model ?? null,
                responseKey: m.responseKey ?? null,
                ...usage,
                isSidechain: m.isSidechain ? 1 : 0,
                agentId: m.agentId ?? null,
                metadata: JSON.stringify(m.metadata ?? {}),
                timestamp: m.timestamp,
                createdAt: now,
              }).changes > 0
            if (!added) {
              // the line was stored before (a resumed session's replay): only a larger usage total moves to it
              if (usage.input + usage.output + usage.cacheCreation + usage.cacheRead > 0)
                setUsage.run({ ...usage, id: m.id, ownerId: ownerId })
              continue
            }
            messagesAdded++
            contributed.add(m.conversationId)
            for (const u of l.toolUses ?? []) {
              upsertToolUse.run({
                id: u.id,
                ownerId: ownerId,
                conversationId: m.conversationId,
                messageId: m.id,
                name: u.name,
                input: JSON.stringify(u.input ?? null),
                at: u.at,
              })
              toolCallsAdded++
            }
            for (const r of l.toolResults ?? [])
              upsertToolResult.run({
                id: r.id,
                ownerId: ownerId,
                conversationId: m.conversationId,
                result: r.result,
                isError: r.isError ? 1 : 0,
                at: r.at,
              })
            if (l.agentLink)
              linkAgent.run({
                agentId: l.agentLink.agentId,
                conversationId: m.conversationId,
                toolUseId: l.agentLink.toolUseId,
              })
          }
          for (const conversationId of contributed) linkSource.run({ conversationId, sourceId })
          for (const uuid of plan.zeroUsageOf) zeroUsage.run({ id: uuid, ownerId: ownerId })
          indexText.run({ after: seqBefore })
          if (plan.summaries.length > 0) {
            for (const s of plan.summaries)
              tx.insert(summaries)
                .values({ ownerId, leafUuid: s.leafUuid, summary: s.summary })
                .onConflictDoUpdate({ target: [summaries.ownerId, summaries.leafUuid], set: { summary: s.summary } })
                .run()
            for (const id of conversationsOfLeaves(plan.summaries.map((s) => s.leafUuid))) touched.add(id)
          }
          for (const id of touched) refreshConversationAggregates(tx, id, now)
          tx.update(sources)
            .set({ bytesDone: plan.bytesDone, linesDone: plan.linesDone, prefixHash: plan.prefixHash, updatedAt: now })
            .where(eq(sources.id, sourceId))
            .run()
          return { messagesAdded, toolCallsAdded, conversationIds: [...touched] }
        },
        { behavior: 'immediate' },
      )
    },
    /** The raw lines of every source that holds lines of this conversation, main file first, in file order. */
    async *exportLines(conversationId: string) {
      const ids = db
        .select({ id: sources.id })
        .from(conversationSources)
        .innerJoin(sources, eq(sources.id, conversationSources.sourceId))
        .where(eq(conversationSources.conversationId, conversationId))
        .orderBy(sources.sourceKey)
        .all()
      const page = db.$client.prepare(
        'SELECT line, raw FROM raw_lines WHERE source_id = $id AND line > $after ORDER BY line LIMIT 1000',
      )
      for (const { id } of ids) {
        let after = 0
        while (true) {
          const rows = page.all({ id: id, after: after }) as { line: number; raw: Uint8Array }[]
          if (rows.length === 0) break
          for (const r of rows) yield r.raw
          after = (rows.at(-1) as { line: number }).line
        }
      }
    },
  }
}
export type IngestRepository = ReturnType<typeof createIngestRepository>
