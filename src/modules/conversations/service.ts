import { type Actor, ownerScope } from '../../lib/actor'
import { conflict, notFound } from '../../lib/errors'
import { iso, isoOrNull } from '../../lib/models'
import { usd } from '../../lib/pricing'
import type { ReadCache } from '../../lib/read-cache'
import type { ConversationDto, ConversationListQuery, CreateConversation, UpdateConversation } from './model'
import type { ConversationFilter, ConversationRepository, ConversationRow } from './repository'

export const toConversation = (r: ConversationRow): ConversationDto => ({
  id: r.id,
  title: r.title,
  project_path: r.projectPath,
  git_branch: r.gitBranch,
  source: r.source,
  agent_version: r.agentVersion,
  models: r.models,
  metadata: r.metadata,
  message_count: r.messageCount,
  usage: {
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cache_creation_input_tokens: r.cacheCreationTokens,
    cache_read_input_tokens: r.cacheReadTokens,
    total_tokens: r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens,
  },
  cost_usd: usd(r.costUsd),
  started_at: iso(r.startedAt),
  ended_at: isoOrNull(r.endedAt),
  created_at: iso(r.createdAt),
  updated_at: iso(r.updatedAt),
})

/** Domain logic for conversations; knows nothing of HTTP. */
export function createConversationService(repo: ConversationRepository, reads: ReadCache) {
  /** Another owner's conversation is simply not found. */
  const require = async (actor: Actor, id: string) => {
    const row = await repo.find(id, ownerScope(actor))
    if (!row) throw notFound('conversation')
    return row
  }
  return {
    async list(actor: Actor, q: ConversationListQuery) {
      const limit = q.limit ?? 50
      const offset = q.offset ?? 0
      const filter: ConversationFilter = {
        // an admin sees everyone's, or one user's when asked
        ownerId: actor.role === 'admin' ? (q.owner_id ?? null) : ownerScope(actor),
        projectPath: q.project_path,
        workspaceId: q.workspace_id,
        titleContains: q.q,
        startedFrom: q.date_from ? Date.parse(q.date_from) : undefined,
        startedTo: q.date_to ? Date.parse(q.date_to) : undefined,
      }
      const rows = await repo.page(
        filter,
        { by: q.sort_by ?? 'updated_at', order: q.sort_order ?? 'desc' },
        limit,
        offset,
      )
      // counting costs more than a page: one count serves every page and order of the same filter until a write
      const total = await reads.remember(['conversations.count', filter], () => repo.count(filter))
      return { items: rows.map(toConversation), total, limit, offset }
    },
    async get(actor: Actor, id: string) {
      return toConversation(await require(actor, id))
    },
    /** The owner and workspace of a conversation, for internal linking (no access check). */
    async placementOf(id: string) {
      const row = await repo.find(id, null)
      return row ? { ownerId: row.ownerId, workspaceId: row.workspaceId } : null
    },
    /** The owner of a conversation the actor may see (else NOT_FOUND); for modules that hang records under one. */
    async ownerOf(actor: Actor, id: string) {
      return (await require(actor, id)).ownerId
    },
    async create(actor: Actor, input: CreateConversation) {
      const now = Date.now()
      const row = await repo.insert({
        id: Bun.randomUUIDv7(),
        ownerId: actor.id,
        title: input.title ?? null,
        titleSource: input.title ? 'user' : null,
        projectPath: input.project_path ?? null,
        gitBranch: input.git_branch ?? null,
        source: 'api',
        metadata: input.metadata ?? {},
        startedAt: now,
        createdAt: now,
        updatedAt: now,
      })
      return toConversation(row)
    },
    /**
     * Creates the conversation of an agent session (id = its session id) or links it to a workspace. A session id
     * that belongs to another account is a conflict.
     */
    async upsertSession(
      ownerId: string,
      s: { id: string; workspaceId?: string | null; title?: string; gitBranch?: string; projectPath?: string },
    ) {
      const now = Date.now()
      const row = await repo.upsertSession({
        id: s.id,
        ownerId,
        workspaceId: s.workspaceId ?? null,
        title: s.title ?? null,
        titleSource: s.title ? 'user' : null,
        gitBranch: s.gitBranch ?? null,
        projectPath: s.projectPath ?? null,
        startedAt: now,
        createdAt: now,
        updatedAt: now,
      })
      if (!row) throw conflict(`session ${s.id} belongs to another account`)
      return { conversation: toConversation(row), created: row.createdAt === now }
    },
    async update(actor: Actor, id: string, patch: UpdateConversation) {
      await require(actor, id)
      const row = await repo.update(id, {
        // a title set here is the user's: imports stop deriving one (until it is cleared with null)
        ...(patch.title !== undefined && { title: patch.title, titleSource: patch.title === null ? null : 'user' }),
        ...(patch.project_path !== undefined && { projectPath: patch.project_path }),
        ...(patch.metadata !== undefined && { metadata: patch.metadata }),
        updatedAt: Date.now(),
      })
      if (!row) throw notFound('conversation')
      return toConversation(row)
    },
    async remove(actor: Actor, id: string) {
      await require(actor, id)
      if (!(await repo.delete(id))) throw notFound('conversation')
    },
  }
}
export type ConversationService = ReturnType<typeof createConversationService>
