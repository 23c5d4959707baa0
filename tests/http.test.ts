import { describe, expect, it } from 'bun:test'
import { gunzipSync } from 'node:zlib'
import { Validator } from '@seriousme/openapi-schema-validator'
import { countRows, errorOf, json, makeApp } from './helpers'

describe('http behaviour', () => {
  it('echoes a given X-Request-ID and makes one otherwise, also on errors', async () => {
    const { raw } = await makeApp()
    const given = await raw('/health', { headers: { 'x-request-id': 'trace-123' } })
    expect(given.headers.get('x-request-id')).toBe('trace-123')
    const made = await raw('/api/conversations/nope')
    const id = made.headers.get('x-request-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect((await errorOf(made)).request_id).toBe(id!)
    const unsafe = await raw('/health', { headers: { 'x-request-id': 'a b<script>' } })
    expect(unsafe.headers.get('x-request-id')).not.toContain('<')
  })

  it('does no work for a client that has already gone', async () => {
    const { raw, db } = await makeApp()
    const gone = new AbortController()
    gone.abort()
    const r = await raw('/api/conversations', {
      ...json('POST', { title: 'nobody waits for me' }),
      signal: gone.signal,
    })
    expect(r.status).toBe(499)
    expect(countRows(db, 'conversations')).toBe(0)
    expect((await raw('/api/conversations', json('POST', { title: 'someone waits' }))).status).toBe(201)
    expect(countRows(db, 'conversations')).toBe(1)
  })

  it('answers an unknown route with a 404 JSON error body', async () => {
    const { raw } = await makeApp()
    const r = await raw('/api/nothing-here')
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toContain('application/json')
    const body = await errorOf(r)
    expect(body.code).toBe('NOT_FOUND')
    expect(Date.parse(body.timestamp)).not.toBeNaN()
  })

  it('refuses a body over the size limit with 413', async () => {
    const { raw } = await makeApp({ MAX_BODY_MB: '0.001' })
    const body = JSON.stringify({ title: 'x'.repeat(2000) })
    const headers = { 'content-length': String(body.length) }
    const r = await raw('/api/conversations', json('POST', body, headers))
    expect(r.status).toBe(413)
    expect((await errorOf(r)).code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('refuses a body that is neither JSON nor an upload with 415, storing nothing', async () => {
    const { raw, db } = await makeApp()
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/ld+json']) {
      const r = await raw('/api/conversations', {
        method: 'POST',
        body: '{"title":"x"}',
        headers: { 'content-type': type },
      })
      expect({ type, status: r.status }).toEqual({ type, status: 415 })
      const body = await errorOf(r)
      expect(body.code).toBe('UNSUPPORTED_MEDIA_TYPE')
      expect(body.error).toContain(type)
    }
    expect(countRows(db, 'conversations')).toBe(0)
    // a request without a body is not judged by its content-type
    const created = await raw('/api/conversations', json('POST', { title: 'kept' }))
    const { id } = (await created.json()) as { id: string }
    const gone = await raw(`/api/conversations/${id}`, { method: 'DELETE', headers: { 'content-type': 'text/plain' } })
    expect(gone.status).toBe(204)
    for (const type of ['application/json', 'application/json; charset=utf-8']) {
      const r = await raw('/api/conversations', {
        method: 'POST',
        body: '{"title":"x"}',
        headers: { 'content-type': type },
      })
      expect({ type, status: r.status }).toEqual({ type, status: 201 })
    }
  })

  it('gzips large JSON responses when the client accepts it, and only then', async () => {
    const { raw, api } = await makeApp()
    for (let i = 0; i < 20; i++) await api.api.conversations.post({ title: `conversation number ${i}` })
    const zipped = await raw('/api/conversations', { headers: { 'accept-encoding': 'gzip, br' } })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    const body = JSON.parse(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString())
    expect(body.total).toBe(20)
    const plain = await raw('/api/conversations')
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(((await plain.json()) as { total: number }).total).toBe(20)
    const small = await raw('/health', { headers: { 'accept-encoding': 'gzip' } })
    expect(small.headers.get('content-encoding')).toBeNull()
  })

  it('answers 100,000 nested brackets with a 4xx, not a crash', async () => {
    const { raw, db } = await makeApp()
    for (const body of [
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    ]) {
      const r = await raw('/api/conversations', json('POST', body))
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expect((await errorOf(r)).success).toBe(false)
    }
    expect((db.$client.query('SELECT count(*) AS n FROM conversations').get() as { n: number }).n).toBe(0)
  })

  it('keeps the status and body of a compressed 201', async () => {
    const { raw } = await makeApp()
    const r = await raw(
      '/api/conversations',
      json('POST', { title: 'big', metadata: { pad: 'p'.repeat(4000) } }, { 'accept-encoding': 'gzip' }),
    )
    expect(r.status).toBe(201)
    expect(r.headers.get('content-encoding')).toBe('gzip')
    const body = JSON.parse(gunzipSync(Buffer.from(await r.arrayBuffer())).toString())
    expect(body.title).toBe('big')
    expect(body.code).toBeUndefined()
  })

  it('answers a route without a promise when none of its hooks needs one', async () => {
    // an async global hook (a parse hook, an error hook Elysia reads as async) compiles every handler async
    const { app } = await makeApp()
    const answer = app.fetch(new Request('http://localhost/health'))
    expect(answer).toBeInstanceOf(Response)
    expect((answer as Response).status).toBe(200)
  })

  it('reports liveness, readiness and Prometheus metrics', async () => {
    const { raw, api } = await makeApp()
    expect((await api.health.get()).data?.status).toBe('ok')
    expect((await api.health.ready.get()).data?.status).toBe('ready')
    await raw('/api/conversations')
    await raw('/api/conversations/missing')
    await raw('/swagger/') // a redirect its handler makes as a Response
    const metrics = await (await raw('/metrics')).text()
    expect(metrics).toContain('http_request_duration_seconds_count{method="GET",route="/swagger",status="308"} 1')
    expect(metrics).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/conversations",status="200"} 1',
    )
    expect(metrics).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/conversations/:id",status="404"} 1',
    )
    expect(metrics).toContain('http_request_duration_seconds_bucket{le="5",method="GET",route="/api/conversations"')
    expect(metrics).toContain('observatory_db_size_bytes')
  })

  it('is not ready on a database without the migrations', async () => {
    const { raw, db } = await makeApp()
    db.$client.exec('DELETE FROM __drizzle_migrations')
    const r = await raw('/health/ready')
    expect(r.status).toBe(503)
    const body = await errorOf(r)
    expect(body.code).toBe('NOT_READY')
    expect(body.error).toContain('migrations')
  })

  it('serves Swagger UI offline and a spec where every route has a tag, a summary and its error responses', async () => {
    const { raw } = await makeApp()
    const page = await raw('/swagger')
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('/swagger/assets/swagger-ui-bundle.js')
    expect(html).not.toContain('unpkg.com')
    // the page asks for its spec relative to its own address: with a trailing slash it is sent to the one without
    const slash = await raw('/swagger/')
    expect([slash.status, new URL(slash.headers.get('location')!, 'http://x/swagger/').pathname]).toEqual([
      308,
      '/swagger',
    ])
    expect((await raw('/swagger/assets/swagger-ui-bundle.js')).status).toBe(200)
    expect((await raw('/swagger/assets/swagger-ui.css')).status).toBe(200)
    const spec = (await (await raw('/swagger/json')).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            tags?: string[]
            summary?: string
            responses?: Record<string, unknown>
            requestBody?: { content: Record<string, unknown> }
          }
        >
      >
    }
    const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ path, m, op })),
    )
    // bodies as the server takes them: JSON, and a multipart form for uploads only (any other is a 415)
    const bodies = operations.filter(({ op }) => op.requestBody)
    expect(bodies.length).toBeGreaterThan(10)
    for (const { path, m, op } of bodies) {
      expect({ path, m, types: Object.keys(op.requestBody!.content) }).toEqual({
        path,
        m,
        types: [path === '/api/files' ? 'multipart/form-data' : 'application/json'],
      })
      // what the server answers any body that is too large or of another type
      expect({ path, m, statuses: Object.keys(op.responses ?? {}) }).toEqual({
        path,
        m,
        statuses: expect.arrayContaining(['413', '415']),
      })
    }
    expect(operations.length).toBeGreaterThanOrEqual(12)
    for (const { path, m, op } of operations) {
      expect({ path, m, tags: op.tags?.length ?? 0 }).toEqual({ path, m, tags: 1 })
      expect({ path, m, summary: Boolean(op.summary) }).toEqual({ path, m, summary: true })
    }
    // every route shows an example of its success answer (a 204 has no body; the WebSocket has no HTTP answer)
    const schemas =
      (spec as { components?: { schemas?: Record<string, { examples?: unknown[] }> } }).components?.schemas ?? {}
    const withoutExample = operations.filter(({ path, op }) => {
      if (path === '/api/live') return false
      const [status, answer] = Object.entries(op.responses ?? {}).find(([s]) => s.startsWith('2')) ?? []
      if (status === '204') return false
      const content =
        (answer as { content?: Record<string, { schema?: { $ref?: string; examples?: unknown[] } }> })?.content ?? {}
      const schema = Object.values(content)[0]?.schema
      const resolved = schema?.$ref ? schemas[schema.$ref.split('/').pop() as string] : schema
      return !resolved?.examples?.length
    })
    expect(withoutExample.map(({ m, path }) => `${m} ${path}`)).toEqual([])
    const get = spec.paths['/api/conversations/{id}']?.get
    expect(Object.keys(get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '422']))
  })

  it('serves a valid OpenAPI 3.1 document, with the media types the routes send', async () => {
    const { raw } = await makeApp()
    const spec = (await (await raw('/swagger/json')).json()) as { openapi: string; paths: Record<string, unknown> }
    const result = await new Validator().validate(spec)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    const paths = spec.paths as Record<string, Record<string, { responses: Record<string, { content?: object }> }>>
    expect(Object.keys(paths['/api/auth/logout']?.post?.responses['204'] ?? {})).toEqual(['description'])
    expect(Object.keys(paths['/api/live/stream']?.get?.responses['200']?.content ?? {})).toEqual(['text/event-stream'])
    expect(Object.keys(paths['/api/conversations/{id}/export']?.get?.responses['200']?.content ?? {})).toEqual([
      'application/x-ndjson',
      'text/markdown',
      'application/json',
    ])
    expect(Object.keys(paths['/api/live'] ?? {})).toEqual(['get']) // the WebSocket: a GET that upgrades
    expect(Object.keys(paths['/api/live']?.get?.responses ?? {})).toEqual(['101', '401', '422'])
    expect(paths['/api/live/']).toBeUndefined()
    const stream = paths['/api/live/stream']?.get as unknown as { parameters: { name: string; in: string }[] }
    expect(stream.parameters).toContainEqual(expect.objectContaining({ name: 'last-event-id', in: 'header' }))
    // asked again, the same document
    expect(await (await raw('/swagger/json')).json()).toEqual(spec)
  })
})
