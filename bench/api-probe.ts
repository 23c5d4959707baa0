/**
 * The in-process floor of the read routes: the app's own service calls (search, analytics usage, project hierarchy)
 * on the seeded database, without HTTP, one at a time, each statement timed and its EXPLAIN QUERY PLAN taken with
 * the parameters it actually ran with. Run as a child while the server is stopped (nothing else on the CPU):
 *
 *   bun bench/api-probe.ts <spec.json>
 *
 * spec: { db, userId, repeat, items: [{ label, kind: 'search' | 'usage' | 'hierarchy', query?, projectId? }] } (a
 * hierarchy's query: { sessions_per_workspace? })
 * Prints one JSON line: per item the service time (p50, mean, min), JSON.stringify time and bytes of the answer, and
 * per statement its time per call and query plan.
 */
import { Database } from 'bun:sqlite'
import { readFileSync } from 'node:fs'
import { openDatabase } from '../src/db/client'
import { createReadCache } from '../src/lib/read-cache'
import { createAnalyticsRepository } from '../src/modules/analytics/repository'
import { createAnalyticsService } from '../src/modules/analytics/service'
import { createConversationRepository } from '../src/modules/conversations/repository'
import { createConversationService } from '../src/modules/conversations/service'
import { createHierarchyRepository } from '../src/modules/hierarchy/repository'
import { createHierarchyService } from '../src/modules/hierarchy/service'
import { createSearchRepository } from '../src/modules/search/repository'
import { createSearchService } from '../src/modules/search/service'
import { percentile } from './load'

export type ProbeItem = {
  label: string
  kind: 'search' | 'usage' | 'hierarchy'
  query?: Record<string, unknown>
  projectId?: string
}
export type ProbeSpec = { db: string; userId: string; repeat: number; items: ProbeItem[] }
export type ProbeStatement = { sql: string /** per request */; calls: number; msPerRequest: number; plan: string[] }
export type ProbeResult = {
  label: string
  p50: number
  mean: number
  min: number
  jsonMs: number
  bytes: number
  statements: ProbeStatement[]
  /** message ids of a search answer, in order */
  ids?: string[]
}

type Timing = { ms: number; calls: number; args: unknown[] }

/** Times every statement prepared from now on, by SQL text, keeping the last arguments it ran with. */
function timeStatements(times: Map<string, Timing>) {
  const proto = Database.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const name of ['prepare', 'query'] as const) {
    const original = proto[name] as (...args: unknown[]) => Record<string, unknown>
    proto[name] = function (this: Database, ...args: unknown[]) {
      const stmt = original.apply(this, args)
      const key = String(args[0])
      if (key.startsWith('EXPLAIN')) return stmt
      for (const m of ['run', 'get', 'all', 'values']) {
        const fn = stmt[m] as ((...a: unknown[]) => unknown) | undefined
        if (typeof fn !== 'function') continue
        Object.defineProperty(stmt, m, {
          configurable: true,
          value: (...a: unknown[]) => {
            const t = performance.now()
            try {
              return fn.apply(stmt, a)
            } finally {
              const entry = times.get(key) ?? { ms: 0, calls: 0, args: [] }
              entry.ms += performance.now() - t
              entry.calls++
              entry.args = a
              times.set(key, entry)
            }
          },
        })
      }
      return stmt
    }
  }
}

if (import.meta.main) {
  const spec = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ProbeSpec
  const times = new Map<string, Timing>()
  timeStatements(times)
  const db = openDatabase(spec.db)
  const actor = { id: spec.userId, role: 'member' as const }
  const search = createSearchService(createSearchRepository(db))
  const analytics = createAnalyticsService(createAnalyticsRepository(db))
  const hierarchy = createHierarchyService(
    createHierarchyRepository(db),
    createConversationService(createConversationRepository(db), createReadCache(db)),
  )
  const call = async (item: ProbeItem): Promise<unknown> => {
    if (item.kind === 'search') return search.search(actor, item.query as never)
    if (item.kind === 'usage') return analytics.usage(actor, item.query as never)
    return hierarchy.hierarchy(actor, item.projectId as string, (item.query ?? {}) as never)
  }
  const results: ProbeResult[] = []
  for (const item of spec.items) {
    await call(item) // warm: pages in the cache, the statement cache of SQLite
    times.clear()
    const samples: number[] = []
    let answer: unknown
    for (let i = 0; i < spec.repeat; i++) {
      const t = performance.now()
      answer = await call(item)
      samples.push(performance.now() - t)
    }
    const t = performance.now()
    const json = JSON.stringify(answer)
    const jsonMs = performance.now() - t
    samples.sort((a, b) => a - b)
    const statements = [...times.entries()]
      .map(([sql, v]) => {
        let plan: string[] = []
        try {
          const rows = db.$client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(v.args as never[])) as {
            id: number
            parent: number
            detail: string
          }[]
          const depth = new Map<number, number>([[0, -1]])
          plan = rows.map((r) => {
            const d = (depth.get(r.parent) ?? -1) + 1
            depth.set(r.id, d)
            return `${'  '.repeat(d)}${r.detail}`
          })
        } catch (e) {
          plan = [`(no plan: ${(e as Error).message})`]
        }
        return {
          sql: sql.replace(/\s+/g, ' ').trim(),
          calls: v.calls / spec.repeat,
          msPerRequest: v.ms / spec.repeat,
          plan,
        }
      })
      .sort((a, b) => b.msPerRequest - a.msPerRequest)
    const rows = item.kind === 'search' ? (answer as { items: Record<string, unknown>[] }).items : []
    results.push({
      label: item.label,
      ids: rows.length && 'message_id' in (rows[0] as object) ? rows.map((r) => String(r.message_id)) : undefined,
      p50: percentile(samples, 0.5),
      mean: samples.reduce((a, b) => a + b, 0) / samples.length,
      min: samples[0] as number,
      jsonMs,
      bytes: Buffer.byteLength(json),
      statements,
    })
    console.error(`[probe] ${item.label}: p50 ${percentile(samples, 0.5).toFixed(2)} ms`)
  }
  db.$client.close()
  console.log(JSON.stringify(results))
}
