/**
 * The benchmark suite, run on demand (not part of the tests):
 *
 *   bun bench/index.ts [import] [http] [--size-mb 200] [--rss-gb 1] [--seed 42] [--profile]
 *                      [--seconds 10] [--warmup 2] [--out bench/out/BENCHMARKS.md]
 *
 * Every figure is reported beside a floor measured in the same run on the same machine (raw bun:sqlite inserts, a
 * bare Bun.serve), as a ratio with its target, because the machines are shared and noisy. Writes a Markdown report
 * and prints its table. Temp dirs and child processes are removed on exit, on error and on Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runHttpPart } from './http'
import { CCUSAGE_VERSION, runImportPart } from './import'
import { cleanupAll, log, machineInfo, type Row, repoRoot, table } from './lib'

const PARTS = ['import', 'http'] as const
type Part = (typeof PARTS)[number]

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'size-mb': { type: 'string', default: '200' },
    'rss-gb': { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    profile: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

const usage = `usage: bun bench/index.ts [${PARTS.join('] [')}] [--size-mb 200] [--rss-gb 1] [--seed 42] [--profile]
                          [--seconds 10] [--warmup 2] [--out FILE]
  import   import throughput vs raw bun:sqlite inserts, peak RSS on --rss-gb GB (0 skips it), ccusage ${CCUSAGE_VERSION} beside it
  http     GET /health vs a bare Bun.serve; conversation and message lists p99 at 64 connections
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
const seconds = number('seconds')
const warmup = number('warmup')
const out = resolve(values.out ?? `${repoRoot}/bench/out/BENCHMARKS.md`)
const command = `bun bench/index.ts ${process.argv.slice(2).join(' ')}`.trim()

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
          : await runHttpPart({ seconds, warmupSeconds: warmup, profile: values.profile })
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
  `- date: ${started.toISOString()}`,
  `- machine: ${m.cpu}, ${m.cores} cores, ${m.memory} memory, ${m.os}`,
  `- Bun ${m.bun}`,
  `- command: \`${command}\``,
  '',
  'Each figure beside its floor measured in the same run (raw bun:sqlite inserts of the same lines; a bare `Bun.serve`',
  'answering a constant JSON), the ratio ours / floor, the target, and PASS or MISS. INFO rows have no target.',
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
