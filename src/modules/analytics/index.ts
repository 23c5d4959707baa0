import { Elysia } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { SECURITY } from '../../lib/models'
import type { ReadCache } from '../../lib/read-cache'
import type { AuthGuard } from '../auth/guard'
import { AnalyticsModel } from './model'
import type { AnalyticsService } from './service'

/** Token and cost reports, tool statistics and an overview. */
export const analyticsModule = ({
  analytics,
  reads,
  guard,
}: {
  analytics: AnalyticsService
  reads: ReadCache
  guard: AuthGuard
}) =>
  new Elysia({ name: 'analytics', prefix: '/api/analytics', detail: { tags: ['analytics'], security: SECURITY } })
    .use(guard)
    .model(AnalyticsModel)
    .model({ error: ErrorBody })
    .get(
      '/usage',
      ({ user, query }) => reads.remember(['usage', user.id, user.role, query], () => analytics.usage(user, query)),
      {
        role: 'viewer',
        query: 'analytics.UsageQuery',
        response: { 200: 'analytics.Usage', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'Token usage and cost',
          description:
            'Per day, week (keyed by its Monday), month, model, project or conversation, with a per-model breakdown and totals. Day boundaries follow tz. Each API response counts once.',
        },
      },
    )
    .get(
      '/blocks',
      async ({ user, query }) =>
        analytics.blocksAsOf(
          await reads.remember(['blocks', user.id, user.role, query], () => analytics.blocks(user, query)),
          Date.now(),
        ),
      {
        role: 'viewer',
        query: 'analytics.BlocksQuery',
        response: { 200: 'analytics.Blocks', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'Usage in billing blocks (5-hour windows), as ccusage blocks',
          description:
            "Claude's usage limits reset in 5-hour blocks that start at the hour of a block's first request. Each block: its responses' tokens, cost and models; pauses longer than a block appear as gaps; the running block has its burn rate and projection to its end.",
        },
      },
    )
    .get('/tools', ({ user, query }) => analytics.tools(user, query), {
      role: 'viewer',
      query: 'analytics.ToolsQuery',
      response: { 200: 'analytics.Tools', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'Tool calls per tool: count, errors, error rate, p50 and p95 duration' },
    })
    .get('/overview', ({ user }) => analytics.overview(user), {
      role: 'viewer',
      response: { 200: 'analytics.Overview', 401: 'error', 429: 'error' },
      detail: { summary: 'Counts, tokens, cost, active days, and the top projects, models and tools' },
    })
