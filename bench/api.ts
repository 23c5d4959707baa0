/**
 * Parts `search`, `usage`, `hierarchy` and `events`: the real server (`bun src/index.ts`, a child process) on data
 * seeded before it starts (bench/api-seed.ts), loaded by bench/loadgen.ts (latencies as measured; wrk for the events/s
 * throughput, as its histogram adds coordinated-omission samples). Search, usage and hierarchy are loaded twice:
 * repeated paths (answered from the server's read cache between writes) and cold (each path once, never from the
 * cache). Beside each read route its in-process floor (the app's own service call on the same database, no HTTP, one
 * at a time; bench/api-probe.ts) with each statement's time and query plan, and beside POST /api/events the raw
 * bun:sqlite inserts of the same rows.
 */
import { Database } from 'bun:sqlite'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { SEARCH_WINDOW } from '../src/modules/search/repository'
import type { ProbeItem, ProbeResult } from './api-probe'
import { batchEvent, type CorpusResult, type HierarchyResult, type SeededUser } from './api-seed'
import { cpuProfileDetails, profilesDir } from './cpuprofile'
import { type Server, serverEnv, startServer } from './http'
import { boundRow, fmt, fmtInt, infoRow, log, mb, type Row, repoRoot, runJsonChild, stopChild, tempDir } from './lib'
import { describeLoad, type Load, loadProblems, runLoadgen, runWrk } from './load'
import type { LoadRequests } from './loadgen'

export type ApiOptions = {
  seconds: number
  warmupSeconds: number
  messages: number
  conversations: number
  seed: number
  clients: number
  profile: boolean
  /** SQL run on the seeded corpus before the server starts (e.g. a CREATE INDEX to try) */
  whatIf: string[]
}
export type Outcome = { rows: Row[]; details: string[] }

export const SEARCH_P95_MS = 50
export const USAGE_P95_MS = 50
export const HIERARCHY_P95_MS = 50
export const HIERARCHY_CONNECTIONS = 4
export const EVENTS_PER_S = 20_000
export const EVENTS_CONNECTIONS = 4
export const HOOK_P99_MS = 20
export const HOOK_CONNECTIONS = 8
/** each project's size; the cold requests ask each (project, sessions_per_workspace) once */
const HIERARCHY_SIZE = { projects: 6, workspaces: 200, machines: 20, sessions: 10_000, events: 50_000 }

const seedScript = join(repoRoot, 'bench/api-seed.ts')
const probeScript = join(repoRoot, 'bench/api-probe.ts')

// ---------------------------------------------------------------------------------------------------------------
// The server and its data.

/**
 * `bun src/index.ts` on a data dir; with a profile name, under the CPU profiler (bench/out/profiles/<name>) and with
 * every SQL statement timed (bench/sql-profile-preload.ts, bench/out/profiles/<name>.sql.json, written at exit).
 */
export async function observatory(dataDir: string, profileName?: string, pragmas?: string): Promise<Server> {
  if (profileName) mkdirSync(profilesDir, { recursive: true })
  const flags = profileName
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profilesDir}`,
        `--cpu-prof-name=${profileName}`,
        '--preload',
        join(repoRoot, 'bench/sql-profile-preload.ts'),
      ]
    : []
  const env = serverEnv(dataDir)
  if (profileName) env.BENCH_SQL_PROFILE = join(profilesDir, `${profileName}.sql.json`)
  // what-if runs only: PRAGMAs applied over openDatabase's own (bench/pragmas-preload.ts)
  if (pragmas) {
    flags.push('--preload', join(repoRoot, 'bench/pragmas-preload.ts'))
    env.BENCH_PRAGMAS = pragmas
  }
  return startServer([process.execPath, ...flags, join(repoRoot, 'src/index.ts')], env, 'observatory')
}

/** The CPU profile and the SQL statement times of a profiled server run, as Markdown. */
export function serverProfileDetails(name: string, what: string, top = 8): string {
  const file = join(profilesDir, name)
  const parts = [existsSync(file) ? cpuProfileDetails(file, what).join('\n') : `No CPU profile was written to ${file}.`]
  const sqlFile = `${file}.sql.json`
  if (existsSync(sqlFile)) {
    const rows = JSON.parse(readFileSync(sqlFile, 'utf8')) as {
      sql: string
      ms: number
      calls: number
      usPerCall: number
    }[]
    parts.push(
      [
        `SQL statements of the same server run, by total time (\`${relative(repoRoot, sqlFile)}\`):`,
        '',
        '| statement | total ms | calls | µs per call |',
        '|---|---|---|---|',
        ...rows
          .slice(0, top)
          .map((r) => `| ${code(clip(r.sql, 160))} | ${fmt(r.ms, 0)} | ${fmtInt(r.calls)} | ${fmt(r.usPerCall, 0)} |`),
      ].join('\n'),
    )
  }
  return parts.join('\n\n')
}

/** Stops a server; its output goes into the error when it died on its own. */
async function stopServer(server: Server) {
  const died = server.proc.exitCode !== null
  await stopChild(server.proc)
  if (died) throw new Error(`the server exited during the run (${server.proc.exitCode}): ${server.output()}`)
}

export async function seedData<T>(args: string[], label: string): Promise<{ result: T; seconds: number }> {
  const { result, seconds } = await runJsonChild<T>([process.execPath, seedScript, ...args], {
    label,
    echoStderr: true,
  })
  return { result, seconds }
}

type CorpusSeed = CorpusResult
type Corpus = { dataDir: string; db: string; seed: CorpusSeed; seconds: number; whatIf: string[] }
let corpus: Promise<Corpus> | undefined

/** The message corpus, seeded once per run and shared by `search` and `usage`. */
function ensureCorpus(o: ApiOptions): Promise<Corpus> {
  corpus ??= (async () => {
    const dataDir = join(tempDir('corpus'), 'data')
    mkdirSync(dataDir, { recursive: true })
    const db = join(dataDir, 'observatory.db')
    log(`corpus: seeding ${fmtInt(o.messages)} messages over ${fmtInt(o.conversations)} conversations ...`)
    const { result, seconds } = await seedData<CorpusSeed>(
      [
        'corpus',
        db,
        '--messages',
        String(o.messages),
        '--conversations',
        String(o.conversations),
        '--seed',
        String(o.seed),
      ],
      'seed corpus',
    )
    log(
      `corpus: ${fmtInt(result.messages)} messages, ${fmtInt(result.toolCalls)} tool calls, ${fmt(mb(result.dbBytes), 0)} MB, seeded in ${fmt(seconds, 0)} s`,
    )
    if (o.whatIf.length) {
      const sqlite = new Database(db)
      for (const statement of o.whatIf) {
        log(`corpus: what-if: ${statement}`)
        const t = performance.now()
        sqlite.exec(statement)
        log(`corpus:   ${fmt((performance.now() - t) / 1000, 1)} s`)
      }
      sqlite.close()
    }
    return { dataDir, db, seed: result, seconds, whatIf: o.whatIf }
  })()
  return corpus
}

function corpusDetails(c: Corpus): string {
  const s = c.seed.seedSeconds
  return (
    `Corpus: ${fmtInt(c.seed.messages)} messages (${fmtInt(c.seed.withUsage)} carrying a response's usage), ` +
    `${fmtInt(c.seed.toolCalls)} tool calls, ${fmtInt(c.seed.conversations)} conversations of one member user over 180 days ` +
    `(${new Date(c.seed.firstTimestamp).toISOString().slice(0, 10)} to ${new Date(c.seed.lastTimestamp).toISOString().slice(0, 10)}); ` +
    `words drawn from a 20,000-word vocabulary with Zipf-Mandelbrot frequencies (English function words, then technical ` +
    `and content words, then invented words), stock two-word phrases, code and log lines. Database ${fmt(mb(c.seed.dbBytes), 0)} MB ` +
    `(raw_lines not seeded). Seeding took ${fmt(c.seconds, 0)} s: rows ${fmt(s.rows, 0)} s, refreshConversationAggregates ` +
    `${fmt(s.aggregates, 1)} s, FTS rebuild ${fmt(s.fts, 0)} s, closeDatabase ${fmt(s.close, 1)} s; planner statistics ` +
    `(sqlite_stat1) ${c.seed.analyzed ? 'present, from the PRAGMA optimize of closeDatabase' : 'absent'}.` +
    (c.whatIf.length
      ? ` **What-if run**: applied before the server started: ${c.whatIf.map((w) => `\`${w}\``).join('; ')}.`
      : '')
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring.

async function probe(db: string, userId: string, items: ProbeItem[], repeat: number, scratch: string) {
  const file = join(scratch, `probe-${Date.now()}.json`)
  writeFileSync(file, JSON.stringify({ db, userId, repeat, items }))
  const { result } = await runJsonChild<ProbeResult[]>([process.execPath, probeScript, file], { label: 'probe' })
  return result
}

/** Loads the server with bench/loadgen.ts (latencies as measured), after a warm-up unless told otherwise. */
function makeMeasure(o: ApiOptions, scratch: string, url: string, headers: Record<string, string>) {
  return async (requests: LoadRequests, connections: number, seconds = o.seconds, warmup = true) => {
    // the requests a previous load left queued in the server are answered before this one starts
    await Bun.sleep(1000)
    return runLoadgen(
      { url, headers, connections, seconds, warmupSeconds: warmup ? o.warmupSeconds : 0, requests },
      scratch,
    )
  }
}

const clip = (s: string, n = 220) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
const code = (s: string) => `\`${s.replaceAll('`', "'").replaceAll('|', '\\|')}\``

/** The statements of probed calls, heaviest first, with their plans. */
function statementDetails(title: string, results: ProbeResult[], top = 3): string {
  const lines = [
    `### ${title}`,
    '',
    '| call | in-process p50 | statement (ms per request, calls) | query plan |',
    '|---|---|---|---|',
  ]
  for (const r of results)
    for (const [i, s] of r.statements.slice(0, top).entries())
      lines.push(
        `| ${i === 0 ? code(r.label) : ''} | ${i === 0 ? `${fmt(r.p50, 2)} ms (JSON ${fmt(r.jsonMs, 2)} ms, ${fmtInt(r.bytes / 1024)} KiB)` : ''} | ${fmt(s.msPerRequest, 2)} ms, ${fmt(s.calls, 0)}×: ${code(clip(s.sql))} | ${s.plan.map(code).join('<br>')} |`,
      )
  return lines.join('\n')
}

/** Runs `load` against the server under the CPU profiler and summarises the profile. */
async function profileServer(
  dataDir: string,
  name: string,
  what: string,
  load: (server: Server) => Promise<unknown>,
): Promise<string> {
  const server = await observatory(dataDir, name)
  try {
    await load(server)
  } finally {
    await stopServer(server)
  }
  return serverProfileDetails(name, what)
}

// ---------------------------------------------------------------------------------------------------------------
// Part `search`.

type Query = { kind: string; label: string; q: string; role?: string; offset?: number }

/** The corpus's words by use: rare (invented), common (tech, by document frequency), medium (tech and content). */
function queryWords(seed: CorpusSeed) {
  const n = seed.messages
  const byDf = (kind: string, lo: number, hi: number) =>
    seed.words.filter((w) => w.kind === kind && w.df >= lo && w.df <= hi && w.word.length >= 4)
  return {
    rare: byDf('invented', Math.max(3, n / 10_000), Math.max(10, n / 2_500)),
    common: seed.words.filter((w) => w.kind === 'tech').sort((a, b) => b.df - a.df),
    medium: [...byDf('tech', n / 200, n / 50), ...byDf('content', n / 200, n / 50)].sort((a, b) => a.rank - b.rank),
    phrases: [...seed.phrases].sort((a, b) => b.df - a.df),
  }
}

/** Queries picked from the corpus's own word counts: rare, common, two words, phrase, prefix, with a role filter. */
function pickQueries(seed: CorpusSeed): Query[] {
  const { rare, common, medium, phrases } = queryWords(seed)
  const spread = <T>(list: T[], k: number) =>
    Array.from({ length: Math.min(k, list.length) }, (_, i) => list[Math.floor((i * list.length) / k)] as T)
  const queries: Query[] = [
    ...spread(rare, 4).map((w) => ({ kind: 'rare word', label: w.word, q: w.word })),
    ...common.slice(0, 2).map((w) => ({ kind: 'common word', label: w.word, q: w.word })),
    ...[0, 1].flatMap((i) => {
      const a = medium[i * 3]
      const b = medium[medium.length - 1 - i * 3]
      return a && b ? [{ kind: 'two words', label: `${a.word} ${b.word}`, q: `${a.word} ${b.word}` }] : []
    }),
    ...phrases.slice(0, 2).map((p) => ({ kind: 'phrase', label: `"${p.phrase}"`, q: `"${p.phrase}"` })),
    { kind: 'prefix', label: 'migrat*', q: 'migrat*' },
    { kind: 'prefix', label: 'perm*', q: 'perm*' },
    ...[medium[1], medium[medium.length - 2]].flatMap((w) =>
      w ? [{ kind: 'role=assistant', label: `${w.word} role=assistant`, q: w.word, role: 'assistant' }] : [],
    ),
  ]
  return queries
}

/** A deterministic shuffle (mulberry32), so a seed gives the same cold queries. */
function shuffled<T>(list: T[], seed: number): T[] {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/**
 * Per kind, queries that are never asked twice in a run and are none of the repeated ones: other rare words, common
 * words, pairs of medium words, phrases, prefixes of technical and content words, role-filtered words. Each at
 * offset 0 first, then further pages (offsets in steps of 10) while the page stays within the matches the words'
 * document frequencies promise.
 */
function coldQueries(seed: CorpusSeed, hot: Query[], perKind = 4000): Map<string, Query[]> {
  const { rare, common, medium, phrases } = queryWords(seed)
  type Base = { q: string; label: string; role?: string; df: number }
  const prefixes = new Map<string, number>()
  for (const w of seed.words)
    if ((w.kind === 'tech' || w.kind === 'content') && w.word.length >= 6) {
      const p = w.word.slice(0, w.word.length >= 8 ? 5 : 4)
      prefixes.set(p, Math.max(prefixes.get(p) ?? 0, w.df))
    }
  const pairs: Base[] = []
  for (let i = 0; i < medium.length; i++)
    for (let j = i + 1; j < medium.length; j++) {
      const [a, b] = [medium[i]?.word, medium[j]?.word]
      pairs.push({ q: `${a} ${b}`, label: `${a} ${b}`, df: 0 })
    }
  const bases: Record<string, Base[]> = {
    'rare word': shuffled(rare, seed.messages).map((w) => ({ q: w.word, label: w.word, df: w.df })),
    'common word': common.slice(0, 40).map((w) => ({ q: w.word, label: w.word, df: w.df })),
    'two words': shuffled(pairs, seed.messages + 1),
    phrase: phrases.map((p) => ({ q: `"${p.phrase}"`, label: `"${p.phrase}"`, df: p.df })),
    prefix: shuffled([...prefixes], seed.messages + 2).map(([p, df]) => ({ q: `${p}*`, label: `${p}*`, df })),
    'role=assistant': shuffled(medium, seed.messages + 3).map((w) => ({
      q: w.word,
      label: `${w.word} role=assistant`,
      role: 'assistant',
      df: w.df / 2,
    })),
  }
  const asked = new Set(hot.map((q) => searchPath(q)))
  const out = new Map<string, Query[]>()
  for (const [kind, list] of Object.entries(bases)) {
    const queries: Query[] = []
    for (let offset = 0; offset < SEARCH_WINDOW && queries.length < perKind; offset += 10)
      for (const b of list) {
        // half the document frequency: sidechains and other roles drop out
        if (offset > 0 && offset + 50 > Math.min(b.df / 2, SEARCH_WINDOW)) continue
        const q: Query = { kind, label: b.label, q: b.q, ...(b.role && { role: b.role }), offset }
        const path = searchPath(q)
        // a hot query without offset may be the same request as its offset=0 twin
        if (asked.has(path) || asked.has(searchPath({ ...q, offset: undefined }))) continue
        asked.add(path)
        queries.push(q)
        if (queries.length >= perKind) break
      }
    out.set(kind, queries)
  }
  return out
}

/**
 * The cold mix: the kinds in the proportions of the repeated mix, each request the next unasked query of its kind (a
 * kind whose queries ran out is left out from then on).
 */
function coldMix(pattern: string[], cold: Map<string, Query[]>, max = 20_000): Query[] {
  const next = new Map<string, number>()
  const mix: Query[] = []
  while (mix.length < max) {
    const before = mix.length
    for (const kind of pattern) {
      const i = next.get(kind) ?? 0
      const q = cold.get(kind)?.[i]
      if (!q || mix.length >= max) continue
      next.set(kind, i + 1)
      mix.push(q)
    }
    if (mix.length === before) break
  }
  return mix
}

const searchPath = (q: Query) =>
  `/api/search?${new URLSearchParams({ q: q.q, ...(q.role && { role: q.role }), ...(q.offset !== undefined && { offset: String(q.offset) }) })}`
const searchItem = (q: Query): ProbeItem => ({
  label: q.offset ? `${q.label} offset=${q.offset}` : q.label,
  kind: 'search',
  query: { q: q.q, ...(q.role && { role: q.role }), ...(q.offset !== undefined && { offset: q.offset }) },
})
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

export async function runSearchPart(o: ApiOptions): Promise<Outcome> {
  const rows: Row[] = []
  const c = await ensureCorpus(o)
  const details = [corpusDetails(c)]
  const scratch = tempDir('search')
  const queries = pickQueries(c.seed)
  const kinds = [...new Set(queries.map((q) => q.kind))]
  const cold = coldQueries(c.seed, queries)
  const pattern = queries.map((q) => q.kind)
  const mixPool = coldMix(pattern, cold)
  // in-process floor of the cold loads: the first queries of each kind (the cold mix starts with them)
  const coldSample = kinds.flatMap((k) => (cold.get(k) ?? []).slice(0, 8))

  log(`search: in-process floor of ${queries.length} queries and ${coldSample.length} cold ones ...`)
  const probed = await probe(c.db, c.seed.userId, [...queries, ...coldSample].map(searchItem), 5, scratch)
  const inProcess = new Map(queries.map((q, i) => [q, probed[i] as ProbeResult]))
  const coldFloor = new Map(
    kinds.map((k) => [
      k,
      mean(coldSample.flatMap((q, i) => (q.kind === k ? [(probed[queries.length + i] as ProbeResult).mean] : []))),
    ]),
  )
  const coldMixFloor = mean(pattern.map((k) => coldFloor.get(k) as number))
  const slowest = kinds.map(
    (k) =>
      queries
        .filter((q) => q.kind === k)
        .sort((a, b) => (inProcess.get(b)?.p50 ?? 0) - (inProcess.get(a)?.p50 ?? 0))[0] as Query,
  )

  const server = await observatory(c.dataDir)
  const headers = { 'x-api-key': c.seed.apiKey }
  const measure = makeMeasure(o, scratch, server.url, headers)
  const totals = new Map<Query, { total: number; total_exact: boolean }>()
  const perKind = new Map<string, Load>()
  let mix: Load
  let coldLoad: Load
  try {
    for (const q of queries) {
      const res = await fetch(`${server.url}${searchPath(q)}`, { headers })
      if (!res.ok) throw new Error(`GET ${searchPath(q)}: ${res.status} ${await res.text()}`)
      totals.set(q, (await res.json()) as { total: number; total_exact: boolean })
    }
    log(`search: repeated queries, ${queries.length} rotating, ${o.clients} connections ...`)
    mix = await measure({ kind: 'get', paths: queries.map((q) => ({ path: searchPath(q), tag: q.kind })) }, o.clients)
    log(`search:   ${describeLoad(mix)}`)
    log(`search: cold, every request a distinct query (${fmtInt(mixPool.length)} ready), ${o.clients} connections ...`)
    coldLoad = await measure(
      { kind: 'distinct', paths: mixPool.map((q) => ({ path: searchPath(q), tag: q.kind })) },
      o.clients,
    )
    log(`search:   ${describeLoad(coldLoad)}`)
    const used = mixPool.slice(0, coldLoad.used ?? mixPool.length)
    for (const kind of kinds) {
      const rest = (cold.get(kind) ?? []).slice(used.filter((q) => q.kind === kind).length)
      const paths = rest.map((q) => ({ path: searchPath(q), tag: kind }))
      const l = await measure({ kind: 'distinct', paths }, 1, Math.max(2, Math.round(o.seconds / 3)), false)
      log(`search:   ${kind}, distinct queries at 1 connection: ${describeLoad(l)}`)
      perKind.set(kind, l)
    }
  } finally {
    await stopServer(server)
  }

  const meanFloor = mean(queries.map((q) => (inProcess.get(q) as ProbeResult).mean))
  const ranOut = (l: Load) => (l.exhausted ? '; the distinct queries ran out, the run ended early' : '')
  rows.push(
    boundRow(
      'search',
      `GET /api/search p95, ${o.clients} clients, repeated queries (answers reused between writes): ${queries.length} rotating (${fmtInt(c.seed.messages)} messages)`,
      mix.p95,
      'ms',
      SEARCH_P95_MS,
      {
        floor: `in-process ${fmt(meanFloor, 2)} ms/query`,
        note:
          loadProblems(mix) ??
          `p50 ${fmt(mix.p50, 1)} ms, p99 ${fmt(mix.p99, 1)} ms, ${fmtInt(mix.rps)} req/s; the same ${queries.length} paths over and over: after the first ask of each, answers come from the read cache`,
      },
    ),
    boundRow(
      'search',
      `GET /api/search p95, ${o.clients} clients, cold: each request a distinct query never asked before`,
      coldLoad.p95,
      'ms',
      SEARCH_P95_MS,
      {
        floor: `in-process ${fmt(coldMixFloor, 2)} ms/query`,
        note:
          loadProblems(coldLoad) ??
          `each request distinct (${fmtInt(coldLoad.used ?? 0)} (q, role, offset) never asked before, kinds as in the repeated mix), so none answered from the cache; p50 ${fmt(coldLoad.p50, 1)} ms, p99 ${fmt(coldLoad.p99, 1)} ms, ${fmtInt(coldLoad.rps)} req/s; ${o.clients} × in-process mean = ${fmt(o.clients * coldMixFloor, 0)} ms${ranOut(coldLoad)}`,
      },
    ),
  )
  for (const kind of kinds) {
    const l = perKind.get(kind) as Load
    const floor = coldFloor.get(kind) as number
    rows.push(
      infoRow('search', `${kind} at 1 connection, cold (distinct queries)`, `p50 ${fmt(l.p50, 2)} ms`, {
        floor: `in-process ${fmt(floor, 2)} ms`,
        ratio: l.requests ? fmt(l.mean / floor, 2) : '—',
        note:
          loadProblems(l) ??
          `each request distinct (${fmtInt(l.used ?? 0)} queries); mean ${fmt(l.mean, 2)} ms, p95 ${fmt(l.p95, 2)} ms; in the ${o.clients}-client cold mix p95 ${fmt(coldLoad.byTag?.[kind]?.p95 ?? Number.NaN, 1)} ms${ranOut(l)}`,
      }),
    )
  }
  const stmt = (p: ProbeResult, marker: string) => p.statements.find((s) => s.sql.includes(marker))?.msPerRequest
  const ms = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, 2)} ms`)
  details.push(
    `Load: bench/loadgen.ts (fetch, latencies as measured), ${o.clients} connections in a closed loop, ${o.warmupSeconds} s warm-up then ${o.seconds} s. **Repeated queries**: the ${queries.length} queries below, rotating (each connection starting at a different one); the server answers a request it has answered since the last write from its read cache, so this is what a dashboard refreshing the same searches costs. **Cold**: every request (warm-up included) a distinct query never asked of this server, so the cache never answers: in the proportions of the repeated mix, other rare words, the 40 most common technical words, pairs of medium words, the ${c.seed.phrases.length} stock phrases, prefixes of technical words, role-filtered words, at offset 0 and then further pages (offsets in steps of 10); then each kind alone at 1 connection on distinct queries not asked before (the service time). Floor: the app's search service (no cache) on the same database in one process, no HTTP, one call at a time (mean of 5 after a warm-up): the ${queries.length} queries for the repeated load, the first ${coldSample.length / kinds.length} cold queries of each kind for the cold loads. The server runs one statement at a time (bun:sqlite is synchronous on the event loop), so at ${o.clients} clients a request waits for the ones ahead of it: latency ≈ ${o.clients} × mean service time (Little's law).`,
    `Each search runs a **ranked** statement (the newest ${fmtInt(SEARCH_WINDOW)} matches that pass the filters, materialized, bm25 ranked, counted up to ${fmtInt(SEARCH_WINDOW + 1)}, the page kept) and a **details** statement (rows, titles and snippets of the page's rows only: the FTS5 rowid range of the page with \`+rowid IN (…)\`). In-process, per query:`,
    [
      '| kind | q | filter | hits (total) | in-process p50 | ranked statement | details statement |',
      '|---|---|---|---|---|---|---|',
      ...queries.map((q) => {
        const p = inProcess.get(q) as ProbeResult
        const t = totals.get(q)
        const hits = t ? `${fmtInt(t.total)}${t.total_exact ? '' : '+'}` : '—'
        return `| ${q.kind} | ${code(q.q)} | ${q.role ? `role=${q.role}` : ''} | ${hits} | ${fmt(p.p50, 2)} ms | ${ms(stmt(p, 'WITH hits'))} | ${ms(stmt(p, 'snippet('))} |`
      }),
    ].join('\n'),
    statementDetails(
      'search: statements and plans (the slowest query of each kind)',
      slowest.map((q) => inProcess.get(q) as ProbeResult),
      2,
    ),
  )
  const coldMisses = coldLoad.p95 >= SEARCH_P95_MS
  if (o.profile || coldMisses || mix.p95 >= SEARCH_P95_MS) {
    // a new server has an empty cache: the cold paths are cold again
    const load: LoadRequests =
      o.profile || coldMisses
        ? { kind: 'distinct', paths: mixPool.map((q) => ({ path: searchPath(q), tag: q.kind })) }
        : { kind: 'get', paths: queries.map((q) => ({ path: searchPath(q), tag: q.kind })) }
    const which = load.kind === 'distinct' ? 'cold (distinct queries)' : 'repeated queries'
    log(`search: profiling the server under the ${which} load ...`)
    details.push(
      await profileServer(
        c.dataDir,
        'search-server.cpuprofile',
        `the server under the search mix, ${which}, ${o.clients} clients`,
        (s) => makeMeasure(o, scratch, s.url, headers)(load, o.clients, Math.min(o.seconds, 8), false),
      ),
    )
  }
  return { rows, details }
}

// ---------------------------------------------------------------------------------------------------------------
// Part `usage`.

/** Zones for the cold usage requests: a few common ones first, then every zone Intl knows. */
function usageZones(): string[] {
  const first = [
    'Europe/Paris',
    'UTC',
    'America/New_York',
    'America/Los_Angeles',
    'Europe/London',
    'Asia/Tokyo',
    'Asia/Kolkata',
    'Australia/Sydney',
  ]
  const all = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? []
  return [...new Set([...first, ...all])]
}

export async function runUsagePart(o: ApiOptions): Promise<Outcome> {
  const rows: Row[] = []
  const c = await ensureCorpus(o)
  const details = [corpusDetails(c)]
  const scratch = tempDir('usage')
  const tz = 'Europe/Paris'
  const day = (ms: number, zone = tz) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms)
  const groups = ['day', 'model'] as const
  type UsageQuery = { from: string; to: string; tz: string }
  /** 90 days ending `back` days before the last message's day, in `zone` */
  const range = (back: number, zone = tz): UsageQuery => ({
    from: day(c.seed.lastTimestamp - (90 + back) * 86_400_000, zone),
    to: day(c.seed.lastTimestamp - back * 86_400_000, zone),
    tz: zone,
  })
  const hot = range(0)
  const path = (g: string, q: UsageQuery) => `/api/analytics/usage?${new URLSearchParams({ group_by: g, ...q })}`
  // cold: every (end day, zone) once, 90-day ranges ending on each of the last 90 days, zone after zone
  const zones = usageZones()
  const coldRanges: UsageQuery[] = []
  for (const zone of zones)
    for (let back = 0; back < 90 && coldRanges.length < 20_000; back++)
      if (zone !== tz || back !== 0) coldRanges.push(range(back, zone))
  const coldSample = coldRanges.slice(0, 8)

  log('usage: in-process floor ...')
  const probed = await probe(
    c.db,
    c.seed.userId,
    groups.flatMap((g) => [
      { label: `group_by=${g}`, kind: 'usage' as const, query: { group_by: g, ...hot } },
      ...coldSample.map((q) => ({
        label: `group_by=${g} ${q.to} ${q.tz}`,
        kind: 'usage' as const,
        query: { group_by: g, ...q },
      })),
    ]),
    5,
    scratch,
  )
  const server = await observatory(c.dataDir)
  const headers = { 'x-api-key': c.seed.apiKey }
  const measure = makeMeasure(o, scratch, server.url, headers)
  type Loads = { many: Load; cold: Load; one: Load; groups: number; bytes: number }
  const loads = new Map<string, Loads>()
  try {
    for (const g of groups) {
      const res = await fetch(`${server.url}${path(g, hot)}`, { headers })
      if (!res.ok) throw new Error(`GET ${path(g, hot)}: ${res.status} ${await res.text()}`)
      const text = await res.text()
      const n = (JSON.parse(text) as { groups: unknown[] }).groups.length
      log(`usage: ${path(g, hot)} repeated, ${o.clients} connections ...`)
      const many = await measure({ kind: 'get', paths: [{ path: path(g, hot), tag: g }] }, o.clients)
      log(`usage:   ${describeLoad(many)}`)
      const paths = coldRanges.map((q) => ({ path: path(g, q), tag: g }))
      log(`usage: group_by=${g} cold, each request a distinct range or zone, ${o.clients} connections ...`)
      const cold = await measure({ kind: 'distinct', paths }, o.clients)
      log(`usage:   ${describeLoad(cold)}`)
      const one = await measure(
        { kind: 'distinct', paths: paths.slice(cold.used ?? paths.length) },
        1,
        Math.max(2, Math.round(o.seconds / 3)),
        false,
      )
      log(`usage:   distinct, at 1 connection: ${describeLoad(one)}`)
      loads.set(g, { many, cold, one, groups: n, bytes: text.length })
    }
  } finally {
    await stopServer(server)
  }
  const ranOut = (l: Load) => (l.exhausted ? '; the distinct requests ran out, the run ended early' : '')
  for (const [i, g] of groups.entries()) {
    const { many, cold, one, groups: n } = loads.get(g) as Loads
    const per = coldSample.length + 1
    const p = probed[i * per] as ProbeResult
    const coldFloor = mean(probed.slice(i * per + 1, (i + 1) * per).map((r) => r.mean))
    rows.push(
      boundRow(
        'usage',
        `GET /api/analytics/usage?group_by=${g} (90 days, ${tz}) p95, ${o.clients} clients, repeated query (answer reused between writes)`,
        many.p95,
        'ms',
        USAGE_P95_MS,
        {
          floor: `in-process ${fmt(p.mean, 2)} ms`,
          note:
            loadProblems(many) ??
            `p50 ${fmt(many.p50, 1)} ms, p99 ${fmt(many.p99, 1)} ms, ${fmtInt(many.rps)} req/s; ${n} groups; the same path over and over: after the first ask, answered from the read cache`,
        },
      ),
      boundRow(
        'usage',
        `GET /api/analytics/usage?group_by=${g} (90 days) p95, ${o.clients} clients, cold: each request a distinct range or zone`,
        cold.p95,
        'ms',
        USAGE_P95_MS,
        {
          floor: `in-process ${fmt(coldFloor, 2)} ms`,
          note:
            loadProblems(cold) ??
            `each request distinct (${fmtInt(cold.used ?? 0)} (from, to, tz) never asked before), so none answered from the cache; p50 ${fmt(cold.p50, 1)} ms, p99 ${fmt(cold.p99, 1)} ms, ${fmtInt(cold.rps)} req/s${ranOut(cold)}`,
        },
      ),
      infoRow('usage', `group_by=${g} at 1 connection, cold (distinct requests)`, `p50 ${fmt(one.p50, 2)} ms`, {
        floor: `in-process ${fmt(coldFloor, 2)} ms`,
        ratio: fmt(one.mean / coldFloor, 2),
        note:
          loadProblems(one) ??
          `each request distinct (${fmtInt(one.used ?? 0)}); mean ${fmt(one.mean, 2)} ms, ${fmtInt(one.rps)} req/s${ranOut(one)}`,
      }),
    )
  }
  details.push(
    `Queries: repeated, ${groups.map((g) => code(path(g, hot))).join(', ')} (from = 90 days before the last message's day), answered from the read cache after the first ask until a write; cold, every request (warm-up included) a distinct (from, to, tz) never asked of this server: 90-day ranges ending on each of the last 90 days of the corpus, in ${zones.length} IANA zones in turn (${zones.slice(0, 3).join(', ')}, …). Load: bench/loadgen.ts, ${o.clients} connections, ${o.warmupSeconds} s warm-up then ${o.seconds} s; then 1 connection, cold. Floor: the app's analytics service (no cache) in-process on the same database: the repeated query, and the mean of the first ${coldSample.length} cold ones. The reports read usage_daily (owner, UTC day, model) for the whole UTC days of the range and usage_hourly (owner, hour, model) or usage_rollup (owner, quarter hour, conversation, model) for the partial days at either end; by day, the hours of each UTC day that fall on another local day than its noon's are moved there from usage_hourly (usage_rollup for an hour holding a local midnight), so the time of a report by day grows with the zone's offset from UTC (all three tables kept in step by triggers on messages).`,
    statementDetails(
      'usage: statements and plans (the repeated query)',
      groups.map((_, i) => probed[i * (coldSample.length + 1)] as ProbeResult),
    ),
  )
  const worst = Math.max(...[...loads.values()].map((l) => Math.max(l.many.p95, l.cold.p95)))
  if (o.profile || worst >= USAGE_P95_MS) {
    // a new server has an empty cache: the cold paths are cold again
    log('usage: profiling the server under the cold load ...')
    details.push(
      await profileServer(
        c.dataDir,
        'usage-server.cpuprofile',
        `the server under usage (day and model), cold (distinct requests), ${o.clients} clients`,
        (s) =>
          makeMeasure(o, scratch, s.url, headers)(
            {
              kind: 'distinct',
              paths: coldRanges.flatMap((q) => groups.map((g) => ({ path: path(g, q), tag: g }))),
            },
            o.clients,
            Math.min(o.seconds, 8),
            false,
          ),
      ),
    )
  }
  return { rows, details }
}

// ---------------------------------------------------------------------------------------------------------------
// Part `hierarchy`.

/** sessions_per_workspace of the cold requests: every value of this range once per project */
const HIERARCHY_COLD_SPW = { min: 1, max: 60 }
/** bands of sessions_per_workspace the cold loads report their latencies by */
const HIERARCHY_BANDS = [15, 30, 45, 60]
const spwBand = (k: number) => {
  const i = HIERARCHY_BANDS.findIndex((hi) => k <= hi)
  return `${i === 0 ? HIERARCHY_COLD_SPW.min : (HIERARCHY_BANDS[i - 1] as number) + 1}–${HIERARCHY_BANDS[i]}`
}

export async function runHierarchyPart(o: ApiOptions): Promise<Outcome> {
  const rows: Row[] = []
  const details: string[] = []
  const scratch = tempDir('hierarchy')
  const dataDir = join(scratch, 'data')
  mkdirSync(dataDir, { recursive: true })
  const db = join(dataDir, 'observatory.db')
  const size = HIERARCHY_SIZE
  log(
    `hierarchy: seeding ${size.projects} projects of ${size.workspaces} workspaces on ${size.machines} machines, ${fmtInt(size.sessions)} sessions each ...`,
  )
  const { result: seed, seconds } = await seedData<HierarchyResult & { allEvents: number }>(
    [
      'hierarchy',
      db,
      '--workspaces',
      String(size.workspaces),
      '--machines',
      String(size.machines),
      '--sessions',
      String(size.sessions),
      '--events',
      String(size.events),
      '--projects',
      String(size.projects),
      '--seed',
      String(o.seed),
    ],
    'seed hierarchy',
  )
  const hierarchyPath = (projectId: string, spw?: number) =>
    `/api/projects/${projectId}/hierarchy${spw === undefined ? '' : `?sessions_per_workspace=${spw}`}`
  const path = hierarchyPath(seed.projectId)
  // cold: each (project, sessions_per_workspace) once, shuffled; not the repeated request (the default is 10)
  const spws = Array.from(
    { length: HIERARCHY_COLD_SPW.max - HIERARCHY_COLD_SPW.min + 1 },
    (_, i) => HIERARCHY_COLD_SPW.min + i,
  )
  const coldPaths = shuffled(
    seed.projectIds.flatMap((id) =>
      spws.flatMap((k) =>
        id === seed.projectId && k === 10
          ? []
          : [{ path: hierarchyPath(id, k), tag: `sessions_per_workspace ${spwBand(k)}` }],
      ),
    ),
    o.seed,
  )
  // in-process floor of the cold loads: the first project at the middle of each run of 5 values (their mean stands for
  // the range's), and at both ends for the size of the answers
  const grid = Array.from({ length: spws.length / 5 }, (_, i) => spws[i * 5 + 2] as number)
  const ends = [HIERARCHY_COLD_SPW.min, HIERARCHY_COLD_SPW.max]
  const probed = await probe(
    db,
    seed.userId,
    [
      { label: 'hierarchy', kind: 'hierarchy', projectId: seed.projectId },
      ...[...grid, ...ends].map((k) => ({
        label: `hierarchy sessions_per_workspace=${k}`,
        kind: 'hierarchy' as const,
        projectId: seed.projectId,
        query: { sessions_per_workspace: k },
      })),
    ],
    5,
    scratch,
  )
  const p = probed[0] as ProbeResult
  const gridProbes = probed.slice(1, 1 + grid.length)
  const [first, last] = probed.slice(1 + grid.length) as [ProbeResult, ProbeResult]
  const coldFloor = mean(gridProbes.map((r) => r.mean))
  const server = await observatory(dataDir)
  const headers = { 'x-api-key': seed.apiKey }
  const measure = makeMeasure(o, scratch, server.url, headers)
  let many: Load
  let cold: Load
  let one: Load
  let bytes = 0
  let sessionsShown = 0
  try {
    const res = await fetch(`${server.url}${path}`, { headers })
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
    const text = await res.text()
    bytes = text.length
    const body = JSON.parse(text) as { machines: { workspaces: { sessions: unknown[] }[] }[] }
    sessionsShown = body.machines.reduce((a, m) => a + m.workspaces.reduce((b, w) => b + w.sessions.length, 0), 0)
    log(`hierarchy: GET ${path} (${fmtInt(bytes / 1024)} KiB) repeated, ${HIERARCHY_CONNECTIONS} connections ...`)
    many = await measure({ kind: 'get', paths: [{ path, tag: 'hierarchy' }] }, HIERARCHY_CONNECTIONS)
    log(`hierarchy:   ${describeLoad(many)}`)
    log(
      `hierarchy: cold, each request a distinct (project, sessions_per_workspace) (${fmtInt(coldPaths.length)} ready), ${HIERARCHY_CONNECTIONS} connections ...`,
    )
    cold = await measure({ kind: 'distinct', paths: coldPaths }, HIERARCHY_CONNECTIONS)
    log(`hierarchy:   ${describeLoad(cold)}`)
    one = await measure(
      { kind: 'distinct', paths: coldPaths.slice(cold.used ?? coldPaths.length) },
      1,
      Math.max(2, Math.round(o.seconds / 3)),
      false,
    )
    log(`hierarchy:   distinct, at 1 connection: ${describeLoad(one)}`)
  } finally {
    await stopServer(server)
  }
  const ranOut = (l: Load) => (l.exhausted ? '; the distinct requests ran out, the run ended early' : '')
  const kib = (r: ProbeResult) => fmtInt(r.bytes / 1024)
  const varies = `${size.projects} projects of this size × sessions_per_workspace ${HIERARCHY_COLD_SPW.min}–${HIERARCHY_COLD_SPW.max}, shuffled; answers ${kib(first)}–${kib(last)} KiB (${HIERARCHY_COLD_SPW.min} and ${HIERARCHY_COLD_SPW.max} in the first project)`
  const bands = (l: Load) =>
    HIERARCHY_BANDS.map((_, i) => {
      const band = spwBand(HIERARCHY_BANDS[i] as number)
      return `${band} ${fmt(l.byTag?.[`sessions_per_workspace ${band}`]?.p95 ?? Number.NaN, 0)} ms`
    }).join(', ')
  rows.push(
    boundRow(
      'hierarchy',
      `GET /api/projects/:id/hierarchy p95, ${HIERARCHY_CONNECTIONS} clients, repeated (answer reused between writes) (${size.workspaces} workspaces, ${fmtInt(seed.sessions)} sessions)`,
      many.p95,
      'ms',
      HIERARCHY_P95_MS,
      {
        floor: `in-process ${fmt(p.mean, 1)} ms`,
        note:
          loadProblems(many) ??
          `p50 ${fmt(many.p50, 1)} ms, p99 ${fmt(many.p99, 1)} ms, ${fmtInt(many.rps)} req/s; ${fmtInt(bytes / 1024)} KiB; the same path over and over: after the first ask, answered from the read cache`,
      },
    ),
    boundRow(
      'hierarchy',
      `GET /api/projects/:id/hierarchy p95, ${HIERARCHY_CONNECTIONS} clients, cold: each request a distinct (project, sessions_per_workspace)`,
      cold.p95,
      'ms',
      HIERARCHY_P95_MS,
      {
        floor: `in-process ${fmt(coldFloor, 1)} ms`,
        note:
          loadProblems(cold) ??
          `each request distinct (${fmtInt(cold.used ?? 0)} never asked before: ${varies}), so none answered from the cache; p50 ${fmt(cold.p50, 1)} ms, p99 ${fmt(cold.p99, 1)} ms, ${fmtInt(cold.rps)} req/s; p95 by sessions_per_workspace ${bands(cold)}${ranOut(cold)}`,
      },
    ),
    infoRow(
      'hierarchy',
      'GET /api/projects/:id/hierarchy at 1 connection, cold (distinct requests)',
      `p50 ${fmt(one.p50, 1)} ms`,
      {
        floor: `in-process ${fmt(coldFloor, 1)} ms`,
        ratio: one.requests ? fmt(one.mean / coldFloor, 2) : '—',
        note:
          loadProblems(one) ??
          `each request distinct (${fmtInt(one.used ?? 0)}, the next of the same list); mean ${fmt(one.mean, 1)} ms, p95 ${fmt(one.p95, 1)} ms, ${fmtInt(one.rps)} req/s${ranOut(one)}`,
      },
    ),
  )
  details.push(
    `Data: ${size.projects} projects, each with ${size.workspaces} workspaces over the same ${size.machines} machines and ${fmtInt(seed.sessions)} sessions (conversations linked to workspaces, 5 messages each, aggregates by refreshConversationAggregates), ${fmtInt(seed.events)} hook events in the first project (${fmtInt(seed.allEvents)} in all), plus 4 small projects; seeded in ${fmt(seconds, 0)} s. The first project's rows are those a one-project seed writes (the runs before this one); the others are asked by the cold loads only. The repeated answer (the first project, default sessions_per_workspace=10) lists ${fmtInt(sessionsShown)} sessions, ${fmtInt(bytes / 1024)} KiB of JSON.`,
    `Load: bench/loadgen.ts, ${HIERARCHY_CONNECTIONS} connections, ${o.warmupSeconds} s warm-up then ${o.seconds} s. **Repeated**: ${code(path)} over and over; after the first ask the server answers it from its read cache until a write. **Cold**: every request (warm-up included) a (project, sessions_per_workspace) pair never asked of this server (${fmtInt(coldPaths.length)} in all: ${varies}), so the cache never answers; then 1 connection on the pairs left. Floor: the app's hierarchy service (no cache) in-process on the same database (SQL and mapping, mean of 5 after a warm-up): the repeated request (JSON.stringify of its answer took ${fmt(p.jsonMs, 1)} ms more), and for the cold loads the mean over sessions_per_workspace ${grid.join(', ')} (the middle of each run of 5 values) in the first project. The server runs one statement at a time, so at ${HIERARCHY_CONNECTIONS} clients a request waits for those ahead of it (≈ ${HIERARCHY_CONNECTIONS} × the service time).`,
    [
      '| sessions_per_workspace (first project) | in-process mean | JSON of the answer |',
      '|---|---|---|',
      `| 10 (default, the repeated request) | ${fmt(p.mean, 1)} ms | ${kib(p)} KiB |`,
      ...[first, ...gridProbes, last].map(
        (r) => `| ${r.label.replace('hierarchy sessions_per_workspace=', '')} | ${fmt(r.mean, 1)} ms | ${kib(r)} KiB |`,
      ),
    ].join('\n'),
    statementDetails('hierarchy: statements and plans (the repeated request)', [p], 4),
  )
  const coldMisses = cold.p95 >= HIERARCHY_P95_MS
  if (o.profile || coldMisses || many.p95 >= HIERARCHY_P95_MS) {
    // a new server has an empty cache: the cold paths are cold again
    const load: LoadRequests =
      o.profile || coldMisses
        ? { kind: 'distinct', paths: coldPaths }
        : { kind: 'get', paths: [{ path, tag: 'hierarchy' }] }
    const which = load.kind === 'distinct' ? 'cold (distinct requests)' : 'repeated'
    log(`hierarchy: profiling the server under the ${which} load ...`)
    details.push(
      await profileServer(
        dataDir,
        'hierarchy-server.cpuprofile',
        `the server under the hierarchy load, ${which}, ${HIERARCHY_CONNECTIONS} clients`,
        (s) => makeMeasure(o, scratch, s.url, headers)(load, HIERARCHY_CONNECTIONS, Math.min(o.seconds, 8), false),
      ),
    )
  }
  return { rows, details }
}

// ---------------------------------------------------------------------------------------------------------------
// Part `events`: POST /api/events (batches of 1,000) and POST /api/hooks/claude-code.

let runs = 0

/** Lua building a batch of 1,000 events like batchEvent() in api-seed.ts, with ids unique to this run and request. */
const eventsLua = (tag: string) => `
function body(n)
  local parts = {}
  for i = 0, 999 do
    parts[i + 1] = string.format('{"event_id":"${tag}-%d-%d","type":"%s","session_id":"session-%d","machine_id":"bench-machine","tool_name":"Bash","tool_use_id":"toolu_%d_%d","payload":{"command":"bun test","exit_code":0,"duration_ms":%d}}',
      n, i, (i % 2 == 1) and "tool.end" or "tool.start", n % 50, n, i, 1200 + i)
  end
  return '{"events":[' .. table.concat(parts, ",") .. ']}'
end
`

/** Lua building Claude Code hook payloads: PreToolUse then PostToolUse of the same tool call, over 20 sessions. */
export const hookLua = (tag: string) => `
local stdout = "${'bun test v1.4.5\\\\n\\\\nsrc/modules/search.test.ts:\\\\n(pass) search > ranks by bm25 [1.20ms]\\\\n(pass) search > phrases [0.84ms]\\\\n'.repeat(6)} 48 pass\\\\n 0 fail\\\\nRan 48 tests across 6 files. [412.00ms]"
function body(n)
  local k = math.floor((n + 1) / 2)
  local s = k % 20
  local sid = string.format("${tag}-0000-4000-8000-%012d", s)
  local cwd = "/home/dev/src/app-" .. (s % 4)
  local tool = "toolu_01${tag}" .. k
  if n % 2 == 1 then
    return string.format('{"session_id":"%s","transcript_path":"/home/dev/.claude/projects/-home-dev-src-app-%d/%s.jsonl","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"bun test src/modules/m%d.test.ts","description":"Run the module tests"},"tool_use_id":"%s"}',
      sid, s % 4, sid, cwd, k % 37, tool)
  end
  return string.format('{"session_id":"%s","transcript_path":"/home/dev/.claude/projects/-home-dev-src-app-%d/%s.jsonl","cwd":"%s","permission_mode":"default","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"bun test src/modules/m%d.test.ts","description":"Run the module tests"},"tool_response":{"stdout":"%s","stderr":"","interrupted":false,"isImage":false},"tool_use_id":"%s"}',
    sid, s % 4, sid, cwd, k % 37, stdout, tool)
end
`

export async function runEventsPart(o: ApiOptions): Promise<Outcome> {
  const rows: Row[] = []
  const details: string[] = []
  const scratch = tempDir('events')
  const dataDir = join(scratch, 'data')
  mkdirSync(dataDir, { recursive: true })
  const db = join(dataDir, 'observatory.db')

  log('events: floor (raw bun:sqlite, the repository statement, one transaction per 1,000 rows) ...')
  const { result: floor } = await seedData<{ rows: number; seconds: number; eventsPerSecond: number }>(
    ['events-floor', join(scratch, 'floor.db'), '--batches', '200'],
    'events floor',
  )
  log(
    `events:   floor ${fmtInt(floor.eventsPerSecond)} events/s (${fmtInt(floor.rows)} rows in ${fmt(floor.seconds, 2)} s)`,
  )
  const { result: user } = await seedData<SeededUser>(['user', db], 'seed user')

  const server = await observatory(dataDir)
  const headers = { 'x-api-key': user.apiKey, 'content-type': 'application/json' }
  const measure = makeMeasure(o, scratch, server.url, headers)
  let batches: Load
  let warm: Load | undefined
  let hooks: Load
  let hooks1: Load
  let hooksWrk: Load
  try {
    // one batch first: a broken credential or body fails loudly instead of measuring 4xx
    const tag = `check${++runs}`
    const res = await fetch(`${server.url}/api/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ events: [{ event_id: tag, type: 'check' }] }),
    })
    if (!res.ok) throw new Error(`POST /api/events: ${res.status} ${await res.text()}`)
    const hook = await fetch(`${server.url}/api/hooks/claude-code`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ session_id: 'check', hook_event_name: 'SessionStart', cwd: '/home/dev/src/app-0' }),
    })
    if (!hook.ok) throw new Error(`POST /api/hooks/claude-code: ${hook.status} ${await hook.text()}`)

    log(`events: POST /api/events, 1,000 events per request, ${EVENTS_CONNECTIONS} connections ...`)
    if (o.warmupSeconds > 0)
      warm = await runWrk(
        {
          url: server.url,
          headers,
          post: { path: '/api/events', luaBody: eventsLua(`w${++runs}`) },
          connections: EVENTS_CONNECTIONS,
          seconds: o.warmupSeconds,
        },
        scratch,
      )
    batches = await runWrk(
      {
        url: server.url,
        headers,
        post: { path: '/api/events', luaBody: eventsLua(`m${++runs}`) },
        connections: EVENTS_CONNECTIONS,
        seconds: o.seconds,
      },
      scratch,
    )
    log(`events:   ${describeLoad(batches)} = ${fmtInt(batches.rps * 1000)} events/s`)

    log(`events: POST /api/hooks/claude-code, ${HOOK_CONNECTIONS} connections ...`)
    hooks = await measure({ kind: 'hooks', tag: `b${++runs}` }, HOOK_CONNECTIONS)
    log(`events:   ${describeLoad(hooks)}`)
    hooks1 = await measure({ kind: 'hooks', tag: `c${++runs}` }, 1, Math.max(2, Math.round(o.seconds / 3)), false)
    log(`events:   at 1 connection: ${describeLoad(hooks1)}`)
    // the same load through wrk, whose histogram adds samples for coordinated omission: shown for comparison
    await Bun.sleep(1000)
    hooksWrk = await runWrk(
      {
        url: server.url,
        headers,
        post: { path: '/api/hooks/claude-code', luaBody: hookLua(`d${++runs}`) },
        connections: HOOK_CONNECTIONS,
        seconds: o.seconds,
      },
      scratch,
    )
    log(`events:   wrk (corrected histogram): ${describeLoad(hooksWrk)}`)
  } finally {
    await stopServer(server)
  }
  const stored = new Database(db, { readonly: true })
  const counts = stored
    .query(
      `SELECT (SELECT count(*) FROM events WHERE type IN ('tool.start', 'tool.end')) AS batch,
              (SELECT count(*) FROM events WHERE type IN ('PreToolUse', 'PostToolUse')) AS hooks,
              (SELECT count(*) FROM tool_calls) AS calls`,
    )
    .get() as { batch: number; hooks: number; calls: number }
  stored.close()

  const eventsPerSecond = batches.rps * 1000
  const batchBytes = JSON.stringify({
    events: Array.from({ length: 1000 }, (_, i) => batchEvent(123456789, i, 'm1')),
  }).length
  rows.push({
    part: 'events',
    figure: `POST /api/events, 1,000 events per request, ${EVENTS_CONNECTIONS} connections`,
    ours: `${fmtInt(eventsPerSecond)} events/s`,
    floor: `${fmtInt(floor.eventsPerSecond)} events/s`,
    ratio: fmt(eventsPerSecond / floor.eventsPerSecond, 2),
    target: `≥ ${fmtInt(EVENTS_PER_S)} events/s`,
    verdict: loadProblems(batches) ? 'FAIL' : eventsPerSecond >= EVENTS_PER_S ? 'PASS' : 'MISS',
    note:
      loadProblems(batches) ??
      `${fmt(batches.rps, 1)} req/s, p50 ${fmt(batches.p50, 1)} ms, p99 ${fmt(batches.p99, 1)} ms per batch`,
  })
  rows.push(
    boundRow('events', `POST /api/hooks/claude-code p99, ${HOOK_CONNECTIONS} clients`, hooks.p99, 'ms', HOOK_P99_MS, {
      note: loadProblems(hooks) ?? `p50 ${fmt(hooks.p50, 2)} ms, ${fmtInt(hooks.rps)} req/s`,
    }),
    infoRow('events', 'POST /api/hooks/claude-code at 1 connection', `p50 ${fmt(hooks1.p50, 2)} ms`, {
      note:
        loadProblems(hooks1) ??
        `p99 ${fmt(hooks1.p99, 2)} ms, mean ${fmt(hooks1.mean, 2)} ms, ${fmtInt(hooks1.rps)} req/s`,
    }),
    infoRow(
      'events',
      `POST /api/hooks/claude-code, ${HOOK_CONNECTIONS} connections, as wrk reports it`,
      `p99 ${fmt(hooksWrk.p99, 2)} ms`,
      {
        note:
          loadProblems(hooksWrk) ??
          `p50 ${fmt(hooksWrk.p50, 2)} ms, ${fmtInt(hooksWrk.rps)} req/s; wrk adds coordinated-omission samples to its histogram`,
      },
    ),
  )
  details.push(
    `POST /api/events: wrk, ${EVENTS_CONNECTIONS} connections, each request a fresh batch of 1,000 distinct events (event_id unique to the run and request; session, machine, tool, small payload; ${fmtInt(batchBytes / 1024)} KiB), ${o.warmupSeconds} s warm-up then ${o.seconds} s. Floor: the events repository's INSERT OR IGNORE, raw bun:sqlite prepared statement, the same rows, one transaction per 1,000, on a migrated database (200 batches). Stored after the run: ${fmtInt(counts.batch)} batch events (${fmtInt(((warm?.requests ?? 0) + batches.requests) * 1000)} acknowledged by the warm-up and the measured run; requests still in flight when wrk stops are stored but not counted by it).`,
    `POST /api/hooks/claude-code: bench/loadgen.ts, ${HOOK_CONNECTIONS} connections, ${o.warmupSeconds} s warm-up then ${o.seconds} s, PreToolUse then PostToolUse (about 1.3 KiB, tool_response with test output) of the same tool call, 20 sessions over 4 working directories, X-API-Key; every payload distinct, so each one is stored (event, tool call, session upsert). Stored: ${fmtInt(counts.hooks)} hook events, ${fmtInt(counts.calls)} tool calls. The same load through wrk gives p50 ${fmt(hooksWrk.p50, 2)} ms, p99 ${fmt(hooksWrk.p99, 2)} ms: wrk 4.1 adds, for every response slower than a connection's mean interval, made-up samples (coordinated-omission correction), so a few pauses weigh as hundreds of slow requests; the row above is what the clients measured.`,
  )
  if (o.profile || eventsPerSecond < EVENTS_PER_S || hooks.p99 >= HOOK_P99_MS) {
    log('events: profiling the server under both loads ...')
    details.push(
      await profileServer(
        dataDir,
        'events-server.cpuprofile',
        'the server under POST /api/events then the hooks',
        async (s) => {
          await runWrk(
            {
              url: s.url,
              headers,
              post: { path: '/api/events', luaBody: eventsLua(`p${++runs}`) },
              connections: EVENTS_CONNECTIONS,
              seconds: Math.min(o.seconds, 6),
            },
            scratch,
          )
          await makeMeasure(o, scratch, s.url, headers)(
            { kind: 'hooks', tag: `q${++runs}` },
            HOOK_CONNECTIONS,
            Math.min(o.seconds, 6),
            false,
          )
        },
      ),
    )
  }
  return { rows, details }
}
