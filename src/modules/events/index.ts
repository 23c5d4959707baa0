import { Elysia } from 'elysia'
import { AppError, ErrorBody, notFound } from '../../lib/errors'
import { IdParams, MachineHeaders, SECURITY } from '../../lib/models'
import type { AuthGuard } from '../auth/guard'
import type { ConversationService } from '../conversations/service'
import { type EventQuery, HierarchyModel } from '../hierarchy/model'
import type { HierarchyService } from '../hierarchy/service'
import { EventsModel } from './model'
import type { EventService } from './service'

const filterOf = (q: EventQuery) => ({
  machineId: q.machine_id,
  workspaceId: q.workspace_id,
  type: q.type,
  from: q.from ? Date.parse(q.from) : undefined,
  to: q.to ? Date.parse(q.to) : undefined,
})
type Deps = { events: EventService; hierarchy: HierarchyService; conversations: ConversationService; guard: AuthGuard }

/** Claude Code hooks, batches of agent events, and the events of a project or session. */
export const eventsModule = ({ events, hierarchy, conversations, guard }: Deps) =>
  new Elysia({ name: 'events', prefix: '/api', detail: { tags: ['events'], security: SECURITY } })
    .use(guard)
    .model(EventsModel)
    .model(HierarchyModel)
    .model({ error: ErrorBody })
    .post(
      '/hooks/claude-code',
      ({ user, body, headers }) =>
        events.recordHook(user, body as typeof body & Record<string, unknown>, {
          machineId: headers['x-observatory-machine-id'] || undefined,
          hostname: headers['x-observatory-hostname'] || undefined,
        }),
      {
        role: 'member',
        body: 'events.Hook',
        headers: MachineHeaders,
        response: { 200: 'events.HookReply', 400: 'error', 401: 'error', 403: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'Receive a Claude Code hook event',
          description:
            'Point a "type": "http" hook here with an API key header. Every hook_event_name and field is kept. Optional headers X-Observatory-Machine-Id and X-Observatory-Hostname place the session on a machine. Answers {} at once.',
        },
      },
    )
    .post('/events', ({ user, body }) => events.recordBatch(user, body.events), {
      role: 'member',
      body: 'events.Batch',
      response: {
        200: 'events.BatchResult',
        400: 'error',
        401: 'error',
        403: 'error',
        413: 'error',
        422: 'error',
        429: 'error',
      },
      detail: {
        summary: 'Record a batch of agent events',
        description:
          'Up to 1,000 events, each with your event_id. Per event: created, duplicate (already stored) or error with its reason.',
      },
    })
    .get(
      '/projects/:id/events',
      async ({ user, params, query }) => {
        await hierarchy.project(user, params.id)
        return events.list(user, { ...filterOf(query), projectId: params.id }, query.limit, query.offset)
      },
      {
        role: 'viewer',
        params: IdParams,
        query: 'hierarchy.EventQuery',
        response: { 200: 'hierarchy.EventPage', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: { summary: 'Events of a project, oldest first; filters machine, workspace, type, from, to' },
      },
    )
    .get(
      '/sessions/:id/events',
      async ({ user, params, query }) => {
        // the session's owner's events only: another account may have posted to the same session id. Events of a
        // session with no conversation (none yet, or one the caller cannot see) are the caller's own (an admin's:
        // anyone's, as everywhere).
        const owner = await conversations.ownerOf(user, params.id).catch((e: unknown) => {
          if (e instanceof AppError && e.status === 404) return undefined
          throw e
        })
        if (owner === undefined && !(await events.hasSession(user, params.id))) throw notFound('session')
        return events.list(user, { ...filterOf(query), sessionId: params.id }, query.limit, query.offset, owner)
      },
      {
        role: 'viewer',
        params: IdParams,
        query: 'hierarchy.EventQuery',
        response: { 200: 'hierarchy.EventPage', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: { summary: 'Events of a session, oldest first; filters machine, workspace, type, from, to' },
      },
    )
