import { type Actor, ownerScope } from '../../lib/actor'
import { MARK_CLOSE, MARK_OPEN } from '../../lib/content'
import { iso } from '../../lib/models'
import type { SearchHitDto, SearchQuery } from './model'
import { toFtsQuery } from './query'
import { SEARCH_WINDOW, type SearchRepository } from './repository'

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

/** Full-text search over the caller's messages (an admin's: everyone's, or one owner's). */
export function createSearchService(repo: SearchRepository) {
  return {
    async search(actor: Actor, q: SearchQuery) {
      const limit = q.limit ?? 50
      const offset = q.offset ?? 0
      const ownerId = actor.role === 'admin' ? (q.owner_id ?? null) : ownerScope(actor)
      const { rows, matches } = await repo.search(
        {
          match: toFtsQuery(q.q),
          ownerId,
          conversationId: q.conversation_id,
          projectPath: q.project_path,
          role: q.role,
          model: q.model,
          tool: q.tool,
          from: q.from ? Date.parse(q.from) : undefined,
          to: q.to ? Date.parse(q.to) : undefined,
          includeSidechains: q.include_sidechains ?? false,
        },
        limit,
        offset,
      )
      const items: SearchHitDto[] = rows.map((r) => ({
        ...r,
        timestamp: iso(r.timestamp),
        snippet: escapeHtml(r.snippet).replaceAll(MARK_OPEN, '<mark>').replaceAll(MARK_CLOSE, '</mark>'),
      }))
      return { items, total: Math.min(matches, SEARCH_WINDOW), total_exact: matches <= SEARCH_WINDOW, limit, offset }
    },
  }
}
export type SearchService = ReturnType<typeof createSearchService>
