/**
 * The HTTP floor: a bare Bun.serve answering every request with the same small JSON body (the shape of /health),
 * built per request as a handler would. Listens on 127.0.0.1 and the port in PORT (0: any free port).
 * With SAME_HEADERS=1 it also sends what every answer of the app carries: a fresh request id and the security headers.
 */
import { securityHeaders } from '../src/lib/security'

const body = JSON.stringify({ status: 'ok', uptime_s: 42 })
const set = { headers: {} as Record<string, string> }
securityHeaders({ corsOrigins: [], hstsMaxAge: 0 })(new Request('http://localhost/'), set)
const appHeaders = set.headers
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  fetch: process.env.SAME_HEADERS
    ? () =>
        new Response(body, {
          headers: { 'content-type': 'application/json', 'x-request-id': Bun.randomUUIDv7(), ...appHeaders },
        })
    : () => new Response(body, { headers: { 'content-type': 'application/json' } }),
})
console.log(JSON.stringify({ url: server.url.href }))
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
