import { statSync } from 'node:fs'
import { loadConfig } from '../config'
import { usd } from '../lib/pricing'
import type { ImportOptions } from './args'
import { defaultRoots, findTranscripts, type Transcript } from './discover'
import { CliError, messageOf, Stopped } from './errors'
import { openLocalTarget } from './local'
import { count, createReporter, duration, type Reporter } from './progress'
import { openRemoteTarget } from './remote'
import type { FileOutcome, FileProgress, SkippedLine, Target } from './target'

const SKIPPED_PER_FILE = 3

/** Set by SIGINT/SIGTERM: imports stop after the chunk being written, which the next run continues from. */
export type Stop = { requested: boolean; wait: Promise<void>; request(): void; dispose(): void }

export function listenForStop(): Stop {
  let release = () => {}
  const stop: Stop = {
    requested: false,
    wait: new Promise<void>((resolve) => {
      release = resolve
    }),
    request() {
      stop.requested = true
      release()
    },
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
  const handler = () => {
    // a second signal means: now
    if (stop.requested) process.exit(130)
    stop.request()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return stop
}

/** The folders and files to read: those given, else Claude Code's transcript folders that exist. */
export function resolveRoots(paths: string[], env: Record<string, string | undefined> = process.env) {
  if (paths.length > 0) return paths
  const { candidates, existing } = defaultRoots(env)
  if (existing.length === 0)
    throw new CliError(`no Claude Code transcripts folder found (looked in ${candidates.join(', ')}); name one`)
  return existing
}

export async function openTarget(opts: ImportOptions): Promise<Target> {
  if (opts.server) return openRemoteTarget({ server: opts.server, apiKey: opts.apiKey ?? '' })
  return openLocalTarget(loadConfig(), opts.user !== undefined ? { userEmail: opts.user } : {})
}

/** Imports one file; a stop request ends it after the current chunk (Stopped). */
export async function importOne(
  target: Target,
  file: Transcript,
  stop: Stop,
  onProgress: (p: FileProgress) => void = () => {},
) {
  let last: FileProgress | null = null
  try {
    return await target.importFile(file, (p) => {
      last = p
      onProgress(p)
      if (stop.requested) throw new Stopped()
    })
  } catch (e) {
    if (e instanceof Stopped) e.partial = last
    throw e
  }
}

export type Pass = {
  files: number
  failed: { file: string; error: string }[]
  conversationIds: Set<string>
  /** false once a destination could not say which conversations a file touched */
  conversationsKnown: boolean
  messagesAdded: number
  toolCallsAdded: number
  linesSkipped: number
  linesDone: number
  skipped: (SkippedLine & { file: string })[]
  interrupted: boolean
}

export const emptyPass = (): Pass => ({
  files: 0,
  failed: [],
  conversationIds: new Set(),
  conversationsKnown: true,
  messagesAdded: 0,
  toolCallsAdded: 0,
  linesSkipped: 0,
  linesDone: 0,
  skipped: [],
  interrupted: false,
})

export function addOutcome(pass: Pass, file: Transcript, o: FileOutcome) {
  pass.files++
  pass.messagesAdded += o.messagesAdded
  pass.toolCallsAdded += o.toolCallsAdded
  pass.linesSkipped += o.linesSkipped
  pass.linesDone += o.linesDone
  if (o.conversationIds) for (const id of o.conversationIds) pass.conversationIds.add(id)
  else pass.conversationsKnown = false
  for (const s of o.skipped.slice(0, SKIPPED_PER_FILE)) pass.skipped.push({ file: file.displayName, ...s })
}

/**
 * Imports the files one after another (a session's main file before its subagents, as sorted), reporting progress.
 * A file that cannot be read is reported and the others go on; an error of the destination itself (CliError) ends it.
 */
export async function importAll(target: Target, files: Transcript[], reporter: Reporter, stop: Stop): Promise<Pass> {
  const pass = emptyPass()
  reporter.begin(files)
  try {
    for (const file of files) {
      if (stop.requested) {
        pass.interrupted = true
        break
      }
      reporter.fileStart(file)
      try {
        // it may have grown since it was found; watch compares with this to see what changed after
        const st = statSync(file.path)
        file.size = st.size
        file.mtimeMs = st.mtimeMs
        const outcome = await importOne(target, file, stop, (p) => reporter.fileProgress(file, p))
        addOutcome(pass, file, outcome)
        reporter.fileDone(file, outcome)
      } catch (e) {
        if (e instanceof Stopped) {
          const p = e.partial
          if (p) addOutcome(pass, file, { ...p, conversationIds: [], skipped: [] })
          pass.interrupted = true
          break
        }
        if (e instanceof CliError) throw e
        pass.failed.push({ file: file.displayName, error: messageOf(e) })
        reporter.fileFailed(file, messageOf(e))
      }
    }
  } finally {
    reporter.end()
  }
  return pass
}

export type Summary = {
  mode: 'local' | 'remote'
  destination: string
  owner: string | null
  files: number
  files_failed: number
  /** conversations that got something from this import; null when the server does not say */
  conversations: number | null
  messages_added: number
  tool_calls_added: number
  lines_skipped: number
  lines_read: number
  /** tokens and cost of the conversations touched, as now stored; null when unknown */
  usage: {
    input_tokens: number
    output_tokens: number
    cache_creation_input_tokens: number
    cache_read_input_tokens: number
    total_tokens: number
  } | null
  cost_usd: number | null
  duration_ms: number
  interrupted: boolean
  skipped: { file: string; line: number; reason: string; message: string }[]
  failed: { file: string; error: string }[]
}

export async function summarize(target: Target, pass: Pass, startedAt: number): Promise<Summary> {
  const ids = [...pass.conversationIds]
  const totals = pass.conversationsKnown ? await target.totals(ids) : null
  return {
    mode: target.mode,
    destination: target.destination,
    owner: target.owner,
    files: pass.files,
    files_failed: pass.failed.length,
    conversations: pass.conversationsKnown ? ids.length : null,
    messages_added: pass.messagesAdded,
    tool_calls_added: pass.toolCallsAdded,
    lines_skipped: pass.linesSkipped,
    lines_read: pass.linesDone,
    usage: totals && {
      input_tokens: totals.inputTokens,
      output_tokens: totals.outputTokens,
      cache_creation_input_tokens: totals.cacheCreationTokens,
      cache_read_input_tokens: totals.cacheReadTokens,
      total_tokens: totals.inputTokens + totals.outputTokens + totals.cacheCreationTokens + totals.cacheReadTokens,
    },
    cost_usd: totals && usd(totals.costUsd),
    duration_ms: Math.round(performance.now() - startedAt),
    interrupted: pass.interrupted,
    skipped: pass.skipped,
    failed: pass.failed,
  }
}

export function formatSummary(s: Summary) {
  const into = s.mode === 'local' ? `into ${s.destination}` : `to ${s.destination}`
  const owner = s.owner ? ` as ${s.owner}` : ''
  const verb = s.interrupted ? 'Stopped after' : 'Imported'
  const rows: [string, string][] = [
    ['conversations touched', s.conversations === null ? 'unknown' : count(s.conversations)],
    ['messages added', count(s.messages_added)],
    ['tool calls added', count(s.tool_calls_added)],
    ['lines skipped', count(s.lines_skipped)],
  ]
  if (s.usage && s.conversations) {
    const u = s.usage
    rows.push([
      'tokens',
      `${count(u.input_tokens)} input, ${count(u.output_tokens)} output, ` +
        `${count(u.cache_creation_input_tokens)} cache writes, ${count(u.cache_read_input_tokens)} cache reads ` +
        '(in the conversations touched)',
    ])
  }
  if (s.cost_usd !== null && s.conversations) rows.push(['cost', `$${s.cost_usd.toFixed(2)}`])
  if (s.files_failed > 0) rows.push(['files failed', count(s.files_failed)])
  const width = Math.max(...rows.map(([k]) => k.length)) + 2
  return [
    `${verb} ${count(s.files)} file${s.files === 1 ? '' : 's'} ${into}${owner} in ${duration(s.duration_ms)}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`),
  ].join('\n')
}

/** `observatory import [paths…]`: 0 when every file was read (skipped lines included), 1 otherwise. */
export async function runImport(opts: ImportOptions, reporter: Reporter = createReporter()): Promise<number> {
  const startedAt = performance.now()
  const scan = await findTranscripts(resolveRoots(opts.paths))
  for (const w of scan.warnings) reporter.log(`warning: ${w}`)
  const target = await openTarget(opts)
  const stop = listenForStop()
  try {
    const pass = await importAll(target, scan.files, reporter, stop)
    const summary = await summarize(target, pass, startedAt)
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
    else process.stdout.write(`${formatSummary(summary)}\n`)
    if (scan.files.length === 0) reporter.log('no transcripts (*.jsonl) found')
    if (pass.interrupted) return 130
    return pass.failed.length > 0 ? 1 : 0
  } finally {
    stop.dispose()
    await target.close()
  }
}
