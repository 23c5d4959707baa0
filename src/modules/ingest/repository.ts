import type { Db } from '../../db/client'
import type { sources } from '../../db/schema'
import { refreshConversationAggregates, refreshConversationTitle } from '../conversations/repository'
import { type ConversationChange, EXCERPT_CHARS, messageSummary, type ToolCallState, toolCallSummary } from './changes'
import { isSyntheticModel } from './records'

export type SourceRow = typeof sources.$inferSelect
export type NewSource = Pick<SourceRow, 'id' | 'ownerId' | 'sourceKey' | 'displayName' | 'createdAt' | 'updatedAt'>

export type ToolUsePlan = { id: string; name: string; input: unknown; at: number }
export type ToolResultPlan = { id: string; result: string; isError: boolean; at: number }

/** The message row of a line with a uuid; its tokens are non-zero only if it carries its response's usage. */
export type MessagePlan = {
  id: string
  conversationId: string
  parentId: string | null
  logicalParentId: string | null
  type: string
  subtype: string | null
  role: 'user' | 'assistant' | 'system' | null
  content: unknown
  text: string
  model: string | null
  responseKey: string | null
  inputTokens: number
  outputTokens: number
  cacheCreationTokens: number
  cacheReadTokens: number
  costUsd: number
  isSidechain: boolean
  agentId: string | null
  /** serialised JSON object */
  metadata: string
  timestamp: number
}

/** One line of a chunk, decided by the service; the repository only stores it. */
export type LinePlan = {
  line: number
  offset: number
  raw: Uint8Array
  error?: { reason: string; message: string }
  message?: MessagePlan
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
  /** the source, when this chunk is the first one read of it: stored with the chunk */
  newSource?: NewSource | null
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
  /** whether to report what the chunk added (`changes`): only when someone listens */
  withChanges: boolean
}

/** A line that was not imported: where it is, and why. */
export type LineError = { line: number; offset: number; reason: string; message: string }

export type ChunkResult = {
  messagesAdded: number
  toolCallsAdded: number
  /** lines whose message another account already holds (message ids are global): reported, never merged */
  refused: LineError[]
  conversationIds: string[]
  /** with `withChanges`: per conversation, the messages this chunk added and the tool calls they started or completed */
  changes: Map<string, ConversationChange>
}

/** Messages stored after a sequence number, for another process to tell live subscribers about. */
export type ChangesAfter = {
  /** the last message read: the next call starts after it */
  seq: number
  /** whether messages were left for the next call */
  more: boolean
  conversations: Map<string, { ownerId: string; change: ConversationChange }>
}

type StoredMessage = {
  seq: number
  id: string
  ownerId: string
  conversationId: string
  parentId: string | null
  type: string
  role: string | null
  model: string | null
  isSidechain: number
  timestamp: number
  text: string
}

/** What a chunk adds to one conversation's aggregates. */
type Delta = {
  count: number
  input: number
  output: number
  cacheCreation: number
  cacheRead: number
  cost: number
  first: number
  last: number
  models: Set<string>
}

/** The file's conversations were deleted while it was imported (their delete takes its lines and record along). */
export class SourceDeleted extends Error {
  constructor() {
    super("this file's conversations were deleted while it was being imported; import it again to bring them back")
  }
}

/** In SQL, the `sessionId` a stored line names: NULL for a line that is not a JSON object or names none. */
export const LINE_SESSION = `CASE WHEN json_valid(CAST(raw AS TEXT)) THEN json_extract(CAST(raw AS TEXT), '$.sessionId') END`

/**
 * `applyChunk` writes one chunk of an import in a single IMMEDIATE transaction: raw lines, errors, conversations,
 * messages (deduplicated by uuid), tool calls, the full-text index, aggregates and the source's new offset, so an
 * interrupted import resumes exactly after its last committed chunk. This is the import's hot loop, so it runs
 * statements prepared once on the SQLite handle with positional parameters, and adds each chunk's deltas to the
 * conversations' aggregates rather than recounting whole conversations.
 */
export function createIngestRepository(db: Db) {
  const sqlite = db.$client
  const findSourceStmt = sqlite.prepare<SourceRow, [string, string]>(
    `SELECT id, owner_id AS ownerId, source_key AS sourceKey, display_name AS displayName, bytes_done AS bytesDone,
       lines_done AS linesDone, prefix_hash AS prefixHash, created_at AS createdAt, updated_at AS updatedAt
     FROM sources WHERE owner_id = ? AND source_key = ? AND replaced_at IS NULL`,
  )
  const insertSource = sqlite.prepare<SourceRow, [string, string, string, string, number, number]>(
    `INSERT INTO sources (id, owner_id, source_key, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     RETURNING id, owner_id AS ownerId, source_key AS sourceKey, display_name AS displayName, bytes_done AS bytesDone,
       lines_done AS linesDone, prefix_hash AS prefixHash, created_at AS createdAt, updated_at AS updatedAt`,
  )
  const retire = sqlite.prepare<unknown, [number, string]>(
    'UPDATE sources SET replaced_at = ?1, updated_at = ?1 WHERE id = ?2',
  )
  const updateSource = sqlite.prepare<unknown, [number, number, string | null, number, string]>(
    'UPDATE sources SET bytes_done = ?, lines_done = ?, prefix_hash = ?, updated_at = ? WHERE id = ?',
  )
  const insertRaw = sqlite.prepare<unknown, [string, number, number, Uint8Array]>(
    'INSERT INTO raw_lines (source_id, line, offset, raw) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  )
  const insertError = sqlite.prepare<unknown, [string, number, number, string, string]>(
    'INSERT INTO import_errors (source_id, line, offset, reason, message) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  )
  const upsertConversation = sqlite.prepare<
    unknown,
    [
      string,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      string | null,
      string | null,
      number,
      number,
      number,
    ]
  >(
    `INSERT INTO conversations (id, owner_id, source, project_path, git_branch, agent_version, custom_title, ai_title,
       first_prompt, started_at, created_at, updated_at)
     VALUES (?1, ?2, 'claude-code', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (id) DO UPDATE SET project_path = coalesce(conversations.project_path, excluded.project_path),
       git_branch = coalesce(excluded.git_branch, conversations.git_branch),
       agent_version = coalesce(excluded.agent_version, conversations.agent_version),
       custom_title = coalesce(excluded.custom_title, conversations.custom_title),
       ai_title = coalesce(excluded.ai_title, conversations.ai_title),
       first_prompt = coalesce(conversations.first_prompt, excluded.first_prompt)
     -- another owner's session is never touched
     WHERE conversations.owner_id = excluded.owner_id`,
  )
  const linkSource = sqlite.prepare<unknown, [string, string, number]>(
    `INSERT INTO conversation_sources (conversation_id, source_id, in_export) VALUES (?, ?, ?)
     ON CONFLICT DO UPDATE SET in_export = max(in_export, excluded.in_export)`,
  )
  // content stays null when the raw line holds it: the message points at that line instead
  const insertMessage = sqlite.prepare(
    `INSERT OR IGNORE INTO messages (id, owner_id, conversation_id, parent_id, logical_parent_id, type, subtype, role,
       content, text, model, response_key, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
       cost_usd, is_sidechain, agent_id, metadata, timestamp, created_at, raw_source_id, raw_line)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const rawLinesPage = sqlite.prepare<{ line: number; raw: Uint8Array }, [string, number]>(
    'SELECT line, raw FROM raw_lines WHERE source_id = ? AND line > ? ORDER BY line LIMIT 1000',
  )
  const sessionLinesPage = sqlite.prepare<{ line: number; raw: Uint8Array }, [string, number, string]>(
    `SELECT line, raw FROM raw_lines WHERE source_id = ?1 AND line > ?2 AND coalesce(${LINE_SESSION}, ?3) = ?3
     ORDER BY line LIMIT 1000`,
  )
  // a usage moved onto or off a stored row: its conversation is recounted (rare: a response split across chunks)
  const setUsage = sqlite.prepare<{ conversationId: string }, [number, number, number, number, number, string, string]>(
    `UPDATE messages SET input_tokens = ?, output_tokens = ?, cache_creation_tokens = ?, cache_read_tokens = ?,
       cost_usd = ? WHERE id = ? AND owner_id = ? RETURNING conversation_id AS conversationId`,
  )
  // (a version set aside by a rewrite counts as gone: an import still reading it stops)
  const sourceExists = sqlite.prepare<{ one: number }, [string]>(
    'SELECT 1 AS one FROM sources WHERE id = ? AND replaced_at IS NULL',
  )
  const ownerOfMessage = sqlite.prepare<{ ownerId: string }, [string]>(
    'SELECT owner_id AS ownerId FROM messages WHERE id = ?',
  )
  const zeroUsage = sqlite.prepare<{ conversationId: string }, [string, string]>(
    `UPDATE messages SET input_tokens = 0, output_tokens = 0, cache_creation_tokens = 0, cache_read_tokens = 0,
       cost_usd = 0 WHERE id = ? AND owner_id = ? RETURNING conversation_id AS conversationId`,
  )
  // Tool calls: a plain insert, else an update of the row already there (a result read before its call, or a
  // replay). An upsert with foreign keys would make SQLite keep a statement journal for every call.
  const insertToolUse = sqlite.prepare<unknown, [string, string, string, string, string, string, number]>(
    `INSERT OR IGNORE INTO tool_calls (id, owner_id, conversation_id, message_id, name, input, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
  const updateToolUse = sqlite.prepare<unknown, [string, string, string, number, string, string]>(
    `UPDATE tool_calls SET message_id = ?1, name = ?2, input = ?3, started_at = ?4,
       duration_ms = CASE WHEN ended_at IS NOT NULL THEN ended_at - ?4 END
     WHERE conversation_id = ?5 AND id = ?6`,
  )
  const updateToolResult = sqlite.prepare<unknown, [string, number, number, string, string]>(
    `UPDATE tool_calls SET result = ?1, is_error = ?2, ended_at = ?3,
       duration_ms = CASE WHEN started_at IS NOT NULL THEN ?3 - started_at END
     WHERE conversation_id = ?4 AND id = ?5`,
  )
  const insertToolResult = sqlite.prepare<unknown, [string, string, string, string, number, number]>(
    `INSERT OR IGNORE INTO tool_calls (id, owner_id, conversation_id, name, result, is_error, ended_at)
     VALUES (?, ?, ?, '', ?, ?, ?)`,
  )
  const linkAgent = sqlite.prepare<unknown, [string, string, string]>(
    'UPDATE tool_calls SET agent_id = ? WHERE conversation_id = ? AND id = ?',
  )
  const indexText = sqlite.prepare<unknown, [number]>(
    'INSERT INTO messages_fts (rowid, text) SELECT seq, text FROM messages WHERE seq > ?',
  )
  const maxSeq = sqlite.prepare<{ seq: number }, []>('SELECT coalesce(max(seq), 0) AS seq FROM messages')
  const TOOL_CALL_STATE = `SELECT id, message_id AS messageId, name, ended_at IS NOT NULL AS completed,
       is_error AS isError, duration_ms AS durationMs FROM tool_calls`
  const toolCallStates = sqlite.prepare<ToolCallState, [string, string]>(
    `${TOOL_CALL_STATE} WHERE conversation_id = ?1 AND id IN (SELECT value FROM json_each(?2))`,
  )
  const messagesAfter = sqlite.prepare<StoredMessage, [number, number]>(
    `SELECT seq, id, owner_id AS ownerId, conversation_id AS conversationId, parent_id AS parentId, type, role, model,
       is_sidechain AS isSidechain, timestamp, substr(text, 1, ${EXCERPT_CHARS}) AS text
     FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`,
  )
  // the calls these messages started, and those completed within their time span (a result's time is its
  // message's): a call completed by another line of the same time comes again, in its same state
  const toolCallsOfMessages = sqlite.prepare<ToolCallState, [string, string, number, number]>(
    `${TOOL_CALL_STATE}
     WHERE conversation_id = ?1 AND (message_id IN (SELECT value FROM json_each(?2)) OR ended_at BETWEEN ?3 AND ?4)`,
  )
  const upsertSummary = sqlite.prepare<unknown, [string, string, string]>(
    `INSERT INTO summaries (owner_id, leaf_uuid, summary) VALUES (?, ?, ?)
     ON CONFLICT (owner_id, leaf_uuid) DO UPDATE SET summary = excluded.summary`,
  )
  const conversationOfMessage = sqlite.prepare<{ conversationId: string }, [string, string]>(
    'SELECT conversation_id AS conversationId FROM messages WHERE id = ? AND owner_id = ?',
  )
  const newSummaryLeaves = sqlite.prepare<{ conversationId: string }, [string, number]>(
    // (no DISTINCT: it would have SQLite walk a conversation index over every message instead of the new rows)
    `SELECT m.conversation_id AS conversationId FROM messages m
     WHERE m.seq > ?2 AND EXISTS (SELECT 1 FROM summaries s WHERE s.owner_id = ?1 AND s.leaf_uuid = m.id)`,
  )
  const ownerOf = sqlite.prepare<{ ownerId: string }, [string]>(
    'SELECT owner_id AS ownerId FROM conversations WHERE id = ?',
  )
  const responseUsage = sqlite.prepare<{ key: string; uuid: string; total: number }, [string, string]>(
    `SELECT response_key AS key, id AS uuid,
       input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens AS total
     FROM messages WHERE owner_id = ? AND response_key = ?
       AND input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens > 0`,
  )
  // Each total grows by the chunk's sums. The time span is exact as long as message_count > 0 implies
  // started_at = min(timestamp) and ended_at = max(timestamp), which every writer of messages keeps; with no
  // messages at all it is what a recount gives (the creation time, no end).
  const addAggregates = sqlite.prepare<
    unknown,
    [number, number, number, number, number, number, number, number, number, string]
  >(
    `UPDATE conversations SET
       started_at = CASE WHEN message_count + ?1 = 0 THEN created_at WHEN message_count = 0 THEN ?7
                         WHEN ?1 = 0 THEN started_at ELSE min(started_at, ?7) END,
       ended_at = CASE WHEN message_count + ?1 = 0 THEN NULL WHEN message_count = 0 THEN ?8
                       WHEN ?1 = 0 THEN ended_at ELSE max(ended_at, ?8) END,
       message_count = message_count + ?1, input_tokens = input_tokens + ?2, output_tokens = output_tokens + ?3,
       cache_creation_tokens = cache_creation_tokens + ?4, cache_read_tokens = cache_read_tokens + ?5,
       cost_usd = cost_usd + ?6, updated_at = ?9
     WHERE id = ?10`,
  )
  // the distinct models, sorted as a recount sorts them
  const addModels = sqlite.prepare<unknown, [string, string]>(
    `UPDATE conversations SET models = (SELECT json_group_array(value) FROM (
       SELECT value FROM json_each(conversations.models) UNION SELECT value FROM json_each(?1) ORDER BY 1))
     WHERE id = ?2`,
  )

  const newDelta = (): Delta => ({
    count: 0,
    input: 0,
    output: 0,
    cacheCreation: 0,
    cacheRead: 0,
    cost: 0,
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    models: new Set(),
  })

  const apply = sqlite.transaction((plan: ChunkPlan): ChunkResult => {
    const { sourceId, ownerId, now, newSource: n } = plan
    if (n) insertSource.run(n.id, n.ownerId, n.sourceKey, n.displayName, n.createdAt, n.updatedAt)
    else if (!sourceExists.get(sourceId)) throw new SourceDeleted()
    const touched = new Set<string>()
    // the owner's conversations this chunk's lines name (another owner's session is never touched)
    const own = new Set<string>()
    // conversations whose title inputs (titles, first prompt, a summary of one of their messages) may have changed
    const retitle = new Set<string>()
    for (const c of plan.conversations) {
      const upserted = upsertConversation.run(
        c.id,
        ownerId,
        c.projectPath,
        c.gitBranch,
        c.version,
        c.customTitle,
        c.aiTitle,
        c.firstPrompt,
        c.startedAt,
        now,
        now,
      )
      if (upserted.changes > 0) own.add(c.id)
      touched.add(c.id)
      if (c.customTitle !== null || c.aiTitle !== null || c.firstPrompt !== null) retitle.add(c.id)
    }
    // conversations whose stored rows had a usage moved: recounted whole
    const recount = new Set<string>()
    // first, so a row that takes its usage back later in this chunk keeps it
    for (const uuid of plan.zeroUsageOf) for (const r of zeroUsage.all(uuid, ownerId)) recount.add(r.conversationId)
    const deltas = new Map<string, Delta>()
    const seqBefore = (maxSeq.get() as { seq: number }).seq
    let messagesAdded = 0
    let toolCallsAdded = 0
    const refused: LineError[] = []
    const changes = new Map<string, ConversationChange>()
    const changeOf = (conversationId: string) => {
      let change = changes.get(conversationId)
      if (!change) {
        change = { messages: [], toolCalls: [] }
        changes.set(conversationId, change)
      }
      return change
    }
    // per conversation, the tool calls the new messages started or completed
    const toolCallIds = new Map<string, string[]>()
    for (const l of plan.lines) {
      // (a line already stored there would be one read before a crash: then the message keeps its own content)
      const rawStored = insertRaw.run(sourceId, l.line, l.offset, l.raw).changes > 0
      if (l.error) insertError.run(sourceId, l.line, l.offset, l.error.reason, l.error.message)
      const m = l.message
      if (!m) continue
      // (the service refuses another account's session before; one created since is refused here, in the transaction)
      if (!own.has(m.conversationId)) {
        if (ownerOf.get(m.conversationId)?.ownerId !== ownerId) {
          const error = { line: l.line, offset: l.offset, reason: 'foreign_session' }
          const message = `session ${m.conversationId} belongs to another account`
          insertError.run(sourceId, l.line, l.offset, error.reason, message)
          refused.push({ ...error, message })
          continue
        }
        own.add(m.conversationId)
      }
      const added =
        insertMessage.run(
          m.id,
          ownerId,
          m.conversationId,
          m.parentId,
          m.logicalParentId,
          m.type,
          m.subtype,
          m.role,
          rawStored || m.content === undefined || m.content === null ? null : JSON.stringify(m.content),
          m.text,
          m.model,
          m.responseKey,
          m.inputTokens,
          m.outputTokens,
          m.cacheCreationTokens,
          m.cacheReadTokens,
          m.costUsd,
          m.isSidechain ? 1 : 0,
          m.agentId,
          m.metadata,
          m.timestamp,
          now,
          rawStored ? sourceId : null,
          rawStored ? l.line : null,
        ).changes > 0
      if (!added) {
        const holder = ownerOfMessage.get(m.id)?.ownerId
        if (holder !== undefined && holder !== ownerId) {
          const error = { line: l.line, offset: l.offset, reason: 'foreign_message' }
          const message = `message ${m.id} belongs to another account`
          insertError.run(sourceId, l.line, l.offset, error.reason, message)
          refused.push({ ...error, message })
          continue
        }
        // the line was stored before (a resumed session's replay): only a larger usage total moves to it
        if (m.inputTokens + m.outputTokens + m.cacheCreationTokens + m.cacheReadTokens > 0)
          for (const r of setUsage.all(
            m.inputTokens,
            m.outputTokens,
            m.cacheCreationTokens,
            m.cacheReadTokens,
            m.costUsd,
            m.id,
            ownerId,
          ))
            recount.add(r.conversationId)
        continue
      }
      messagesAdded++
      let d = deltas.get(m.conversationId)
      if (!d) {
        d = newDelta()
        deltas.set(m.conversationId, d)
      }
      if (plan.withChanges) changeOf(m.conversationId).messages.push(messageSummary(m))
      d.count++
      d.input += m.inputTokens
      d.output += m.outputTokens
      d.cacheCreation += m.cacheCreationTokens
      d.cacheRead += m.cacheReadTokens
      d.cost += m.costUsd
      if (m.timestamp < d.first) d.first = m.timestamp
      if (m.timestamp > d.last) d.last = m.timestamp
      if (m.model !== null && !isSyntheticModel(m.model)) d.models.add(m.model)
      if (l.toolUses)
        for (const u of l.toolUses) {
          const input = JSON.stringify(u.input ?? null)
          if (insertToolUse.run(u.id, ownerId, m.conversationId, m.id, u.name, input, u.at).changes === 0)
            updateToolUse.run(m.id, u.name, input, u.at, m.conversationId, u.id)
          toolCallsAdded++
        }
      if (l.toolResults)
        for (const r of l.toolResults)
          if (updateToolResult.run(r.result, r.isError ? 1 : 0, r.at, m.conversationId, r.id).changes === 0)
            insertToolResult.run(r.id, ownerId, m.conversationId, r.result, r.isError ? 1 : 0, r.at)
      if (plan.withChanges && (l.toolUses || l.toolResults)) {
        const ids = toolCallIds.get(m.conversationId) ?? []
        toolCallIds.set(m.conversationId, ids)
        for (const u of l.toolUses ?? []) ids.push(u.id)
        for (const r of l.toolResults ?? []) ids.push(r.id)
      }
      if (l.agentLink) linkAgent.run(l.agentLink.agentId, m.conversationId, l.agentLink.toolUseId)
    }
    // a source is part of a conversation's export once it added messages to it (a second copy of a file adds none,
    // but is linked too: deleting the conversation lets it go, so importing it again brings the conversation back)
    for (const conversationId of own) linkSource.run(conversationId, sourceId, deltas.has(conversationId) ? 1 : 0)
    if (messagesAdded > 0) {
      indexText.run(seqBefore)
      // a summary imported before its leaf message titles that message's conversation now
      for (const r of newSummaryLeaves.all(ownerId, seqBefore)) retitle.add(r.conversationId)
    }
    for (const s of plan.summaries) {
      upsertSummary.run(ownerId, s.leafUuid, s.summary)
      const leaf = conversationOfMessage.get(s.leafUuid, ownerId)
      if (leaf) {
        touched.add(leaf.conversationId)
        retitle.add(leaf.conversationId)
      }
    }
    for (const id of deltas.keys()) touched.add(id)
    for (const id of touched) {
      if (recount.has(id)) continue
      const d = deltas.get(id) ?? newDelta()
      addAggregates.run(d.count, d.input, d.output, d.cacheCreation, d.cacheRead, d.cost, d.first, d.last, now, id)
      if (d.models.size > 0) addModels.run(JSON.stringify([...d.models]), id)
      if (retitle.has(id)) refreshConversationTitle(db, id)
    }
    for (const id of recount) {
      refreshConversationAggregates(db, id, now)
      touched.add(id)
    }
    for (const [id, ids] of toolCallIds)
      changeOf(id).toolCalls = toolCallStates.all(id, JSON.stringify([...new Set(ids)])).map(toolCallSummary)
    updateSource.run(plan.bytesDone, plan.linesDone, plan.prefixHash, now, sourceId)
    return { messagesAdded, toolCallsAdded, refused, conversationIds: [...touched], changes }
  })

  return {
    async findSource(ownerId: string, sourceKey: string) {
      return findSourceStmt.get(ownerId, sourceKey) ?? undefined
    },
    async createSource(row: NewSource) {
      return insertSource.get(
        row.id,
        row.ownerId,
        row.sourceKey,
        row.displayName,
        row.createdAt,
        row.updatedAt,
      ) as SourceRow
    },
    /**
     * Sets a rewritten file's source aside: its lines, bad lines and links stay (the exports of its sessions keep the
     * lines it gave them), and the key's next import starts a new source.
     */
    async retireSource(sourceId: string, now: number) {
      retire.run(now, sourceId)
    },
    /** The owners of these conversations, for those that exist. */
    async conversationOwners(ids: string[]) {
      const owners = new Map<string, string>()
      for (const id of ids) {
        const row = ownerOf.get(id)
        if (row) owners.set(id, row.ownerId)
      }
      return owners
    },
    /** Of these conversations, the owner's that are in no workspace yet, with the folder they ran in. */
    async unplaced(ownerId: string, ids: string[]) {
      if (!ids.length) return []
      return sqlite
        .query<{ id: string; projectPath: string }, [string, string]>(
          `SELECT id, project_path AS projectPath FROM conversations
           WHERE id IN (SELECT value FROM json_each(?2)) AND owner_id = ?1
             AND workspace_id IS NULL AND project_path IS NOT NULL`,
        )
        .all(ownerId, JSON.stringify(ids))
    },
    /** For each response key, the stored line carrying its usage and that usage's total. */
    async attributedUsage(ownerId: string, keys: string[]) {
      return keys.flatMap((key) => responseUsage.all(ownerId, key))
    },
    async applyChunk(plan: ChunkPlan): Promise<ChunkResult> {
      return apply.immediate(plan)
    },
    /** The newest message's sequence number (0 when there is none). */
    async lastMessageSeq() {
      return (maxSeq.get() as { seq: number }).seq
    },
    /**
     * Up to `limit` messages stored after `seq`, grouped by conversation with the tool calls they started or
     * completed: what another process's imports added, for live subscribers.
     */
    async changesAfter(seq: number, limit: number): Promise<ChangesAfter> {
      const rows = messagesAfter.all(seq, limit)
      const byConversation = new Map<string, StoredMessage[]>()
      for (const r of rows) {
        const list = byConversation.get(r.conversationId) ?? []
        byConversation.set(r.conversationId, list)
        list.push(r)
      }
      const conversations: ChangesAfter['conversations'] = new Map()
      for (const [id, list] of byConversation) {
        let first = Number.POSITIVE_INFINITY
        let last = Number.NEGATIVE_INFINITY
        for (const m of list) {
          if (m.timestamp < first) first = m.timestamp
          if (m.timestamp > last) last = m.timestamp
        }
        const calls = toolCallsOfMessages.all(id, JSON.stringify(list.map((m) => m.id)), first, last)
        conversations.set(id, {
          ownerId: (list[0] as StoredMessage).ownerId,
          change: {
            messages: list.map((m) => messageSummary({ ...m, isSidechain: m.isSidechain === 1 })),
            toolCalls: calls.map(toolCallSummary),
          },
        })
      }
      return { seq: rows.at(-1)?.seq ?? seq, more: rows.length === limit, conversations }
    },
    /**
     * The raw lines of every source that holds lines of this conversation, main file first, in file order: of a file
     * read again after a rewrite, the newest version that gave the conversation messages (a version that only
     * repeated stored lines is not exported; one that added some holds the lines it repeated too). A file that also
     * holds other sessions (rare: hand-made or concatenated files) gives only the lines that name this session or
     * none.
     */
    async *exportLines(conversationId: string) {
      const sources = sqlite
        .query<{ id: string; shared: number }, [string]>(
          `SELECT s.id, EXISTS (SELECT 1 FROM conversation_sources o
                               WHERE o.source_id = s.id AND o.conversation_id != ?1 AND o.in_export) AS shared
           FROM conversation_sources cs JOIN sources s ON s.id = cs.source_id
           WHERE cs.conversation_id = ?1 AND cs.in_export
             AND NOT EXISTS (SELECT 1 FROM conversation_sources n JOIN sources v ON v.id = n.source_id
                             WHERE n.conversation_id = ?1 AND n.in_export AND v.owner_id = s.owner_id
                               AND v.source_key = s.source_key
                               AND (v.created_at > s.created_at OR (v.created_at = s.created_at AND v.id > s.id)))
           ORDER BY s.source_key`,
        )
        .all(conversationId)
      for (const { id, shared } of sources) {
        let after = 0
        while (true) {
          const rows = shared ? sessionLinesPage.all(id, after, conversationId) : rawLinesPage.all(id, after)
          if (rows.length === 0) break
          for (const r of rows) yield r.raw
          after = (rows.at(-1) as { line: number }).line
        }
      }
    },
  }
}
export type IngestRepository = ReturnType<typeof createIngestRepository>
