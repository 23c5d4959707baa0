/**
 * The benchmark suite, run on demand (not part of the tests):
 *
 *   bun bench/index.ts [import] [http] [search] [usage] [hierarchy] [events] [live] [connections] [incremental]
 *                      [--size-mb 200] [--rss-gb 1] [--seed 42] [--profile] [--seconds 10] [--warmup 2]
 *                      [--out BENCHMARKS.md] [--messages 1000000] [--conversations 2000] [--clients 16]
 *                      [--subscribers 1000] [--live-events 200] [--connections 1000] [--appends 5] [--what-if SQL]
 *
 * Every figure is reported beside a floor measured in the same run on the same machine (raw bun:sqlite inserts, a
 * bare Bun.serve), as a ratio with its target, because the machines are shared and noisy. Writes a Markdown report
 * and prints its table. Temp dirs and child processes are removed on exit, on error and on Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type ApiOptions, runEventsPart, runHierarchyPart, runSearchPart, runUsagePart } from './api'
import { runConnectionsPart } from './connections'
import { runHttpPart } from './http'
import { CCUSAGE_VERSION, runImportPart } from './import'
import { runIncrementalPart } from './incremental'
import { cleanupAll, fmt, log, machineInfo, type Row, repoRoot, table } from './lib'
import { runLivePart } from './live'

const PARTS = [
  'import',
  'http',
  'search',
  'usage',
  'hierarchy',
  'events',
  'live',
  'connections',
  'incremental',
] as const
type Part = (typeof PARTS)[number]

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'size-mb': { type: 'string', default: '200' },
    'rss-gb': { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    profile: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string' },
    messages: { type: 'string', default: '1000000' },
    conversations: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '16' },
    subscribers: { type: 'string', default: '1000' },
    'live-events': { type: 'string', default: '200' },
    connections: { type: 'string', default: '1000' },
    appends: { type: 'string', default: '5' },
    'what-if': { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

const usage = `usage: bun bench/index.ts [${PARTS.join('] [')}]
                          [--size-mb 200] [--rss-gb 1] [--seed 42] [--profile] [--seconds 10] [--warmup 2] [--out FILE]
  import   import throughput vs raw bun:sqlite inserts, peak RSS on --rss-gb GB (0 skips it), ccusage ${CCUSAGE_VERSION} beside it
  http     GET /health vs a bare Bun.serve; conversation and message lists p99 at 64 connections
  search   GET /api/search p95 at --clients 16 over --messages 1000000 (rare, common, two words, phrase, prefix*,
           role filter): repeated queries (read cache) and cold (each request a distinct query), each kind cold at 1
           connection beside the in-process service call, statements and plans
  usage    GET /api/analytics/usage (group_by day and model, 90 days) p95 at --clients 16, same corpus: repeated
           (Europe/Paris) and cold (each request a distinct range or zone)
  hierarchy  GET /api/projects/:id/hierarchy p95 at 4 connections (200 workspaces, 20 machines, 10,000 sessions):
           repeated (read cache) and cold (each request a distinct (project, sessions_per_workspace 1–60) of 6 such
           projects), cold at 1 connection, beside the in-process service call
  events   POST /api/events (1,000 events a request) events/s vs raw inserts; POST /api/hooks/claude-code p99 at 8
  live     --subscribers 1000 SSE subscribers, --live-events 200 hooks 20 ms apart: delivery p50/p99, disconnects, RSS
  connections  GET /api/conversations?limit=50 at --connections 1000 for --seconds (default here 30) with wrk, vs a bare
           Bun.serve: req/s, errors, p50/p99, peak server RSS
  incremental  one --size-mb MB transcript imported, then \`bun src/cli.ts watch\` beside the server: --appends 5 appends
           of 1 MB, time until the last appended message is served by the API
  --what-if SQL  run on the seeded corpus before the server starts (repeatable), e.g. a CREATE INDEX to try
  --profile  adds timed sections and a CPU profile of our import, and runs the real server under the CPU profiler
             (profiles in bench/out/profiles/, summaries in the report)`
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const unknown = positionals.filter((p) => !PARTS.includes(p as Part))
const number = (name: keyof typeof values) => {
  const n = Number(values[name])
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name}: not a number: ${values[name]}\n${usage}`)
    process.exit(2)
  }
  return n
}
if (unknown.length) {
  console.error(`unknown part: ${unknown.join(', ')}\n${usage}`)
  process.exit(2)
}
const parts: Part[] = positionals.length ? [...new Set(positionals as Part[])] : [...PARTS]
const sizeMb = number('size-mb')
const rssGb = number('rss-gb')
const seed = number('seed')
const seconds = values.seconds === undefined ? 10 : number('seconds')
const warmup = number('warmup')
const api: ApiOptions = {
  seconds,
  warmupSeconds: warmup,
  messages: number('messages'),
  conversations: number('conversations'),
  seed,
  clients: number('clients'),
  profile: values.profile,
  whatIf: values['what-if'] ?? [],
}
const live = {
  subscribers: number('subscribers'),
  events: number('live-events'),
  spacingMs: 20,
  processes: 2,
  profile: values.profile,
}
const appends = Math.max(1, number('appends'))
const connections = {
  connections: Math.max(1, number('connections')),
  seconds: values.seconds === undefined ? 30 : seconds,
  warmupSeconds: warmup,
}
const out = resolve(values.out ?? `${repoRoot}/BENCHMARKS.md`)
const args = process.argv.slice(2).map((a) => (/^[\w./=:,-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))
// `bun run bench …` and `npm run bench -- …` run this file through package.json's script
const viaScript = process.env.npm_lifecycle_event === 'bench'
const runner = process.env.npm_config_user_agent?.startsWith('npm') ? 'npm run bench --' : 'bun run bench'
const command = `${viaScript ? runner : 'bun bench/index.ts'} ${args.join(' ')}`.trim()

const rows: Row[] = []
const details: string[] = []
const started = new Date()
let failed = false
try {
  for (const part of parts) {
    const t = performance.now()
    try {
      const outcome =
        part === 'import'
          ? await runImportPart({ sizeMb, rssGb, seed, profile: values.profile })
          : part === 'http'
            ? await runHttpPart({ seconds, warmupSeconds: warmup, profile: values.profile })
            : part === 'search'
              ? await runSearchPart(api)
              : part === 'usage'
                ? await runUsagePart(api)
                : part === 'hierarchy'
                  ? await runHierarchyPart(api)
                  : part === 'events'
                    ? await runEventsPart(api)
                    : part === 'live'
                      ? await runLivePart(live)
                      : part === 'connections'
                        ? await runConnectionsPart(connections)
                        : await runIncrementalPart({ sizeMb, appends, seed })
      rows.push(...outcome.rows)
      if (outcome.details.length) details.push(`## ${part}`, '', ...outcome.details.flatMap((d) => [d, '']))
      // each detail is a paragraph (or a whole table) of Markdown
    } catch (e) {
      failed = true
      const message = (e as Error).stack ?? String(e)
      log(`${part} failed: ${message}`)
      rows.push({
        part,
        figure: 'part failed',
        ours: '—',
        floor: '—',
        ratio: '—',
        target: '—',
        verdict: 'FAIL',
        note: (e as Error).message.slice(0, 300),
      })
    }
    log(`${part}: done in ${((performance.now() - t) / 1000).toFixed(0)} s`)
  }
} finally {
  await cleanupAll()
}

const m = machineInfo()
const report = [
  '# Observatory benchmarks',
  '',
  `- date: ${started.toISOString()}, the run took ${fmt((Date.now() - started.getTime()) / 60_000)} min`,
  `- machine: ${m.cpu}, ${m.cores} cores, ${m.memory} memory`,
  `- OS: ${m.os}`,
  `- Bun ${m.bun}`,
  `- command: \`${command}\``,
  `- parts: ${parts.join(', ')}`,
  '',
  'Each figure beside its floor measured in the same run (raw bun:sqlite inserts of the same lines or events; a bare',
  "`Bun.serve` answering a constant JSON; for the read routes, the app's own service call in one process without HTTP;",
  'for appends, reading and parsing the appended lines), the ratio ours / floor, the target, and PASS or MISS. INFO',
  'rows have no target.',
  '',
  table(rows),
  '',
  ...details,
].join('\n')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(out, `${report.trimEnd()}\n`)
console.log(table(rows))
log(`report written to ${relative(process.cwd(), out) || out}`)
process.exit(failed ? 1 : 0)
