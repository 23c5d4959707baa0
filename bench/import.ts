/**
 * Part `import`: throughput of importFile against raw bun:sqlite inserts of the same lines (the floor), peak RSS while
 * importing a large corpus, and ccusage over the same corpus (time, peak RSS, token totals).
 */
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { cpuProfileDetails, profilesDir } from './cpuprofile'
import { generateCorpus, type Manifest } from './generate'
import type { WorkerResult } from './import-worker'
import {
  boundRow,
  fmt,
  fmtInt,
  infoRow,
  log,
  mb,
  type Row,
  ratioRow,
  removeDir,
  repoRoot,
  runChild,
  runJsonChild,
  tempDir,
} from './lib'

export const CCUSAGE_VERSION = '20.0.24'
const IMPORT_RATIO_TARGET = 0.5
const RSS_TARGET_MB = 512

export type ImportOptions = { sizeMb: number; rssGb: number; seed: number; profile: boolean }
export type ImportOutcome = { rows: Row[]; details: string[] }

const worker = join(repoRoot, 'bench/import-worker.ts')
type Tokens = { input: number; output: number; cacheCreation: number; cacheRead: number }
const totalOf = (t: Tokens) => t.input + t.output + t.cacheCreation + t.cacheRead

async function runWorker(
  mode: 'floor' | 'ours',
  corpus: string,
  dir: string,
  label: string,
  { profile = false, bunFlags = [] as string[] } = {},
) {
  const db = join(dir, `${label}.db`)
  log(`import: ${label} (${mode}) ...`)
  try {
    const run = await runJsonChild<WorkerResult>(
      [process.execPath, ...bunFlags, worker, mode, corpus, db, ...(profile ? ['--profile'] : [])],
      { label: `import worker (${label})` },
    )
    const r = run.result
    log(
      `import: ${label}: ${fmt(r.seconds, 2)} s, ${fmt(mb(r.bytes) / r.seconds)} MB/s, ${fmtInt(r.lines / r.seconds)} lines/s, peak RSS ${fmt(mb(Math.max(run.peakRss, r.hwm)))} MB`,
    )
    return { ...r, peakRss: Math.max(run.peakRss, r.hwm) }
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true })
  }
}

/** The ccusage binary, installed on first use into a cache folder outside the repo; or why it could not be. */
async function ccusageBinary(): Promise<{ bin: string } | { error: string }> {
  const dir = join(homedir(), '.cache', 'observatory-bench', `ccusage-${CCUSAGE_VERSION}`)
  const platformPackage = `@ccusage/ccusage-${process.platform}-${process.arch}`
  const bin = join(dir, 'node_modules', platformPackage, 'bin', 'ccusage')
  if (!existsSync(bin)) {
    log(`ccusage: installing ccusage@${CCUSAGE_VERSION} into ${dir} ...`)
    mkdirSync(dir, { recursive: true })
    try {
      await runChild(['npm', 'i', '--prefix', dir, `ccusage@${CCUSAGE_VERSION}`, '--no-audit', '--no-fund'], {
        label: 'npm install ccusage',
        cwd: dir,
      })
    } catch (e) {
      return { error: `could not install ccusage@${CCUSAGE_VERSION}: ${(e as Error).message.split('\n')[0]}` }
    }
    if (!existsSync(bin)) return { error: `ccusage@${CCUSAGE_VERSION} installed without ${platformPackage}` }
  }
  chmodSync(bin, 0o755) // the platform package ships its binary without the executable bit
  return { bin }
}

type CcusageRun = { seconds: number; peakRss: number; tokens: Tokens; totalTokens: number }

async function runCcusage(bin: string, corpus: string): Promise<CcusageRun> {
  // an empty HOME, so ccusage finds no other agent's data and no config of this machine
  const home = tempDir('ccusage-home')
  const { stdout, peakRss, seconds } = await runChild([bin, 'daily', '--json', '--offline'], {
    label: 'ccusage',
    exactRss: true,
    cwd: home,
    env: { PATH: process.env.PATH, HOME: home, CLAUDE_CONFIG_DIR: corpus, TZ: 'UTC', NO_COLOR: '1' },
  })
  removeDir(home)
  const totals = (JSON.parse(stdout) as { totals: Record<string, number> }).totals
  const tokens = {
    input: totals.inputTokens ?? 0,
    output: totals.outputTokens ?? 0,
    cacheCreation: totals.cacheCreationTokens ?? 0,
    cacheRead: totals.cacheReadTokens ?? 0,
  }
  return { seconds, peakRss, tokens, totalTokens: totals.totalTokens ?? totalOf(tokens) }
}

function tokenCheck(label: string, ours: Tokens | undefined, theirs: Tokens, manifest: Manifest): Row {
  const expected: Tokens = manifest.totals
  const kinds = ['input', 'output', 'cacheCreation', 'cacheRead'] as const
  const differs = (a: Tokens | undefined, b: Tokens) => kinds.filter((k) => a?.[k] !== b[k])
  const vsCcusage = differs(ours, theirs)
  const vsTruth = differs(ours, expected)
  const ok = vsCcusage.length === 0 && vsTruth.length === 0
  const detail = (which: string, d: (typeof kinds)[number][], other: Tokens) =>
    d.length
      ? `${which} differs in ${d.map((k) => `${k} (ours ${fmtInt(ours?.[k] ?? 0)}, ${which} ${fmtInt(other[k])})`).join(', ')}`
      : ''
  return {
    part: 'import',
    figure: `total tokens, ours vs ccusage (${label})`,
    ours: fmtInt(ours ? totalOf(ours) : Number.NaN),
    floor: `ccusage ${fmtInt(totalOf(theirs))}`,
    ratio: '—',
    target: 'equal (and = generator truth)',
    verdict: ok ? 'PASS' : 'FAIL',
    note: ok
      ? `match in all four kinds; generator truth ${fmtInt(totalOf(expected))}`
      : [detail('ccusage', vsCcusage, theirs), detail('generator truth', vsTruth, expected)].filter(Boolean).join('; '),
  }
}

function profileDetails(r: WorkerResult): string[] {
  if (!r.profile) return []
  const total = r.seconds * 1000
  const repoMs = Object.values(r.profile.repo).reduce((n, v) => n + v.ms, 0)
  const sqlMs = r.profile.sql.reduce((n, s) => n + s.ms, 0)
  const out = [
    `### Import profile (ours, ${fmt(mb(r.bytes), 0)} MB corpus, timed sections)`,
    '',
    `Total ${fmt(total / 1000, 2)} s. Repository calls ${fmt(repoMs / 1000, 2)} s (${fmt((100 * repoMs) / total, 0)} %), ` +
      `of which SQL statements ${fmt(sqlMs / 1000, 2)} s; outside the repository (read, parse, normalise, plan, hash) ` +
      `${fmt((total - repoMs) / 1000, 2)} s (${fmt((100 * (total - repoMs)) / total, 0)} %).`,
    `applyChunk minus every timed statement: ${fmt(((r.profile.repo.applyChunk?.ms ?? 0) - sqlMs) / 1000, 2)} s, an ` +
      'upper bound on BEGIN/COMMIT (with the WAL checkpoints they trigger) plus the JS inside the transaction.',
    '',
    '| repository call | calls | s | % of import |',
    '|---|---|---|---|',
    ...Object.entries(r.profile.repo)
      .filter(([, v]) => v.calls > 0)
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([k, v]) => `| ${k} | ${fmtInt(v.calls)} | ${fmt(v.ms / 1000, 2)} | ${fmt((100 * v.ms) / total, 1)} |`),
    '',
    '| SQL statement | calls | s | % of import |',
    '|---|---|---|---|',
    ...r.profile.sql
      .slice(0, 12)
      .map(
        (s) =>
          `| \`${s.sql.slice(0, 90).replaceAll('|', '\\|')}${s.sql.length > 90 ? '…' : ''}\` | ${fmtInt(s.calls)} | ${fmt(s.ms / 1000, 2)} | ${fmt((100 * s.ms) / total, 1)} |`,
      ),
  ]
  return out
}

export async function runImportPart(opts: ImportOptions): Promise<ImportOutcome> {
  const rows: Row[] = []
  const details: string[] = []
  const dir = tempDir('import')

  // --- (a) + (b): floor and ours on the same corpus ---
  const corpus = join(dir, `corpus-${opts.sizeMb}mb`)
  log(`import: generating a ${opts.sizeMb} MB corpus (seed ${opts.seed}) ...`)
  const manifest = generateCorpus({ root: corpus, sizeMb: opts.sizeMb, seed: opts.seed })
  log(
    `import: ${fmtInt(manifest.files)} files, ${fmtInt(manifest.lines)} lines, ${fmt(mb(manifest.bytes))} MB, ${manifest.sessions} sessions`,
  )
  // the floor runs before and after ours; the faster run is the floor (the stricter comparison)
  const floorA = await runWorker('floor', corpus, dir, 'floor-1')
  const mine = await runWorker('ours', corpus, dir, 'ours')
  const floorB = await runWorker('floor', corpus, dir, 'floor-2')
  const floor = floorA.seconds <= floorB.seconds ? floorA : floorB
  const size = `${fmt(mb(manifest.bytes), 0)} MB corpus`
  const corpusNote = `${fmtInt(manifest.files)} files, ${fmtInt(manifest.lines)} lines; floor = faster of 2 runs (${fmt(floorA.seconds, 2)} s, ${fmt(floorB.seconds, 2)} s)`
  rows.push(
    ratioRow(
      'import',
      `import throughput, ${size}`,
      mb(mine.bytes) / mine.seconds,
      mb(floor.bytes) / floor.seconds,
      'MB/s',
      IMPORT_RATIO_TARGET,
      corpusNote,
    ),
    ratioRow(
      'import',
      `import lines/s, ${size}`,
      mine.lines / mine.seconds,
      floor.lines / floor.seconds,
      'lines/s',
      IMPORT_RATIO_TARGET,
      undefined,
      0,
    ),
    infoRow('import', `import time, ${size}`, `${fmt(mine.seconds, 2)} s`, {
      floor: `${fmt(floor.seconds, 2)} s`,
      note: `${fmtInt(mine.messages ?? 0)} messages, ${fmtInt(mine.conversations ?? 0)} conversations; database ${fmt(mb(mine.dbBytes ?? 0), 0)} MB (floor's ${fmt(mb(floor.dbBytes ?? 0), 0)} MB)`,
    }),
    infoRow('import', `peak RSS, import ${size}`, `${fmt(mb(mine.peakRss), 0)} MB`, {
      floor: `${fmt(mb(floor.peakRss), 0)} MB`,
    }),
  )
  if (opts.profile) {
    const profiled = await runWorker('ours', corpus, dir, 'ours-profiled', { profile: true })
    details.push(profileDetails(profiled).join('\n'))
    // a second run under the CPU profiler (without the statement timers, which would distort it)
    mkdirSync(profilesDir, { recursive: true })
    const name = `import-ours-${opts.sizeMb}mb.cpuprofile`
    await runWorker('ours', corpus, dir, 'ours-cpuprofile', {
      bunFlags: ['--cpu-prof', `--cpu-prof-dir=${profilesDir}`, `--cpu-prof-name=${name}`],
    })
    details.push(cpuProfileDetails(join(profilesDir, name), 'ours (import)').join('\n'))
  }

  // --- (d) ccusage on the same corpus ---
  const cc = await ccusageBinary()
  if ('error' in cc) {
    rows.push({
      ...infoRow('import', `ccusage ${CCUSAGE_VERSION} daily --json --offline`, 'not run'),
      verdict: 'SKIP',
      note: cc.error,
    })
  } else {
    log('import: ccusage daily --json --offline ...')
    const c = await runCcusage(cc.bin, corpus)
    log(`import: ccusage: ${fmt(c.seconds, 2)} s, peak RSS ${fmt(mb(c.peakRss))} MB, ${fmtInt(c.totalTokens)} tokens`)
    rows.push(
      infoRow('import', `ccusage ${CCUSAGE_VERSION} daily time, ${size}`, `${fmt(mine.seconds, 2)} s (our import)`, {
        floor: `ccusage ${fmt(c.seconds, 2)} s`,
        note: 'ccusage only reads and sums; our import also stores every line, message, tool call and the full-text index',
      }),
      infoRow('import', `ccusage peak RSS, ${size}`, `${fmt(mb(mine.peakRss), 0)} MB (our import)`, {
        floor: `ccusage ${fmt(mb(c.peakRss), 0)} MB`,
      }),
      tokenCheck(size, mine.tokens, c.tokens, manifest),
    )
  }
  removeDir(corpus)

  // --- (c) peak RSS on a large corpus ---
  if (opts.rssGb > 0) {
    const bigMb = Math.round(opts.rssGb * 1024)
    const big = join(dir, `corpus-${bigMb}mb`)
    log(`import: generating a ${bigMb} MB corpus for the RSS run ...`)
    const bigManifest = generateCorpus({ root: big, sizeMb: bigMb, seed: opts.seed + 1 })
    const large = await runWorker('ours', big, dir, 'ours-rss')
    const bigSize = `${fmt(mb(bigManifest.bytes) / 1024, 2)} GB corpus`
    rows.push(
      boundRow('import', `peak RSS, import ${bigSize}`, mb(large.peakRss), 'MB', RSS_TARGET_MB, {
        note: `VmHWM/VmRSS sampled every 100 ms; ${fmt(mb(large.bytes) / large.seconds)} MB/s, ${fmtInt(large.lines / large.seconds)} lines/s over ${fmt(large.seconds, 1)} s`,
      }),
    )
    if (!('error' in cc)) {
      const c = await runCcusage(cc.bin, big)
      rows.push(
        infoRow(
          'import',
          `ccusage time / peak RSS, ${bigSize}`,
          `ours ${fmt(large.seconds, 1)} s / ${fmt(mb(large.peakRss), 0)} MB`,
          {
            floor: `ccusage ${fmt(c.seconds, 1)} s / ${fmt(mb(c.peakRss), 0)} MB`,
          },
        ),
        tokenCheck(bigSize, large.tokens, c.tokens, bigManifest),
      )
    }
    removeDir(big)
  }
  removeDir(dir)
  return { rows, details }
}
