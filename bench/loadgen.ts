/**
 * A closed-loop HTTP load generator that reports the latencies it measured, nothing else. wrk 4.1 "corrects" its
 * histogram for coordinated omission before printing it (and before a script's done() sees it): for every response
 * slower than the mean interval between requests of a connection it adds made-up samples, so one 40 ms pause at one
 * connection turns into hundreds of slow samples (at 1 connection, wrk's mean latency times its request rate comes
 * out above 1 s per second). The latency figures of the API parts come from here; wrk still drives throughput.
 *
 *   bun bench/loadgen.ts <spec.json>
 *
 * spec: { url, headers, connections, seconds, warmupSeconds, requests } where requests is
 *   { kind: 'get', paths: [{ path, tag }] }          rotating (each connection starting at a different place)
 *   { kind: 'distinct', paths: [{ path, tag }] }     each path once, in order, over the warm-up and the run: no
 *                                                    answer can come from a cache; the run ends early (exhausted)
 *                                                    when they run out
 *   { kind: 'events', tag } | { kind: 'hooks', tag }  POST bodies built per request, with ids unique to tag and request
 * Prints one JSON line: counts, request rate, and p50/p90/p95/p99/max/mean overall and per tag (for `distinct`, also
 * how many paths were asked and whether they ran out).
 */
import { readFileSync } from 'node:fs'
import { batchEvent } from './api-seed'
import { percentile } from './load'

export type LoadRequests =
  | { kind: 'get'; paths: { path: string; tag: string }[] }
  | { kind: 'distinct'; paths: { path: string; tag: string }[] }
  | { kind: 'events'; tag: string }
  | { kind: 'hooks'; tag: string }
export type LoadgenSpec = {
  url: string
  headers: Record<string, string>
  connections: number
  seconds: number
  warmupSeconds: number
  requests: LoadRequests
}
export type Stats = { count: number; p50: number; p90: number; p95: number; p99: number; max: number; mean: number }
export type LoadgenResult = {
  requests: number
  seconds: number
  rps: number
  non2xx: number
  errors: number
  bytes: number
  overall: Stats
  byTag: Record<string, Stats>
  /** `distinct`: paths asked so far (warm-up included), and whether the run stopped because they ran out */
  used?: number
  exhausted?: boolean
}

const TEST_OUTPUT = `bun test v1.4.5\n\nsrc/modules/search.test.ts:\n${'(pass) search > ranks by bm25 [1.20ms]\n(pass) search > phrases [0.84ms]\n'.repeat(6)} 48 pass\n 0 fail\nRan 48 tests across 6 files. [412.00ms]`

/** A Claude Code hook payload: request n is PreToolUse (odd n) or PostToolUse (even n) of tool call ⌈n/2⌉. */
export function hookPayload(tag: string, n: number) {
  const k = Math.floor((n + 1) / 2)
  const s = k % 20
  const sessionId = `${tag}-0000-4000-8000-${String(s).padStart(12, '0')}`
  const cwd = `/home/dev/src/app-${s % 4}`
  return {
    session_id: sessionId,
    transcript_path: `/home/dev/.claude/projects/-home-dev-src-app-${s % 4}/${sessionId}.jsonl`,
    cwd,
    permission_mode: 'default',
    hook_event_name: n % 2 === 1 ? 'PreToolUse' : 'PostToolUse',
    tool_name: 'Bash',
    tool_input: { command: `bun test src/modules/m${k % 37}.test.ts`, description: 'Run the module tests' },
    ...(n % 2 === 0 && { tool_response: { stdout: TEST_OUTPUT, stderr: '', interrupted: false, isImage: false } }),
    tool_use_id: `toolu_01${tag}${k}`,
  }
}

function stats(sorted: Float64Array): Stats {
  let sum = 0
  for (const v of sorted) sum += v
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  }
}

/** `distinct`: the next path to ask, over the warm-up and the measured run */
let cursor = 0
let exhausted = false

async function run(spec: LoadgenSpec, seconds: number, phase: string) {
  const r = spec.requests
  const latencies: number[] = []
  const tags: string[] = []
  let non2xx = 0
  let errors = 0
  let bytes = 0
  let counter = 0
  const deadline = performance.now() + seconds * 1000
  const next = (worker: number): { path: string; tag: string; init: RequestInit } | undefined => {
    const n = ++counter
    if (r.kind === 'distinct') {
      const p = r.paths[cursor++]
      if (!p) exhausted = true
      return p && { path: p.path, tag: p.tag, init: { headers: spec.headers } }
    }
    if (r.kind === 'get') {
      const p = r.paths[(n + worker * 7) % r.paths.length] as { path: string; tag: string }
      return { path: p.path, tag: p.tag, init: { headers: spec.headers } }
    }
    const body =
      r.kind === 'events'
        ? JSON.stringify({ events: Array.from({ length: 1000 }, (_, i) => batchEvent(n, i, `${r.tag}${phase}`)) })
        : JSON.stringify(hookPayload(`${r.tag}${phase}`, n))
    return {
      path: r.kind === 'events' ? '/api/events' : '/api/hooks/claude-code',
      tag: r.kind,
      init: { method: 'POST', headers: { ...spec.headers, 'content-type': 'application/json' }, body },
    }
  }
  const started = performance.now()
  await Promise.all(
    Array.from({ length: spec.connections }, async (_, worker) => {
      while (performance.now() < deadline) {
        const request = next(worker)
        if (!request) break
        const { path, tag, init } = request
        const t = performance.now()
        try {
          const res = await fetch(`${spec.url}${path}`, init)
          bytes += (await res.arrayBuffer()).byteLength
          if (res.status < 200 || res.status > 299) non2xx++
          latencies.push(performance.now() - t)
          tags.push(tag)
        } catch {
          errors++
        }
      }
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  const byTag: Record<string, number[]> = {}
  latencies.forEach((v, i) => {
    const list = byTag[tags[i] as string] ?? []
    byTag[tags[i] as string] = list
    list.push(v)
  })
  const result: LoadgenResult = {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    non2xx,
    errors,
    bytes,
    overall: stats(Float64Array.from(latencies).sort()),
    byTag: Object.fromEntries(Object.entries(byTag).map(([k, v]) => [k, stats(Float64Array.from(v).sort())])),
    ...(r.kind === 'distinct' && { used: Math.min(cursor, r.paths.length), exhausted }),
  }
  return result
}

if (import.meta.main) {
  const spec = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as LoadgenSpec
  if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds, 'w')
  console.log(JSON.stringify(await run(spec, spec.seconds, 'm')))
}
