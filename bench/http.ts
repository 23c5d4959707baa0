/**
 * Part `http`: the real server (`bun src/index.ts`) against a bare Bun.serve (the floor), both in child processes,
 * loaded at 64 connections with the fastest load generator available here (autocannon CLI, autocannon API, or wrk
 * when installed), chosen on the floor.
 */

import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { cpuProfileDetails, profilesDir } from './cpuprofile'
import { makeRng } from './generate'
import {
  boundRow,
  fmt,
  fmtInt,
  infoRow,
  listeningPort,
  log,
  type Row,
  ratioRow,
  repoRoot,
  runChild,
  runJsonChild,
  spawnChild,
  stopChild,
  tempDir,
} from './lib'
import { describeLoad, loadProblems, runLoadgen } from './load'

const CONNECTIONS = 64
const HEALTH_RATIO_TARGET = 0.7
const P99_TARGET_MS = 10

export type HttpOptions = { seconds: number; warmupSeconds: number; profile: boolean }
export type HttpOutcome = { rows: Row[]; details: string[] }

type Load = { rps: number; p50: number; p99: number; mean: number; requests: number; non2xx: number; errors: number }
type Tool = {
  name: string
  run: (url: string, seconds: number, headers: Record<string, string>, connections?: number) => Promise<Load>
}

// ---------------------------------------------------------------------------------------------------------------
// Load generators.

const autocannonBin = join(repoRoot, 'node_modules/autocannon/autocannon.js')

type AutocannonJson = {
  requests: { total: number; average: number }
  duration: number
  latency: { p50: number; p99: number; mean: number }
  non2xx: number
  errors: number
  timeouts: number
}

const autocannonCli: Tool = {
  name: 'autocannon CLI (node, -j)',
  async run(url, seconds, headers, connections = CONNECTIONS) {
    const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`])
    const { stdout } = await runChild(
      ['node', autocannonBin, '-j', '-c', String(connections), '-d', String(seconds), ...h, url],
      { label: 'autocannon' },
    )
    const r = JSON.parse(stdout) as AutocannonJson
    return {
      rps: r.requests.total / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      mean: r.latency.mean,
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    }
  },
}

const autocannonApi: Tool = {
  name: 'autocannon API (node)',
  async run(url, seconds, headers, connections = CONNECTIONS) {
    const { result: r } = await runJsonChild<{
      requests: number
      duration: number
      p50: number
      p99: number
      mean: number
      non2xx: number
      errors: number
    }>(
      [
        'node',
        join(repoRoot, 'bench/autocannon-api.mjs'),
        JSON.stringify({ url, connections, duration: seconds, headers }),
      ],
      { label: 'autocannon API' },
    )
    return { ...r, rps: r.requests / r.duration }
  },
}

const WRK_REPORT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f,"errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect + e.read + e.write + e.timeout, e.status))
end
`

function wrkTool(bin: string, scratch: string): Tool {
  const script = join(scratch, 'report.lua')
  writeFileSync(script, WRK_REPORT)
  return {
    name: 'wrk (2 threads)',
    async run(url, seconds, headers, connections = CONNECTIONS) {
      const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
      const threads = Math.min(2, connections)
      const { stdout } = await runChild(
        [bin, `-t${threads}`, `-c${connections}`, `-d${seconds}s`, '-s', script, ...h, url],
        { label: 'wrk' },
      )
      const line = stdout.trim().split('\n').at(-1) ?? ''
      const r = JSON.parse(line) as {
        requests: number
        duration_us: number
        p50_us: number
        p99_us: number
        mean_us: number
        errors: number
        non2xx: number
      }
      return {
        rps: r.requests / (r.duration_us / 1e6),
        p50: r.p50_us / 1000,
        p99: r.p99_us / 1000,
        mean: r.mean_us / 1000,
        requests: r.requests,
        non2xx: r.non2xx,
        errors: r.errors,
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Servers.

/** The real server's environment for a load: its own data dir, quiet logs, rate limits lifted. */
export function serverEnv(dataDir: string): Record<string, string | undefined> {
  return {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    NODE_ENV: 'production',
    JWT_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
    // the default limits would answer most of the load with 429
    RATE_LIMIT: '1000000000',
    AUTH_RATE_LIMIT: '1000000000',
  }
}

export type Server = { proc: Subprocess; url: string; output: () => string }

export async function startServer(
  cmd: string[],
  env: Record<string, string | undefined>,
  label: string,
): Promise<Server> {
  const proc = spawnChild(cmd, { env, cwd: repoRoot, stdout: 'pipe', stderr: 'pipe' })
  const chunks: string[] = []
  for (const stream of [proc.stdout, proc.stderr])
    if (stream instanceof ReadableStream)
      void (async () => {
        const decoder = new TextDecoder()
        for await (const c of stream as ReadableStream<Uint8Array>) chunks.push(decoder.decode(c))
      })().catch(() => {})
  const output = () => chunks.join('').slice(-4000)
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${label} exited (${proc.exitCode}) before listening: ${output()}`)
    // the real server logs its URL only at info level; with LOG_LEVEL=warn the port is read from /proc
    const port = listeningPort(proc.pid)
    if (port) return { proc, url: `http://127.0.0.1:${port}`, output }
    await Bun.sleep(50)
  }
  throw new Error(`${label} did not listen within 30 s: ${output()}`)
}

async function api<T>(url: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      'content-type': 'application/json',
      ...(init.token && { authorization: `Bearer ${init.token}` }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

// ---------------------------------------------------------------------------------------------------------------

export async function runHttpPart(opts: HttpOptions): Promise<HttpOutcome> {
  const rows: Row[] = []
  const details: string[] = []
  const scratch = tempDir('http')
  const servers: Server[] = []
  const measure = async (
    tool: Tool,
    url: string,
    headers: Record<string, string> = {},
    seconds = opts.seconds,
    connections = CONNECTIONS,
  ) => {
    if (opts.warmupSeconds > 0) await tool.run(url, opts.warmupSeconds, headers, connections)
    return tool.run(url, seconds, headers, connections)
  }
  const describe = (l: Load) =>
    `${fmtInt(l.rps)} req/s, p50 ${fmt(l.p50, 2)} ms, p99 ${fmt(l.p99, 2)} ms, ${fmtInt(l.requests)} requests` +
    (l.non2xx || l.errors ? `, ${fmtInt(l.non2xx)} non-2xx, ${fmtInt(l.errors)} errors` : '')
  const problems = (l: Load) =>
    l.non2xx || l.errors ? `${fmtInt(l.non2xx)} non-2xx, ${fmtInt(l.errors)} errors: figures not valid` : undefined

  try {
    // --- the floor, and the load generator that drives it hardest ---
    const floor = await startServer([process.execPath, join(repoRoot, 'bench/floor-server.ts')], process.env, 'floor')
    servers.push(floor)
    const floorUrl = `${floor.url}/health`
    const tools: Tool[] = [autocannonCli, autocannonApi]
    const wrk = Bun.which('wrk')
    if (wrk) tools.push(wrkTool(wrk, scratch))
    else details.push('wrk: not installed here (`which wrk` found nothing); autocannon only.')
    const calibration: { tool: Tool; load: Load }[] = []
    for (const tool of tools) {
      log(`http: calibrating ${tool.name} on the floor ...`)
      const load = await measure(tool, floorUrl, {}, Math.min(5, opts.seconds))
      log(`http:   ${describe(load)}`)
      calibration.push({ tool, load })
    }
    calibration.sort((a, b) => b.load.rps - a.load.rps)
    const tool = (calibration[0] as { tool: Tool }).tool
    details.push(
      `Load generator: ${tool.name}, chosen as the fastest on the floor (${calibration
        .map((c) => `${c.tool.name} ${fmtInt(c.load.rps)} req/s`)
        .join(', ')}); ${CONNECTIONS} connections, ${opts.warmupSeconds} s warm-up then ${opts.seconds} s per figure.`,
    )
    log(`http: floor with ${tool.name} ...`)
    const floorLoad = await measure(tool, floorUrl)
    log(`http:   ${describe(floorLoad)}`)
    await stopChild(floor.proc)
    // the same bare server sending the headers every answer of the app carries (request id, security headers)
    const floorHeaders = await startServer(
      [process.execPath, join(repoRoot, 'bench/floor-server.ts')],
      { ...process.env, SAME_HEADERS: '1' },
      'floor with headers',
    )
    servers.push(floorHeaders)
    log(`http: floor sending the app's headers, with ${tool.name} ...`)
    const floorHeadersLoad = await measure(tool, `${floorHeaders.url}/health`)
    log(`http:   ${describe(floorHeadersLoad)}`)
    await stopChild(floorHeaders.proc)

    // --- the real server ---
    const dataDir = join(scratch, 'data')
    const env = serverEnv(dataDir)
    const serverCmd = [process.execPath, join(repoRoot, 'src/index.ts')]
    const first = await startServer(serverCmd, env, 'observatory')
    servers.push(first)

    // a user registered, signed in and given an API key through the API, as a client would
    const password = 'benchmark passphrase 1'
    const user = await api<{ id: string }>(first.url, '/api/auth/register', {
      method: 'POST',
      body: { email: 'bench@example.com', password, display_name: 'Bench' },
    })
    const login = await api<{ access_token: string }>(first.url, '/api/auth/login', {
      method: 'POST',
      body: { email: 'bench@example.com', password },
    })
    const key = await api<{ key: string }>(first.url, '/api/auth/api-keys', {
      method: 'POST',
      body: { name: 'bench' },
      token: login.access_token,
    })
    // seeded with the server stopped: a second writer process can make the server's job loop hit SQLITE_BUSY
    await stopChild(first.proc)

    log('http: seeding 10,000 conversations and a 10,000-message conversation ...')
    const seeded = await runJsonChild<{ conversations: number; longConversationId: string; longMessages: number }>(
      [process.execPath, join(repoRoot, 'bench/http-seed.ts'), join(dataDir, 'observatory.db'), user.id, scratch],
      { label: 'seed' },
    )
    const seed = seeded.result
    log(`http:   ${fmtInt(seed.conversations)} conversations, ${fmtInt(seed.longMessages)} messages in the long one`)

    const profileName = 'http-server.cpuprofile'
    if (opts.profile) mkdirSync(profilesDir, { recursive: true })
    const profileFlags = opts.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${profilesDir}`, `--cpu-prof-name=${profileName}`]
      : []
    const server = await startServer([process.execPath, ...profileFlags, ...serverCmd.slice(1)], env, 'observatory')
    servers.push(server)
    const { url } = server

    log('http: GET /health ...')
    const health = await measure(tool, `${url}/health`)
    log(`http:   ${describe(health)}`)
    rows.push(
      ratioRow('http', 'GET /health', health.rps, floorLoad.rps, 'req/s', HEALTH_RATIO_TARGET, problems(health)),
      infoRow('http', 'GET /health latency', `p50 ${fmt(health.p50, 2)} ms, p99 ${fmt(health.p99, 2)} ms`, {
        floor: `p50 ${fmt(floorLoad.p50, 2)} ms, p99 ${fmt(floorLoad.p99, 2)} ms`,
      }),
      infoRow('http', 'GET /health vs a bare Bun.serve sending the same headers', `${fmtInt(health.rps)} req/s`, {
        floor: `${fmtInt(floorHeadersLoad.rps)} req/s`,
        ratio: fmt(health.rps / floorHeadersLoad.rps, 2),
        note: `the headers alone (x-request-id and the 5 security headers) take the bare server from ${fmtInt(floorLoad.rps)} to ${fmtInt(floorHeadersLoad.rps)} req/s (${fmt(floorHeadersLoad.rps / floorLoad.rps, 2)})`,
      }),
    )

    const auth = { 'x-api-key': key.key }
    // one authenticated request first, so a broken credential fails loudly instead of measuring 401s
    const check = await fetch(`${url}/api/conversations?limit=1`, { headers: auth })
    if (!check.ok) throw new Error(`GET /api/conversations with the API key: ${check.status} ${await check.text()}`)

    const list = `/api/conversations?limit=50`
    log(`http: GET ${list} ...`)
    const convs = await measure(tool, `${url}${list}`, auth)
    log(`http:   ${describe(convs)}`)
    rows.push(
      boundRow(
        'http',
        `GET ${list} p99 (${fmtInt(seed.conversations)} conversations, API key), the same page repeated`,
        convs.p99,
        'ms',
        P99_TARGET_MS,
        {
          note: problems(convs) ?? `${fmtInt(convs.rps)} req/s, p50 ${fmt(convs.p50, 2)} ms`,
        },
      ),
      infoRow('http', `GET ${list} throughput`, `${fmtInt(convs.rps)} req/s`, {
        floor: `${fmtInt(floorLoad.rps)} req/s`,
        ratio: fmt(convs.rps / floorLoad.rps, 2),
      }),
    )

    const msgs = `/api/conversations/${seed.longConversationId}/messages?limit=50`
    log(`http: GET /api/conversations/:id/messages?limit=50 ...`)
    const messages = await measure(tool, `${url}${msgs}`, auth)
    log(`http:   ${describe(messages)}`)
    rows.push(
      boundRow(
        'http',
        `GET /api/conversations/:id/messages?limit=50 p99 (${fmtInt(seed.longMessages)} messages), the same page repeated`,
        messages.p99,
        'ms',
        P99_TARGET_MS,
        { note: problems(messages) ?? `${fmtInt(messages.rps)} req/s, p50 ${fmt(messages.p50, 2)} ms` },
      ),
      infoRow('http', 'GET …/messages?limit=50 throughput', `${fmtInt(messages.rps)} req/s`, {
        floor: `${fmtInt(floorLoad.rps)} req/s`,
        ratio: fmt(messages.rps / floorLoad.rps, 2),
      }),
    )

    // one connection: the service time a single client sees, without 63 other requests queued ahead of it
    log('http: the two lists at 1 connection ...')
    const convs1 = await measure(tool, `${url}${list}`, auth, opts.seconds, 1)
    const messages1 = await measure(tool, `${url}${msgs}`, auth, opts.seconds, 1)
    for (const [figure, l] of [
      [`GET ${list} at 1 connection`, convs1],
      ['GET …/messages?limit=50 at 1 connection', messages1],
    ] as const)
      rows.push(
        infoRow('http', figure, `p99 ${fmt(l.p99, 2)} ms`, {
          target: `(< ${P99_TARGET_MS} ms)`,
          note: problems(l) ?? `${fmtInt(l.rps)} req/s, p50 ${fmt(l.p50, 2)} ms, mean ${fmt(l.mean, 2)} ms`,
        }),
      )
    const sizes = await Promise.all(
      [list, msgs].map(
        async (path) => (await (await fetch(`${url}${path}`, { headers: auth })).arrayBuffer()).byteLength,
      ),
    )
    details.push(
      `Response sizes (identity encoding): conversations page ${fmtInt((sizes[0] ?? 0) / 1024)} KiB, messages page ${fmtInt((sizes[1] ?? 0) / 1024)} KiB.`,
      `At ${CONNECTIONS} connections in a closed loop, latency ≈ connections / throughput (Little's law): a p99 under ${P99_TARGET_MS} ms there needs well over ${fmtInt((CONNECTIONS * 1000) / P99_TARGET_MS)} req/s. The 1-connection rows show the service time itself.`,
    )

    // the same two lists as a browser asks for them (gzip), for reference
    const gzip = { ...auth, 'accept-encoding': 'gzip' }
    log('http: the two lists with accept-encoding: gzip ...')
    const convsGz = await measure(tool, `${url}${list}`, gzip)
    const messagesGz = await measure(tool, `${url}${msgs}`, gzip)
    rows.push(
      infoRow('http', `GET ${list}, accept-encoding: gzip`, `p99 ${fmt(convsGz.p99, 2)} ms`, {
        note: problems(convsGz) ?? `${fmtInt(convsGz.rps)} req/s, p50 ${fmt(convsGz.p50, 2)} ms`,
      }),
      infoRow('http', 'GET …/messages?limit=50, accept-encoding: gzip', `p99 ${fmt(messagesGz.p99, 2)} ms`, {
        note: problems(messagesGz) ?? `${fmtInt(messagesGz.rps)} req/s, p50 ${fmt(messagesGz.p50, 2)} ms`,
      }),
    )
    // cold: every request a page never asked of this server (its offset, then its size, shuffled), so the read cache
    // never answers and each one is queried, mapped and serialised
    const distinctPages = (base: string, items: number) => {
      const rng = makeRng(77)
      const offsets = Array.from({ length: items }, (_, i) => i)
      for (let i = offsets.length - 1; i > 0; i--) {
        const j = rng.int(0, i)
        ;[offsets[i], offsets[j]] = [offsets[j] as number, offsets[i] as number]
      }
      return [50, 49, 48, 47, 46].flatMap((limit) =>
        offsets.map((offset) => ({ path: base.replace('limit=50', `limit=${limit}&offset=${offset}`), tag: 'cold' })),
      )
    }
    const cold = async (path: string, items: number) => {
      const load = await runLoadgen(
        {
          url,
          headers: auth,
          connections: CONNECTIONS,
          seconds: opts.seconds,
          warmupSeconds: opts.warmupSeconds,
          requests: { kind: 'distinct', paths: distinctPages(path, items) },
        },
        scratch,
      )
      log(`http:   ${describeLoad(load)}`)
      return load
    }
    log('http: the two lists, cold (every page distinct) ...')
    const convsCold = await cold(list, seed.conversations)
    const messagesCold = await cold(msgs, seed.longMessages)
    for (const [figure, l] of [
      [`GET ${list} p99, cold: every request a page never asked before`, convsCold],
      ['GET …/messages?limit=50 p99, cold: every request a page never asked before', messagesCold],
    ] as const)
      rows.push(
        boundRow('http', figure, l.p99, 'ms', P99_TARGET_MS, {
          note:
            loadProblems(l) ??
            `${fmtInt(l.rps)} req/s, p50 ${fmt(l.p50, 2)} ms, p95 ${fmt(l.p95, 2)} ms; ${fmtInt(l.used ?? 0)} distinct pages (offset and limit 46–50), so none answered from the read cache`,
        }),
      )
    details.push(
      `Lists: the rows without "cold" ask the same page over and over (wrk); after the first ask the server answers it from its read cache until a write, as for a dashboard refreshing a page. Cold rows: bench/loadgen.ts (latencies as measured), ${CONNECTIONS} connections, every request a page never asked before.`,
    )

    details.push(
      `Real server: \`bun src/index.ts\`, NODE_ENV=production, LOG_LEVEL=warn, RATE_LIMIT and AUTH_RATE_LIMIT=1000000000 (the default limits would turn the load into 429s), fresh DATA_DIR; user registered, logged in and API key created through the API; requests authenticated with \`x-api-key\`.`,
    )
    await stopChild(server.proc)
    if (opts.profile) {
      const file = join(profilesDir, profileName)
      if (existsSync(file))
        details.push(cpuProfileDetails(file, 'the real server during the whole http part').join('\n'))
      else details.push(`No CPU profile was written to ${file}.`)
    }
  } catch (e) {
    // a server that died mid-run says why on its stderr
    const dead = servers.filter((s) => s.proc.exitCode !== null && s.proc.exitCode !== 0)
    if (dead.length) throw new Error(`${(e as Error).message}; server output: ${dead.map((s) => s.output()).join(' ')}`)
    throw e
  } finally {
    for (const s of servers) await stopChild(s.proc)
  }
  return { rows, details }
}
