import { t } from 'elysia'
import { DateTimeInput, Integer, PageQuery, Timestamp } from '../../lib/models'
import { SEARCH_WINDOW } from './repository'

export const SearchHit = t.Object(
  {
    message_id: t.String(),
    conversation_id: t.String(),
    conversation_title: t.Union([t.String(), t.Null()]),
    role: t.Union([t.Literal('user'), t.Literal('assistant'), t.Literal('system'), t.Null()]),
    model: t.Union([t.String(), t.Null()]),
    timestamp: Timestamp,
    snippet: t.String({ description: 'HTML-escaped text around the match, matches wrapped in <mark>…</mark>' }),
    rank: t.Number({ description: 'bm25 score: lower is a better match' }),
  },
  {
    examples: [
      {
        message_id: 'c228f841-697c-48dd-b33e-3ebc5ced6a41',
        conversation_id: '55604662-cf2a-4331-851a-ec234028f8ca',
        conversation_title: 'mix phx.server doesnt seem to start',
        role: 'assistant',
        model: 'claude-opus-4-6',
        timestamp: '2026-02-10T21:11:59.873Z',
        snippet: 'The user is having trouble starting their <mark>Phoenix</mark> server…',
        rank: -1.59,
      },
    ],
  },
)

export const SearchModel = {
  'search.Page': t.Object(
    {
      items: t.Array(SearchHit),
      total: Integer({ description: `Matches, counted up to ${SEARCH_WINDOW}` }),
      total_exact: t.Boolean({ description: `false: more than ${SEARCH_WINDOW} match (total reads ${SEARCH_WINDOW})` }),
      limit: Integer(),
      offset: Integer(),
    },
    {
      description:
        `Hits ranked by bm25 (best first) among the newest ${SEARCH_WINDOW} matches that pass the filters: ` +
        'all of them when fewer match. Narrow a broad search with more words or filters.',
      examples: [{ items: SearchHit.examples, total: 1, total_exact: true, limit: 50, offset: 0 }],
    },
  ),
  'search.Query': t.Object({
    q: t.String({
      maxLength: 10_000,
      description: 'Words (all must match), "exact phrases", prefix*, and -excluded terms',
      examples: ['"connection refused" postgres -docker'],
    }),
    ...PageQuery,
    conversation_id: t.Optional(t.String({ maxLength: 128 })),
    project_path: t.Optional(t.String({ maxLength: 4096 })),
    role: t.Optional(t.Union([t.Literal('user'), t.Literal('assistant'), t.Literal('system')])),
    model: t.Optional(t.String({ maxLength: 200 })),
    tool: t.Optional(t.String({ maxLength: 256, description: 'Only messages that called this tool' })),
    from: t.Optional(DateTimeInput()),
    to: t.Optional(DateTimeInput()),
    include_sidechains: t.Optional(t.Boolean({ default: false, description: 'Also search subagent messages' })),
    owner_id: t.Optional(t.String({ maxLength: 128, description: "Admins only: one user's messages" })),
  }),
}
export type SearchQuery = (typeof SearchModel)['search.Query']['static']
export type SearchHitDto = typeof SearchHit.static
