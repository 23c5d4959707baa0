/**
 * Part `live`: many Server-Sent Events subscribers (GET /api/live/stream with an API key) held open by child
 * processes (bench/live-client.ts), then hook events POSTed one at a time; for each subscriber and event, the time
 * from the POST being sent to the event arriving, on a clock shared by the processes (timeOrigin + now). Also whether every subscriber stayed
 * connected and got every event, and the server's RSS from /proc.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { type Outcome, observatory, seedData, serverProfileDetails } from './api'
import type { SeededUser } from './api-seed'
import { type Server, startServer } from './http'
import {
  boundRow,
  fmt,
  fmtInt,
  infoRow,
  log,
  mb,
  procMemory,
  type Row,
  repoRoot,
  sampleRss,
  spawnChild,
  stopChild,
  tempDir,
} from './lib'
import { type LiveClientResult, monotonicMs } from './live-client'
import { percentile } from './load'

export type LiveOptions = {
  subscribers: number
  events: number
  spacingMs: number
  processes: number
  profile: boolean
}

export const LIVE_P99_MS = 50
const clientScript = join(repoRoot, 'bench/live-client.ts')
const floorScript = join(repoRoot, 'bench/live-floor-server.ts')

/** Reads a child's stdout line by line. */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  return async (timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = buffer.indexOf('\n')
      if (i >= 0) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 1)
        return line
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('a live client did not answer in time')
      const next = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)])
      if (next === null) continue
      if (next.done) throw new Error(`a live client exited early: ${buffer.slice(-500)}`)
      buffer += decoder.decode(next.value, { stream: true })
    }
  }
}

const hook = (n: number | null) => ({
  session_id: '0c6d2f1e-5b7a-4c8e-9f00-live00000001',
  transcript_path: '/home/dev/.claude/projects/-home-dev-src-live/0c6d2f1e-5b7a-4c8e-9f00-live00000001.jsonl',
  cwd: '/home/dev/src/live',
  permission_mode: 'default',
  hook_event_name: n === null ? 'SessionStart' : 'PreToolUse',
  ...(n !== null && {
    tool_name: 'Bash',
    tool_input: { command: `bun test src/modules/m${n % 37}.test.ts`, description: 'Run the module tests' },
    tool_use_id: `toolu_live_${n}_x`,
  }),
})

type LiveRun = {
  latencies: Float64Array
  expected: number
  delivered: number
  connected: number
  open: number
  refused: number
  connectErrors: number
  disconnects: number
  postErrors: number
  post: { p50: number; p99: number }
  postSeconds: number
  rss: { idle: number; subscribed: number; peak: number; after: number }
  serverAlive: boolean
  seconds: number
}

/** One run against the real server, or against the floor (bench/live-floor-server.ts). */
async function runOnce(o: LiveOptions, target: 'ours' | 'floor', profileName?: string): Promise<LiveRun> {
  let server: Server
  let apiKey = 'obs_floor'
  if (target === 'ours') {
    const dataDir = join(tempDir('live'), 'data')
    mkdirSync(dataDir, { recursive: true })
    const { result: user } = await seedData<SeededUser>(['user', join(dataDir, 'observatory.db')], 'seed user')
    apiKey = user.apiKey
    server = await observatory(dataDir, profileName)
  } else server = await startServer([process.execPath, floorScript], process.env, 'live floor')
  const port = new URL(server.url).port
  const headers = { 'x-api-key': apiKey, 'content-type': 'application/json' }
  const children: Subprocess<'pipe', 'pipe', 'pipe'>[] = []
  try {
    // the session's placement made once, before anything is timed
    const first = await fetch(`${server.url}/api/hooks/claude-code`, {
      method: 'POST',
      headers,
      body: JSON.stringify(hook(null)),
    })
    if (!first.ok) throw new Error(`POST /api/hooks/claude-code: ${first.status} ${await first.text()}`)
    const idle = procMemory(server.proc.pid)?.rss ?? 0

    log(`live (${target}): opening ${fmtInt(o.subscribers)} subscriptions from ${o.processes} processes ...`)
    const started = performance.now()
    const per = Math.ceil(o.subscribers / o.processes)
    const readers: ((timeoutMs: number) => Promise<string>)[] = []
    for (let p = 0; p < o.processes; p++) {
      const count = Math.min(per, o.subscribers - p * per)
      if (count <= 0) break
      const child = spawnChild(
        [process.execPath, clientScript, '127.0.0.1', port, apiKey, String(count), String(o.events)],
        { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
      ) as Subprocess<'pipe', 'pipe', 'pipe'>
      children.push(child)
      readers.push(lineReader(child.stdout))
    }
    const ready = await Promise.all(
      readers.map(
        async (next) => JSON.parse(await next(120_000)) as { ready: number; refused: number; failed: number },
      ),
    )
    const connected = ready.reduce((a, r) => a + r.ready, 0)
    log(
      `live:   ${fmtInt(connected)} connected in ${fmt((performance.now() - started) / 1000, 1)} s` +
        (connected < o.subscribers ? ` (${o.subscribers - connected} not: ${JSON.stringify(ready)})` : ''),
    )
    await Bun.sleep(1000)
    const subscribed = procMemory(server.proc.pid)?.rss ?? 0
    const sampler = sampleRss(server.proc.pid)

    log(`live: ${o.events} hook events, one every ${o.spacingMs} ms ...`)
    const sends = new Float64Array(o.events)
    const postTimes: number[] = []
    let postErrors = 0
    const t0 = monotonicMs()
    const postStarted = performance.now()
    for (let n = 0; n < o.events; n++) {
      const wait = t0 + n * o.spacingMs - monotonicMs()
      if (wait > 0) await Bun.sleep(wait)
      const body = JSON.stringify(hook(n))
      const sent = monotonicMs()
      sends[n] = sent
      const res = await fetch(`${server.url}/api/hooks/claude-code`, { method: 'POST', headers, body })
      await res.arrayBuffer()
      postTimes.push(monotonicMs() - sent)
      if (!res.ok) postErrors++
    }
    const postSeconds = (performance.now() - postStarted) / 1000
    await Bun.sleep(2000) // the last deliveries
    const peak = sampler.stop().peak
    const serverAlive = server.proc.exitCode === null

    const results: LiveClientResult[] = []
    for (const [i, child] of children.entries()) {
      child.stdin.write('stop\n')
      await child.stdin.flush()
      results.push(JSON.parse(await (readers[i] as (t: number) => Promise<string>)(60_000)) as LiveClientResult)
    }
    const after = procMemory(server.proc.pid)?.rss ?? 0

    const latencies: number[] = []
    let expected = 0
    for (const r of results)
      for (const arrivals of r.arrivals) {
        expected += o.events
        for (let n = 0; n < o.events; n++) {
          const at = arrivals[n] as number
          if (at > 0) latencies.push(at - (sends[n] as number))
        }
      }
    postTimes.sort((a, b) => a - b)
    const sorted = Float64Array.from(latencies).sort()
    return {
      latencies: sorted,
      expected,
      delivered: latencies.length,
      connected: results.reduce((a, r) => a + r.connected, 0),
      open: results.reduce((a, r) => a + r.open, 0),
      refused: results.reduce((a, r) => a + r.refused, 0),
      connectErrors: results.reduce((a, r) => a + r.connectErrors, 0),
      disconnects: results.reduce((a, r) => a + r.disconnects, 0),
      postErrors,
      post: { p50: percentile(postTimes, 0.5), p99: percentile(postTimes, 0.99) },
      postSeconds,
      rss: { idle, subscribed, peak, after },
      serverAlive,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    for (const c of children) await stopChild(c, 2000)
    await stopChild(server.proc)
  }
}

export async function runLivePart(o: LiveOptions): Promise<Outcome> {
  const rows: Row[] = []
  const details: string[] = []
  const f = await runOnce(o, 'floor')
  const fp50 = percentile(f.latencies, 0.5)
  const fp99 = percentile(f.latencies, 0.99)
  log(
    `live:   floor delivery p50 ${fmt(fp50, 2)} ms, p99 ${fmt(fp99, 2)} ms; ${fmtInt(f.delivered)} of ${fmtInt(f.expected)}`,
  )
  const r = await runOnce(o, 'ours')
  const p50 = percentile(r.latencies, 0.5)
  const p99 = percentile(r.latencies, 0.99)
  const max = r.latencies.at(-1) ?? Number.NaN
  log(
    `live:   delivery p50 ${fmt(p50, 2)} ms, p99 ${fmt(p99, 2)} ms, max ${fmt(max, 1)} ms; ${fmtInt(r.delivered)} of ${fmtInt(r.expected)} deliveries`,
  )
  const whole =
    r.open === o.subscribers &&
    r.connected === o.subscribers &&
    r.disconnects === 0 &&
    r.refused === 0 &&
    r.connectErrors === 0 &&
    r.delivered === o.subscribers * o.events &&
    r.serverAlive
  rows.push(
    boundRow(
      'live',
      `SSE delivery p99, ${fmtInt(o.subscribers)} subscribers, ${o.events} hook events`,
      p99,
      'ms',
      LIVE_P99_MS,
      {
        floor: `${fmt(fp99, 1)} ms`,
        ratio: fmt(p99 / fp99, 2),
        note: `p50 ${fmt(p50, 2)} ms (floor ${fmt(fp50, 2)} ms), max ${fmt(max, 1)} ms, from the POST sent to the event read by the subscriber`,
      },
    ),
    {
      part: 'live',
      figure: 'subscribers connected throughout, every event delivered',
      ours: `${fmtInt(r.open)} / ${fmtInt(o.subscribers)} open, ${fmtInt(r.delivered)} / ${fmtInt(o.subscribers * o.events)} deliveries`,
      floor: '—',
      ratio: '—',
      target: `all ${fmtInt(o.subscribers)}, 0 lost`,
      verdict: whole ? 'PASS' : 'MISS',
      note: `${r.disconnects} disconnects, ${r.refused} refused, ${r.connectErrors} connect errors, ${r.postErrors} failed POSTs${r.serverAlive ? '' : ', the server died'}`,
    },
    infoRow(
      'live',
      `POST /api/hooks/claude-code with ${fmtInt(o.subscribers)} subscribers`,
      `p50 ${fmt(r.post.p50, 2)} ms, p99 ${fmt(r.post.p99, 2)} ms`,
      {
        floor: `p50 ${fmt(f.post.p50, 2)} ms, p99 ${fmt(f.post.p99, 2)} ms`,
        note: `the fan-out runs before the answer; ${o.events} POSTs meant to be ${o.spacingMs} ms apart took ${fmt(r.postSeconds, 1)} s (floor ${fmt(f.postSeconds, 1)} s)`,
      },
    ),
    infoRow(
      'live',
      'server RSS',
      `${fmt(mb(r.rss.subscribed), 0)} MB with ${fmtInt(r.connected)} subscribers (peak ${fmt(mb(r.rss.peak), 0)} MB)`,
      {
        floor: `${fmt(mb(r.rss.idle), 0)} MB idle`,
        note: `${fmt((r.rss.subscribed - r.rss.idle) / 1024 / Math.max(1, r.connected), 1)} KiB per subscriber`,
      },
    ),
  )
  details.push(
    `${fmtInt(o.subscribers)} subscribers to GET /api/live/stream (X-API-Key, no filter) held open over raw sockets by ${o.processes} child processes (bench/live-client.ts), then ${o.events} PreToolUse hooks POSTed one at a time, one every ${o.spacingMs} ms, each with a marker tool_use_id; a delivery's latency is the time from just before the POST to the subscriber's process reading the event, both as performance.timeOrigin + performance.now() (the clock every process of the machine shares). The subscribers' processes share the 2 cores with the server, so their reading is in the figure. RSS from /proc/<pid>/status: ${fmt(mb(r.rss.idle), 0)} MB before, ${fmt(mb(r.rss.subscribed), 0)} MB subscribed, peak ${fmt(mb(r.rss.peak), 0)} MB, ${fmt(mb(r.rss.after), 0)} MB after.`,
  )
  details.push(
    `Floor: bench/live-floor-server.ts, a bare Bun.serve with the same routes and platform pieces (a ReadableStream per subscriber, enqueue) but no auth, no database, and one serialization per event shared by all subscribers; the same clients and hooks. Floor: ${fmtInt(f.delivered)} of ${fmtInt(f.expected)} deliveries, p50 ${fmt(fp50, 2)} ms, p99 ${fmt(fp99, 2)} ms, RSS ${fmt(mb(f.rss.subscribed), 0)} MB subscribed.`,
  )
  if (o.profile || p99 >= LIVE_P99_MS || !whole) {
    log('live: again under the CPU profiler ...')
    const name = 'live-server.cpuprofile'
    await runOnce(o, 'ours', name)
    details.push(serverProfileDetails(name, `the server with ${o.subscribers} subscribers and ${o.events} hook events`))
  }
  return { rows, details }
}
