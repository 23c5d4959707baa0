import { describe, expect, it } from 'bun:test'
import { basename, join } from 'node:path'
import fc from 'fast-check'
import { FIXTURES } from './fixture-expectations'
import { makeApp, raw } from './helpers'

/** Runs per route; HOSTILE_RUNS raises it for the long variant. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 25)

type Spec = { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> }

/** Strings chosen to break parsers, paths, SQL, FTS5 and JavaScript objects. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '-1',
    '0',
    '1e9',
    'NaN',
    'null',
    'true',
    '[]',
    '{}',
    '../../etc/passwd',
    '%00',
    '\u0000',
    "' OR 1=1 --",
    '"',
    'NEAR(',
    '*',
    '__proto__',
    'constructor',
    '🦀'.repeat(50),
    'x'.repeat(20_000),
  ),
)
const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'role', 'owner_id', 'title', 'events', 'email'),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  fc.constant({ __proto__: { admin: true } }),
)
/** Bodies as bytes: JSON of any shape, truncated JSON, invalid UTF-8, deep nesting. */
const body = fc.oneof(
  jsonish.map((v) => JSON.stringify(v) ?? ''),
  jsonish.map((v) => (JSON.stringify(v) ?? '').slice(0, -1)),
  fc.constant(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
  fc.constant('{"a":"\xff\xfe"}'),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
)
const contentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  '',
)

/**
 * Row counts and rowid sums of every table (row counts alone for tables without rowid, which are derived from
 * others): what a rejected request must leave as it was.
 */
function snapshot(db: { $client: { query(sql: string): { all(): unknown[]; get(): unknown } } }) {
  const tables = db.$client
    .query(
      "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'",
    )
    .all() as { name: string; wr: number }[]
  return Object.fromEntries(
    tables.map((t) => [
      t.name,
      db.$client.query(`SELECT count(*) AS n, ${t.wr ? '0' : 'total(rowid)'} AS r FROM "${t.name}"`).get(),
    ]),
  )
}

describe('hostile input generated from the OpenAPI spec', () => {
  it('answers every route with a 4xx and the error body, never a 5xx, and rejected requests change nothing', async () => {
    const { app, db, alice, api } = await makeApp()
    const transcript = join(FIXTURES, 'spotter', 'short.jsonl')
    const posted = await api.api.files.post({
      file: new File([await Bun.file(transcript).bytes()], basename(transcript)),
    })
    for (let i = 0; i < 300 && (await api.api.files({ id: posted.data!.id }).get()).data?.status !== 'completed'; i++)
      await Bun.sleep(10)

    const spec = (await (await raw(app, '/swagger/json')).json()) as Spec
    const routes = Object.entries(spec.paths)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })))
      // endless streams are exercised by the live suites
      .filter((r) => !r.path.startsWith('/api/live') && !r.path.startsWith('/swagger'))
    expect(routes.length).toBeGreaterThan(40)

    let tried = 0
    Bun.gc(true) // measure what this test keeps, not the garbage other suites left behind
    const heapBefore = process.memoryUsage().heapUsed
    for (const route of routes) {
      const queryNames = (route.op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
      await fc.assert(
        fc.asyncProperty(
          fc.array(nasty, { minLength: 2, maxLength: 2 }),
          fc.dictionary(
            fc.oneof(fc.constantFrom(...queryNames, '__proto__', 'limit', 'offset'), fc.string({ maxLength: 8 })),
            nasty,
            { maxKeys: 4 },
          ),
          body,
          contentType,
          fc.constantFrom('alice', 'none', 'garbage'),
          async (params, query, payload, type, who) => {
            const values = [...params]
            const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(values.shift() || 'x'))
            const qs = new URLSearchParams(query as Record<string, string>).toString()
            const headers: Record<string, string> = {}
            if (type) headers['content-type'] = type
            if (who === 'alice') headers.authorization = `Bearer ${alice.token}`
            // a header can only carry visible ASCII on the wire
            if (who === 'garbage')
              headers.authorization = `Bearer ${payload.slice(0, 100).replace(/[^\x21-\x7e]/g, '')}`
            const before = snapshot(db)
            const withBody = route.method !== 'GET' && route.method !== 'HEAD'
            const res = await app.handle(
              new Request(`http://localhost${path}${qs ? `?${qs}` : ''}`, {
                method: route.method,
                headers,
                body: withBody ? payload : undefined,
              }),
            )
            tried++
            const text = await res.text()
            expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
              route: `${route.method} ${route.path}`,
              status: res.status < 500 ? res.status : -1,
            })
            if (res.status >= 400) {
              const parsed = JSON.parse(text)
              expect(parsed.success).toBe(false)
              expect(typeof parsed.code).toBe('string')
              expect(text).not.toMatch(/\.ts:\d+|\n\s+at /)
              expect(snapshot(db)).toEqual(before)
            }
          },
        ),
        { numRuns: RUNS },
      )
    }
    Bun.gc(true)
    const grown = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024
    console.log(`hostile input: ${tried} requests over ${routes.length} routes, heap grew ${grown.toFixed(1)} MB`)
    expect(tried).toBe(routes.length * RUNS)
    expect(grown).toBeLessThan(256)
  }, 120_000)
})
