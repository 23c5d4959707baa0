import type { Actor } from '../../lib/actor'
import type { EventBus } from '../../lib/bus'
import { contentText } from '../../lib/content'
import { AppError, conflict, notFound } from '../../lib/errors'
import { iso, isoOrNull } from '../../lib/models'
import { type Pricing, usd } from '../../lib/pricing'
import type { ReadCache } from '../../lib/read-cache'
import type { ConversationService } from '../conversations/service'
import { contentOfRawLine, toolBlocksOf } from '../ingest/records'
import type { CreateMessage, MessageDto, ToolCallDto } from './model'
import type { MessageRepository, MessageRow, NewToolCallRow, ToolCallRow } from './repository'

const invalid = (field: string, message: string) =>
  new AppError(422, 'VALIDATION', `${field}: ${message}`, [{ path: `/${field}`, message }])

export const toToolCall = (r: ToolCallRow): ToolCallDto => ({
  id: r.id,
  message_id: r.messageId,
  name: r.name,
  input: r.input ?? null,
  result: r.result,
  is_error: r.isError,
  started_at: isoOrNull(r.startedAt),
  ended_at: isoOrNull(r.endedAt),
  duration_ms: r.durationMs,
})

export const toMessage = (r: MessageRow, calls: ToolCallRow[]): MessageDto => ({
  id: r.id,
  conversation_id: r.conversationId,
  parent_id: r.parentId,
  type: r.type,
  subtype: r.subtype,
  role: r.role,
  content: r.raw ? contentOfRawLine(r.raw) : r.content,
  text: r.text,
  model: r.model,
  usage: {
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cache_creation_input_tokens: r.cacheCreationTokens,
    cache_read_input_tokens: r.cacheReadTokens,
  },
  cost_usd: usd(r.costUsd),
  is_sidechain: r.isSidechain,
  agent_id: r.agentId,
  tool_calls: calls.map(toToolCall),
  metadata: r.metadata,
  timestamp: iso(r.timestamp),
  created_at: iso(r.createdAt),
})

const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

type SkeletonRow = Awaited<ReturnType<MessageRepository['skeleton']>>[number]
export type ThreadEntry = {
  id: string
  depth: number
  branch: string
  spawnedBy: string | null
  compactionBoundary: boolean
}

/**
 * The reading order of a session: parentUuid links depth first (siblings by time), a compaction boundary continuing
 * from the leaf it summarises, and each subagent's messages nested right after the message whose tool call started
 * it. A subagent whose spawning call is unknown comes right after the message its first line names as parent (the
 * compaction agent); one with no such parent either, and old inline sidechains, follow at the end.
 */
export function threadOrder(
  rows: SkeletonRow[],
  spawns: { id: string; agentId: string | null; messageId: string | null }[],
) {
  const present = new Set(rows.map((r) => r.id))
  const branchOf = (r: SkeletonRow) => (r.isSidechain ? (r.agentId ?? 'sidechain') : 'main')
  const children = new Map<string | null, SkeletonRow[]>()
  const branches = new Map<string, SkeletonRow[]>()
  for (const r of rows) {
    push(branches, branchOf(r), r)
    const link = r.parentId ?? (r.subtype === 'compact_boundary' ? r.logicalParentId : null)
    const parent = link && present.has(link) ? link : null
    push(children, parent, r)
  }
  const spawnsAfter = new Map<string, { agentId: string; toolCallId: string }[]>()
  for (const s of spawns)
    if (s.agentId && s.messageId) push(spawnsAfter, s.messageId, { agentId: s.agentId, toolCallId: s.id })
  const spawned = new Set(
    [...spawnsAfter.entries()].filter(([m]) => present.has(m)).flatMap(([, l]) => l.map((s) => s.agentId)),
  )

  const out: ThreadEntry[] = []
  const placed = new Set<string>()
  const walk = (rootsOf: SkeletonRow[], depth: number, branch: string, spawnedBy: string | null) => {
    const stack = [...rootsOf].reverse().map((r) => ({ r, depth }))
    while (stack.length > 0) {
      const { r, depth: d } = stack.pop() as { r: SkeletonRow; depth: number }
      if (placed.has(r.id)) continue
      placed.add(r.id)
      out.push({ id: r.id, depth: d, branch, spawnedBy, compactionBoundary: r.subtype === 'compact_boundary' })
      for (const spawn of spawnsAfter.get(r.id) ?? []) {
        const agentRows = branches.get(spawn.agentId) ?? []
        walk(
          agentRows.filter((a) => !a.parentId || !present.has(a.parentId)),
          d + 1,
          spawn.agentId,
          spawn.toolCallId,
        )
      }
      const next: SkeletonRow[] = []
      for (const c of children.get(r.id) ?? []) {
        const b = branchOf(c)
        if (b === branch) next.push(c)
        // a subagent that hangs from this message with no known spawning call (the compaction agent): right after it
        else if (b !== 'main' && b !== 'sidechain' && !spawned.has(b)) walk([c], d + 1, b, null)
      }
      for (let i = next.length - 1; i >= 0; i--) stack.push({ r: next[i] as SkeletonRow, depth: d })
    }
  }
  walk(
    (children.get(null) ?? []).filter((r) => !r.isSidechain),
    0,
    'main',
    null,
  )
  for (const [branch, agentRows] of branches) {
    if (branch === 'main') continue
    walk(
      agentRows.filter((a) => !a.parentId || !present.has(a.parentId)),
      1,
      branch,
      null,
    )
  }
  // anything left (cycles, broken links) keeps its time order at the end
  for (const r of rows) if (!placed.has(r.id)) walk([r], 0, branchOf(r), null)
  return out
}

/** Messages of a conversation; every change keeps the conversation's totals exact. */
export function createMessageService(
  repo: MessageRepository,
  conversations: ConversationService,
  pricing: Pricing,
  bus: EventBus,
  reads: ReadCache,
) {
  const withToolCalls = async (rows: MessageRow[]) => {
    const calls = await repo.toolCallsOf(rows.map((r) => r.id))
    const byMessage = Map.groupBy(calls, (c) => c.messageId)
    return rows.map((r) => toMessage(r, byMessage.get(r.id) ?? []))
  }

  return {
    async list(actor: Actor, conversationId: string, limit = 50, offset = 0) {
      // the conversation keeps its message count: no count(*) per page
      const { message_count: total } = await conversations.get(actor, conversationId)
      const rows = await repo.list(conversationId, limit, offset)
      return { items: await withToolCalls(rows), total, limit, offset }
    },
    /** A page of the conversation in thread order, each message with its depth and branch. */
    async thread(actor: Actor, conversationId: string, limit = 50, offset = 0) {
      await conversations.ownerOf(actor, conversationId)
      // the whole conversation's order, worked out once for all its pages until a write
      const order = await reads.remember(['thread.order', conversationId], async () =>
        threadOrder(await repo.skeleton(conversationId), await repo.agentSpawns(conversationId)),
      )
      const page = order.slice(offset, offset + limit)
      const rows = new Map((await repo.findMany(page.map((e) => e.id))).map((r) => [r.id, r]))
      const full = await withToolCalls(page.map((e) => rows.get(e.id) as MessageRow))
      const items = page.map((e, i) => ({
        ...(full[i] as MessageDto),
        depth: e.depth,
        branch: e.branch,
        spawned_by_tool_call: e.spawnedBy,
        compaction_boundary: e.compactionBoundary,
      }))
      return { items, total: order.length, limit, offset }
    },
    async get(actor: Actor, conversationId: string, id: string) {
      await conversations.ownerOf(actor, conversationId)
      const row = await repo.find(conversationId, id)
      if (!row) throw notFound('message')
      const [message] = await withToolCalls([row])
      return message as MessageDto
    },
    async create(actor: Actor, conversationId: string, input: CreateMessage) {
      // records under a conversation belong to its owner, also when an admin adds them
      const ownerId = await conversations.ownerOf(actor, conversationId)
      if (input.parent_id !== undefined && !(await repo.find(conversationId, input.parent_id)))
        throw invalid('parent_id', 'no message with this id in the conversation')
      // tool_use blocks start tool calls, as in a transcript (unless tool_calls describes them), and tool_result
      // blocks complete the calls of this conversation they answer
      const blocks = toolBlocksOf(input.content)
      const declared = new Set((input.tool_calls ?? []).map((c) => c.id))
      const started = blocks.toolUses.filter((u) => !declared.has(u.id))
      const callIds = [...(input.tool_calls ?? []).map((c) => c.id), ...started.map((u) => u.id)]
      if (new Set(callIds).size !== callIds.length) throw invalid('tool_calls', 'tool call ids must be unique')
      if (await repo.toolCallExists(conversationId, callIds))
        throw conflict('a tool call with one of these ids already exists in this conversation')

      const now = Date.now()
      const timestamp = input.timestamp ? Date.parse(input.timestamp) : now
      const usage = {
        inputTokens: input.usage?.input_tokens ?? 0,
        outputTokens: input.usage?.output_tokens ?? 0,
        cacheCreationTokens: input.usage?.cache_creation_input_tokens ?? 0,
        cacheReadTokens: input.usage?.cache_read_input_tokens ?? 0,
      }
      const id = Bun.randomUUIDv7()
      const calls: NewToolCallRow[] = (input.tool_calls ?? []).map((c) => {
        const startedAt = c.started_at ? Date.parse(c.started_at) : null
        const endedAt = c.ended_at ? Date.parse(c.ended_at) : null
        if (startedAt !== null && endedAt !== null && endedAt < startedAt)
          throw invalid('tool_calls', `tool call ${c.id} ends before it starts`)
        return {
          id: c.id,
          ownerId,
          conversationId,
          messageId: id,
          name: c.name,
          input: c.input ?? null,
          result: c.result ?? null,
          isError: c.is_error ?? false,
          startedAt,
          endedAt,
          durationMs: startedAt !== null && endedAt !== null ? endedAt - startedAt : null,
        }
      })
      for (const u of started)
        calls.push({
          id: u.id,
          ownerId,
          conversationId,
          messageId: id,
          name: u.name,
          input: u.input,
          result: null,
          isError: false,
          startedAt: timestamp,
          endedAt: null,
          durationMs: null,
        })
      const results = blocks.toolResults.map((r) => ({
        id: r.toolUseId,
        result: r.excerpt,
        isError: r.isError,
        endedAt: timestamp,
      }))
      const row = await repo.insert(
        {
          id,
          ownerId,
          conversationId,
          parentId: input.parent_id ?? null,
          type: input.role,
          role: input.role,
          content: input.content,
          text: contentText(input.content),
          model: input.model ?? null,
          ...usage,
          costUsd: pricing.costOf(input.model, usage),
          metadata: input.metadata ?? {},
          timestamp,
          createdAt: now,
        },
        calls,
        results,
      )
      const [message] = (await withToolCalls([row])) as [MessageDto]
      bus.publish({ type: 'message', ownerId, sessionId: conversationId, data: message })
      return message
    },
    async remove(actor: Actor, conversationId: string, id: string) {
      await conversations.ownerOf(actor, conversationId)
      if (!(await repo.delete(conversationId, id))) throw notFound('message')
    },
  }
}
export type MessageService = ReturnType<typeof createMessageService>
