/**
 * The floor of part `live`: a bare Bun.serve with the same two routes and the same platform pieces as the app (one
 * ReadableStream per subscriber, `controller.enqueue`), but no auth, no database and one serialization per event
 * shared by every subscriber. Listens on 127.0.0.1 and the port in PORT (0: any free port).
 */
const encoder = new TextEncoder()
const subscribers = new Set<ReadableStreamDefaultController<Uint8Array>>()
let next = 1

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  idleTimeout: 0,
  async fetch(request) {
    const { pathname } = new URL(request.url)
    if (pathname === '/api/live/stream') {
      let self: ReadableStreamDefaultController<Uint8Array> | undefined
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          self = controller
          subscribers.add(controller)
          controller.enqueue(encoder.encode('retry: 2000\n\n'))
        },
        cancel() {
          if (self) subscribers.delete(self)
        },
      })
      return new Response(body, {
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' },
      })
    }
    if (pathname === '/api/hooks/claude-code' && request.method === 'POST') {
      const hook = (await request.json()) as Record<string, unknown>
      const id = next++
      const event = {
        id,
        type: 'event',
        sessionId: hook.session_id,
        data: { type: hook.hook_event_name, tool_use_id: hook.tool_use_id, payload: hook },
        at: new Date().toISOString(),
      }
      const bytes = encoder.encode(`id: ${id}\nevent: event\ndata: ${JSON.stringify(event)}\n\n`)
      for (const s of subscribers) {
        try {
          s.enqueue(bytes)
        } catch {
          subscribers.delete(s)
        }
      }
      return Response.json({})
    }
    return new Response('not found', { status: 404 })
  },
})
console.log(JSON.stringify({ url: server.url.href }))
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})

export {}
