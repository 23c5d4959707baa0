import { Elysia, t } from 'elysia'
import type { Actor } from '../../lib/actor'
import { AppError, ErrorBody } from '../../lib/errors'
import { Integer, SECURITY } from '../../lib/models'
import type { AuthGuard } from '../auth/guard'
import type { LiveFilter, LiveService } from './service'

const FilterQuery = t.Object({
  project_id: t.Optional(t.String({ maxLength: 128 })),
  machine_id: t.Optional(t.String({ maxLength: 128 })),
  workspace_id: t.Optional(t.String({ maxLength: 128 })),
  session_id: t.Optional(t.String({ maxLength: 128 })),
  type: t.Optional(t.String({ maxLength: 512, description: 'Comma-separated event types, e.g. event,message' })),
})
const filterOf = (q: typeof FilterQuery.static): LiveFilter => ({
  projectId: q.project_id,
  machineId: q.machine_id,
  workspaceId: q.workspace_id,
  sessionId: q.session_id,
  types: q.type
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
})
const encoder = new TextEncoder()
/** What an event stream holds for a client that does not read, before it lets the client go. */
export const MAX_UNREAD_BYTES = 8 * 1024 * 1024

/** Live updates over Server-Sent Events and WebSocket. */
type Deps = { live: LiveService; guard: AuthGuard; authenticate: (headers: Headers) => Promise<Actor> }

export const liveModule = ({ live, guard, authenticate }: Deps) => {
  const subscriptions = new Map<string, () => void>()
  // the credential a stream was opened with, checked again at each heartbeat: revoked or expired, the stream ends
  const stillAllowed = (user: Actor, headers: Headers) => () =>
    authenticate(headers).then(
      (again) => again.id === user.id,
      () => false,
    )
  return new Elysia({ name: 'live', prefix: '/api/live', detail: { tags: ['live'], security: SECURITY } })
    .use(guard)
    .model({ error: ErrorBody })
    .get(
      '/stream',
      ({ user, query, request }) => {
        const header = request.headers.get('last-event-id')
        const lastEventId = header && /^\d+$/.test(header) ? Number(header) : null
        let stop = () => {}
        const body = new ReadableStream<Uint8Array>(
          {
            start(controller) {
              const write = (text: string) => {
                try {
                  // a client that stopped reading (yet holds the connection) is let go, not buffered for without end:
                  // it reconnects with its Last-Event-ID and is replayed what it missed, or told to start again
                  if ((controller.desiredSize ?? 0) < -MAX_UNREAD_BYTES) {
                    stop()
                    controller.close()
                    return
                  }
                  controller.enqueue(encoder.encode(text))
                } catch {
                  stop() // the client went away
                }
              }
              write('retry: 2000\n\n')
              stop = live.subscribe(
                user,
                filterOf(query),
                lastEventId,
                (m) => {
                  if (m.kind === 'heartbeat') write(': heartbeat\n\n')
                  else if (m.kind === 'reset') write('event: reset\ndata: {}\n\n')
                  else write(`id: ${m.event.id}\nevent: ${m.event.type}\ndata: ${m.event.json}\n\n`)
                },
                (why) => {
                  // (a client reconnecting after a shutdown finds the server again once it is back)
                  if (why === 'revoked') write('event: revoked\ndata: {}\n\n')
                  try {
                    controller.close()
                  } catch {} // closed already: the client had gone
                },
                stillAllowed(user, request.headers),
              )
              request.signal.addEventListener('abort', () => stop())
            },
            cancel() {
              stop()
            },
          },
          { highWaterMark: 64 * 1024, size: (chunk) => chunk?.byteLength ?? 0 },
        )
        return new Response(body, {
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
            'x-accel-buffering': 'no',
          },
        })
      },
      {
        role: 'viewer',
        query: FilterQuery,
        headers: t.Object({
          'last-event-id': t.Optional(
            t.String({ description: 'Resume after this event id (an EventSource sends it when it reconnects)' }),
          ),
        }),
        response: {
          200: t.Any({
            description: 'text/event-stream',
            examples: ['id: 42\nevent: event\ndata: {"id":42,"type":"event","sessionId":"…","data":{…},"at":"…"}\n\n'],
          }),
          401: 'error',
          422: 'error',
          429: 'error',
        },
        detail: {
          'x-media-types': ['text/event-stream'],
          summary: 'Live events (Server-Sent Events)',
          description:
            'Events: event (hooks and batches), message (posted to the API), conversation.updated (imports, also by the CLI beside the server: the messages and tool calls each chunk added), file.progress. Each has an id; send Last-Event-ID to resume without a gap (a `reset` event says the gap was too old to replay). A heartbeat comment every 5 s.',
        },
      },
    )
    .post('/ticket', ({ user }) => live.issueTicket(user), {
      role: 'viewer',
      response: {
        200: t.Object(
          { ticket: t.String(), expires_in: Integer() },
          { examples: [{ ticket: 'V3JpdGUgYSB0aWNrZXQgaGVyZQ', expires_in: 30 }] },
        ),
        401: 'error',
        429: 'error',
      },
      detail: {
        summary: 'A one-time ticket for the WebSocket',
        description: 'Browsers cannot send headers with a WebSocket: open /api/live?ticket=… within 30 s instead.',
      },
    })
    .macro({
      // a one-time ticket (browsers) or the usual credential headers (everything else)
      socket: {
        async resolve({ query, request }) {
          const user = query.ticket ? await live.redeemTicket(query.ticket) : await authenticate(request.headers)
          if (!user) throw new AppError(401, 'UNAUTHORIZED', 'a valid credential or ticket is required')
          // a ticket is spent: the user being active is what is checked again; headers are checked again whole
          return { socketUser: user, socketAllowed: query.ticket ? undefined : stillAllowed(user, request.headers) }
        },
      },
    })
    .ws('/', {
      socket: true,
      query: t.Composite([
        FilterQuery,
        t.Object({
          ticket: t.Optional(t.String({ maxLength: 64 })),
          last_event_id: t.Optional(
            t.String({ pattern: '^\\d{1,16}$', description: 'Resume after this event id, as Last-Event-ID does' }),
          ),
        }),
      ]),
      open(ws) {
        const { last_event_id: lastEventId } = ws.data.query
        const stop = live.subscribe(
          ws.data.socketUser,
          filterOf(ws.data.query),
          lastEventId === undefined ? null : Number(lastEventId),
          (m) => ws.send(m.kind === 'event' ? m.event.json : { type: m.kind }),
          (why) => (why === 'revoked' ? ws.close(4401, 'credential revoked') : ws.close(1001, 'server shutting down')),
          ws.data.socketAllowed,
        )
        subscriptions.set(ws.id, stop)
      },
      close(ws) {
        subscriptions.get(ws.id)?.()
        subscriptions.delete(ws.id)
      },
      detail: { summary: 'Live events (WebSocket); the same events and filters as /api/live/stream' },
    })
}
