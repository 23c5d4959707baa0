/**
 * wrk driven by a generated Lua script: GET requests rotating over a list of paths, or POST requests whose bodies a
 * Lua function builds per request (fresh ids every time), with p50/p90/p95/p99 from wrk's latency histogram.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fmt, fmtInt, repoRoot, runChild, runJsonChild, withFdLimit } from './lib'
import type { LoadgenResult, LoadgenSpec, Stats } from './loadgen'

export type Load = {
  requests: number
  seconds: number
  rps: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
  mean: number
  bytes: number
  non2xx: number
  errors: number
  /** socket errors by kind (wrk only) */
  errorKinds?: { connect: number; read: number; write: number; timeout: number }
  /** per request tag (bench/loadgen.ts only) */
  byTag?: Record<string, Stats>
  /** distinct paths (bench/loadgen.ts only): how many were asked, warm-up included; whether they ran out */
  used?: number
  exhausted?: boolean
}

export type LoadSpec = {
  /** http://host:port */
  url: string
  connections: number
  seconds: number
  headers: Record<string, string>
  /** GET these paths, rotating (each connection starts at a different place) */
  paths?: string[]
  /** or POST to this path with bodies built by `luaBody`: Lua code of a function body(n) returning a string */
  post?: { path: string; luaBody: string }
  /** a request without an answer after this long counts as a timeout error (wrk only; default 60) */
  timeoutSeconds?: number
}

/** A Lua string literal (the inputs are ASCII: URL-encoded paths, keys, header names). */
const lua = (s: string) => {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`not printable ASCII, cannot go into the wrk script: ${s}`)
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

const DONE = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%f,"errors":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    e.connect + e.read + e.write + e.timeout, e.status, e.connect, e.read, e.write, e.timeout))
end
`

function script(spec: LoadSpec): string {
  const headers = `local headers = { ${Object.entries(spec.headers)
    .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
    .join(', ')} }`
  const setup = `
threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
counter = 0
`
  if (spec.paths) {
    return `${headers}
local paths = { ${spec.paths.map(lua).join(', ')} }
${setup}
request = function()
  counter = counter + 1
  local p = paths[((counter + tid * 7) % #paths) + 1]
  return wrk.format("GET", p, headers)
end
${DONE}`
  }
  if (!spec.post) throw new Error('a load needs paths or post')
  return `${headers}
${setup}
${spec.post.luaBody}
request = function()
  counter = counter + 1
  return wrk.format("POST", ${lua(spec.post.path)}, headers, body(tid * 100000000 + counter))
end
${DONE}`
}

let scripts = 0

/** Runs wrk (2 threads, or 1 for a single connection) with a generated script in `scratch`, open-file limit raised. */
export async function runWrk(spec: LoadSpec, scratch: string): Promise<Load> {
  const wrk = Bun.which('wrk')
  if (!wrk) throw new Error('wrk is not installed (apt-get install wrk); the API parts need it')
  const file = join(scratch, `load-${++scripts}.lua`)
  writeFileSync(file, script(spec))
  const threads = Math.min(2, spec.connections)
  const { stdout } = await runChild(
    withFdLimit([
      wrk,
      `-t${threads}`,
      `-c${spec.connections}`,
      `-d${spec.seconds}s`,
      '--timeout',
      `${spec.timeoutSeconds ?? 60}s`,
      '-s',
      file,
      spec.url,
    ]),
    { label: 'wrk' },
  )
  const line = stdout.trim().split('\n').at(-1) ?? ''
  let r: Record<string, number>
  try {
    r = JSON.parse(line)
  } catch {
    throw new Error(`wrk printed no result: ${stdout.slice(-1000)}`)
  }
  const seconds = (r.duration_us as number) / 1e6
  const ms = (us: number | undefined) => (us ?? 0) / 1000
  return {
    requests: r.requests as number,
    seconds,
    rps: (r.requests as number) / seconds,
    p50: ms(r.p50_us),
    p90: ms(r.p90_us),
    p95: ms(r.p95_us),
    p99: ms(r.p99_us),
    max: ms(r.max_us),
    mean: ms(r.mean_us),
    bytes: r.bytes as number,
    non2xx: r.non2xx as number,
    errors: r.errors as number,
    errorKinds: { connect: r.connect ?? 0, read: r.read ?? 0, write: r.write ?? 0, timeout: r.timeout ?? 0 },
  }
}

let specs = 0

/** Runs bench/loadgen.ts (raw latencies, no coordinated-omission correction) with its spec in `scratch`. */
export async function runLoadgen(spec: LoadgenSpec, scratch: string): Promise<Load> {
  const file = join(scratch, `loadgen-${++specs}.json`)
  writeFileSync(file, JSON.stringify(spec))
  const { result: r } = await runJsonChild<LoadgenResult>(
    [process.execPath, join(repoRoot, 'bench/loadgen.ts'), file],
    {
      label: 'loadgen',
    },
  )
  return {
    requests: r.requests,
    seconds: r.seconds,
    rps: r.rps,
    ...r.overall,
    bytes: r.bytes,
    non2xx: r.non2xx,
    errors: r.errors,
    byTag: r.byTag,
    used: r.used,
    exhausted: r.exhausted,
  }
}

export const describeLoad = (l: Load) =>
  `${fmtInt(l.rps)} req/s, p50 ${fmt(l.p50, 2)} ms, p95 ${fmt(l.p95, 2)} ms, p99 ${fmt(l.p99, 2)} ms, max ${fmt(l.max, 1)} ms, ${fmtInt(l.requests)} requests` +
  (l.non2xx || l.errors ? `, ${fmtInt(l.non2xx)} non-2xx, ${fmtInt(l.errors)} errors` : '') +
  (l.used !== undefined
    ? `, ${fmtInt(l.used)} distinct paths asked${l.exhausted ? ' (all of them: the run ended early)' : ''}`
    : '')

/** A note when some answers were not 2xx or failed: the figures then measure errors, not the route. */
export const loadProblems = (l: Load) =>
  l.non2xx || l.errors ? `${fmtInt(l.non2xx)} non-2xx, ${fmtInt(l.errors)} errors: figures not valid` : undefined

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
}
