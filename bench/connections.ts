/**
 * Part `connections`: `--connections` (1,000) concurrent connections held for `--seconds` (30) against an
 * authenticated read route of the real server, GET /api/conversations?limit=50 on the http part's data (10,000
 * conversations), beside the same load on the bare Bun.serve floor (bench/floor-server.ts). wrk drives both: it is the
 * generator here that holds 1,000 connections from one process. Requests/s, errors (socket errors, timeouts,
 * non-2xx), p50/p99, the server's peak RSS and the sockets it held, from /proc.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Outcome, seedData } from './api'
import type { SeededUser } from './api-seed'
import { type Server, serverEnv, startServer } from './http'
import {
  boundRow,
  fmt,
  fmtInt,
  infoRow,
  log,
  mb,
  openSockets,
  type Row,
  repoRoot,
  runJsonChild,
  sampleRss,
  stopChild,
  tempDir,
  withFdLimit,
} from './lib'
import { describeLoad, type Load, runWrk } from './load'

export type ConnectionsOptions = { connections: number; seconds: number; warmupSeconds: number }

export const CONNECTIONS_RSS_MB = 512
const ROUTE = '/api/conversations?limit=50'
const TIMEOUT_S = 10
const SETTLE_MS = 60_000

type Run = { load: Load; peakRss: number; connections: number; drainSeconds: number }

/** The load on one server, its RSS and open sockets sampled from /proc meanwhile. */
async function loadServer(
  server: Server,
  headers: Record<string, string>,
  o: ConnectionsOptions,
  scratch: string,
): Promise<Run> {
  const pid = server.proc.pid
  // sockets held before the load (the listening one, the stdio pipes): not connections
  const idle = openSockets(pid)
  const rss = sampleRss(pid)
  let sockets = 0
  const timer = setInterval(() => {
    sockets = Math.max(sockets, openSockets(pid))
  }, 1000)
  let load: Load
  let peakRss = 0
  let drainSeconds = 0
  try {
    const spec = {
      url: server.url,
      connections: o.connections,
      seconds: o.seconds,
      headers,
      paths: [ROUTE],
      timeoutSeconds: TIMEOUT_S,
    }
    if (o.warmupSeconds > 0) {
      await runWrk({ ...spec, seconds: o.warmupSeconds }, scratch)
      // the warm-up's connections are closed with requests still queued: the measured load starts once they are gone
      const drained = performance.now()
      while (openSockets(pid) > idle && performance.now() - drained < SETTLE_MS) await Bun.sleep(100)
      drainSeconds = (performance.now() - drained) / 1000
      sockets = 0
    }
    load = await runWrk(spec, scratch)
  } finally {
    clearInterval(timer)
    peakRss = rss.stop().peak
  }
  if (server.proc.exitCode !== null) throw new Error(`the server exited (${server.proc.exitCode}): ${server.output()}`)
  return { load, peakRss, connections: Math.max(0, sockets - idle), drainSeconds }
}

const errorsOf = (l: Load) => l.errors + l.non2xx
const describeErrors = (l: Load) => {
  const k = l.errorKinds ?? { connect: 0, read: 0, write: 0, timeout: 0 }
  return `${fmtInt(k.connect)} connect, ${fmtInt(k.read)} read, ${fmtInt(k.write)} write, ${fmtInt(k.timeout)} timeouts, ${fmtInt(l.non2xx)} non-2xx`
}

export async function runConnectionsPart(o: ConnectionsOptions): Promise<Outcome> {
  const rows: Row[] = []
  const details: string[] = []
  const scratch = tempDir('connections')
  const dataDir = join(scratch, 'data')
  mkdirSync(dataDir, { recursive: true })
  const db = join(dataDir, 'observatory.db')

  log('connections: seeding a user, 10,000 conversations and a 10,000-message conversation ...')
  const { result: user } = await seedData<SeededUser>(['user', db], 'seed user')
  const { result: seed } = await runJsonChild<{ conversations: number }>(
    [process.execPath, join(repoRoot, 'bench/http-seed.ts'), db, user.userId, scratch],
    { label: 'seed' },
  )

  log(`connections: floor (bare Bun.serve), ${fmtInt(o.connections)} connections, ${o.seconds} s ...`)
  const floorServer = await startServer(
    withFdLimit([process.execPath, join(repoRoot, 'bench/floor-server.ts')]),
    process.env,
    'floor',
  )
  let floor: Run
  try {
    floor = await loadServer(floorServer, {}, o, scratch)
  } finally {
    await stopChild(floorServer.proc)
  }
  log(`connections:   ${describeLoad(floor.load)}, ${fmtInt(floor.connections)} connections`)

  const server = await startServer(
    withFdLimit([process.execPath, join(repoRoot, 'src/index.ts')]),
    serverEnv(dataDir),
    'observatory',
  )
  let ours: Run
  try {
    const headers = { 'x-api-key': user.apiKey }
    // one request first, so a broken credential fails loudly instead of measuring 401s
    const check = await fetch(`${server.url}${ROUTE}`, { headers })
    if (!check.ok) throw new Error(`GET ${ROUTE} with the API key: ${check.status} ${await check.text()}`)
    await check.arrayBuffer()
    log(`connections: GET ${ROUTE}, ${fmtInt(o.connections)} connections, ${o.seconds} s ...`)
    ours = await loadServer(server, headers, o, scratch)
  } finally {
    await stopChild(server.proc)
  }
  const l = ours.load
  log(
    `connections:   ${describeLoad(l)}, ${fmtInt(ours.connections)} connections, peak RSS ${fmt(mb(ours.peakRss), 0)} MB`,
  )

  const load = `${fmtInt(o.connections)} connections, ${o.seconds} s`
  rows.push(
    infoRow('connections', `GET ${ROUTE} throughput, ${load}`, `${fmtInt(l.rps)} req/s`, {
      floor: `${fmtInt(floor.load.rps)} req/s`,
      ratio: fmt(l.rps / floor.load.rps, 2),
      note: `${fmtInt(l.requests)} requests (floor: bare Bun.serve, same load)`,
    }),
    {
      part: 'connections',
      figure: `errors: socket errors, timeouts (${TIMEOUT_S} s), non-2xx`,
      ours: fmtInt(errorsOf(l)),
      floor: fmtInt(errorsOf(floor.load)),
      ratio: '—',
      target: '0',
      verdict: errorsOf(l) === 0 ? 'PASS' : 'MISS',
      note: describeErrors(l),
    },
    infoRow('connections', 'latency (wrk histogram)', `p50 ${fmt(l.p50, 1)} ms, p99 ${fmt(l.p99, 1)} ms`, {
      floor: `p50 ${fmt(floor.load.p50, 1)} ms, p99 ${fmt(floor.load.p99, 1)} ms`,
      note: `max ${fmt(l.max, 0)} ms; wrk adds coordinated-omission samples, see below`,
    }),
    boundRow('connections', 'peak server RSS under the load', mb(ours.peakRss), 'MB', CONNECTIONS_RSS_MB, {
      ours: `${fmt(mb(ours.peakRss), 0)} MB`,
      floor: `${fmt(mb(floor.peakRss), 0)} MB`,
    }),
    infoRow('connections', 'connections open at the server (peak, sampled each second)', fmtInt(ours.connections), {
      floor: fmtInt(floor.connections),
      note: `of ${fmtInt(o.connections)}`,
    }),
  )
  details.push(
    `${fmtInt(o.connections)} connections held by wrk (2 threads, open-file limit raised with \`ulimit -n\`, ${TIMEOUT_S} s request timeout), ${o.warmupSeconds} s warm-up (new connections once the server has closed the warm-up's) then ${o.seconds} s measured, GET ${ROUTE} with \`x-api-key\` on the real server (\`bun src/index.ts\`, NODE_ENV=production, LOG_LEVEL=warn, rate limits lifted, open-file limit raised the same way) over the http part's data: ${fmtInt(seed.conversations)} conversations of one member user. Floor: bench/floor-server.ts (a bare Bun.serve answering a constant small JSON) under the same wrk load, same path and headers. Server RSS is the largest of VmHWM and VmRSS in /proc/<pid>/status, sampled every 100 ms during warm-up and load; connections are the sockets in /proc/<pid>/fd, counted every second during the measured load, less those open before it.`,
    `Latency: these percentiles are wrk's, the only generator here that holds ${fmtInt(o.connections)} connections from one process (bench/loadgen.ts runs on Bun's fetch, which keeps at most 256 requests in flight by default; raised with BUN_CONFIG_MAX_HTTP_REQUESTS=1000, a trial held about 520 sockets). wrk 4.1's histogram includes the samples it adds for coordinated omission (a few pauses weigh as many slow requests): read p99 as an upper bound. At ${fmtInt(o.connections)} connections in a closed loop, latency ≈ connections / throughput: ${fmt((o.connections * 1000) / l.rps, 0)} ms here.`,
    `Real server: ${describeLoad(l)}; errors: ${describeErrors(l)}; after the warm-up, its connections were gone from the server ${fmt(ours.drainSeconds)} s after wrk closed them (floor ${fmt(floor.drainSeconds)} s). Floor: ${describeLoad(floor.load)}.`,
  )
  return { rows, details }
}
