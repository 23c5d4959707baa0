/**
 * The HTTP floor: a bare Bun.serve answering every request with the same small JSON body (the shape of /health),
 * built per request as a handler would. Listens on 127.0.0.1 and the port in PORT (0: any free port).
 */
const body = JSON.stringify({ status: 'ok', uptime_s: 42 })
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  fetch: () => new Response(body, { headers: { 'content-type': 'application/json' } }),
})
console.log(JSON.stringify({ url: server.url.href }))
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
