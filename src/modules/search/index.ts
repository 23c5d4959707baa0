import { Elysia } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { SECURITY } from '../../lib/models'
import type { ReadCache } from '../../lib/read-cache'
import type { AuthGuard } from '../auth/guard'
import { SearchModel } from './model'
import type { SearchService } from './service'

/** Full-text search over messages. */
export const searchModule = ({ search, reads, guard }: { search: SearchService; reads: ReadCache; guard: AuthGuard }) =>
  new Elysia({ name: 'search', prefix: '/api/search', detail: { tags: ['search'], security: SECURITY } })
    .use(guard)
    .model(SearchModel)
    .model({ error: ErrorBody })
    .get(
      '',
      ({ user, query }) => reads.remember(['search', user.id, user.role, query], () => search.search(user, query)),
      {
        role: 'viewer',
        query: 'search.Query',
        response: { 200: 'search.Page', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'Search messages',
          description:
            'Ranked by bm25. Every word must match; "quoted phrases" match exactly; word* matches a prefix; -word excludes. Subagent messages only with include_sidechains=true.',
        },
      },
    )
