import { type FSWatcher, type Stats, statSync, watch } from 'node:fs'
import { resolve } from 'node:path'
import type { ImportOptions } from './args'
import { findTranscripts, type Transcript } from './discover'
import { CliError, messageOf, Stopped, Unreachable } from './errors'
import {
  addOutcome,
  emptyPass,
  formatSummary,
  importAll,
  importOne,
  listenForStop,
  openTarget,
  resolveRoots,
  summarize,
} from './import'
import { createReporter, describeOutcome, describeSkipped, type Reporter } from './progress'

/** The safety net under fs.watch (which can miss events, or be unavailable): a stat of every known file and folder. */
const POLL_MS = 300
/** fs.watch fires several events per write: one look a moment later covers them all. */
const EVENT_DELAY_MS = 20
const RETRY_FAILED_MS = 5000

const statOrNull = (path: string): Stats | null => {
  try {
    return statSync(path)
  } catch {
    return null
  }
}

const clock = () => new Date().toTimeString().slice(0, 8)

/**
 * `observatory watch [paths…]`: imports everything once, then follows the files as they grow and new ones appear,
 * importing only what was appended (the import resumes from the stored offset). One import at a time, so a file is
 * never imported twice at once. SIGINT/SIGTERM: the running import stops after its chunk and the database is closed.
 */
export async function runWatch(opts: ImportOptions, reporter: Reporter = createReporter()): Promise<number> {
  const roots = resolveRoots(opts.paths).map((p) => resolve(p))
  const scan = await findTranscripts(roots)
  for (const w of scan.warnings) reporter.log(`warning: ${w}`)
  const target = await openTarget(opts)
  const stop = listenForStop()
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const watchers: FSWatcher[] = []
  let timer: ReturnType<typeof setInterval> | undefined
  try {
    const startedAt = performance.now()
    const first = await importAll(target, scan.files, reporter, stop)
    const summary = await summarize(target, first, startedAt)
    out(opts.json ? JSON.stringify({ event: 'initial', ...summary }) : formatSummary(summary))
    if (stop.requested) return 0

    const files = new Map<string, Transcript>()
    /** size and mtime of each file when it was last imported: a file is imported again only when they change */
    const imported = new Map<string, { size: number; mtimeMs: number }>()
    const retryAt = new Map<string, number>()
    const failed = new Set(first.failed.map((f) => f.file))
    for (const f of scan.files) {
      files.set(f.path, f)
      if (failed.has(f.displayName)) retryAt.set(f.path, Date.now() + RETRY_FAILED_MS)
      else imported.set(f.path, { size: f.size, mtimeMs: f.mtimeMs })
    }
    let dirs = scan.dirs
    let rescan = false
    let fatal: Error | null = null
    const queue = new Set<string>()

    const importPath = async (path: string) => {
      const file = files.get(path)
      const st = statOrNull(path)
      if (!file || !st) return
      file.size = st.size
      file.mtimeMs = st.mtimeMs
      try {
        const outcome = await importOne(target, file, stop)
        imported.set(path, { size: st.size, mtimeMs: st.mtimeMs })
        retryAt.delete(path)
        if (outcome.messagesAdded === 0 && outcome.toolCallsAdded === 0 && outcome.linesSkipped === 0) return
        if (opts.json) {
          const pass = emptyPass()
          addOutcome(pass, file, outcome)
          out(
            JSON.stringify({
              event: 'import',
              time: new Date().toISOString(),
              file: file.displayName,
              conversations: outcome.conversationIds,
              messages_added: outcome.messagesAdded,
              tool_calls_added: outcome.toolCallsAdded,
              lines_skipped: outcome.linesSkipped,
              skipped: pass.skipped,
            }),
          )
        } else {
          out(`${clock()} ${file.displayName}: ${describeOutcome(outcome)}`)
          for (const line of describeSkipped(file, outcome)) reporter.log(line)
        }
      } catch (e) {
        if (e instanceof Stopped) return
        if (e instanceof CliError && !(e instanceof Unreachable)) {
          fatal = e
          stop.request()
          return
        }
        // the server may be restarting, the file may be mid-rotation: try again a little later
        retryAt.set(path, Date.now() + RETRY_FAILED_MS)
        reporter.log(`${clock()} ${file.displayName}: failed: ${messageOf(e)} (retrying in ${RETRY_FAILED_MS / 1000}s)`)
      }
    }

    let draining: Promise<void> | null = null
    const drain = () => {
      draining ??= (async () => {
        try {
          for (let next = queue.values().next(); !next.done && !stop.requested; next = queue.values().next()) {
            queue.delete(next.value)
            await importPath(next.value)
          }
        } finally {
          draining = null
        }
      })()
      return draining
    }

    let polling = false
    let pollAgain = false
    const poll = async () => {
      if (stop.requested) return
      if (polling) {
        pollAgain = true
        return
      }
      polling = true
      try {
        do {
          pollAgain = false
          for (const [dir, mtimeMs] of dirs) {
            if (statOrNull(dir)?.mtimeMs !== mtimeMs) rescan = true
            if (rescan) break
          }
          if (rescan) {
            rescan = false
            try {
              const next = await findTranscripts(roots)
              dirs = next.dirs
              for (const f of next.files) if (!files.has(f.path)) files.set(f.path, f)
            } catch {
              // a root went away: keep following what is left; it is looked for again on the next change
            }
          }
          const now = Date.now()
          for (const path of files.keys()) {
            const st = statOrNull(path)
            if (!st) {
              files.delete(path)
              imported.delete(path)
              continue
            }
            const last = imported.get(path)
            if (last && last.size === st.size && last.mtimeMs === st.mtimeMs) continue
            if ((retryAt.get(path) ?? 0) > now) continue
            queue.add(path)
          }
        } while (pollAgain && !stop.requested)
      } finally {
        polling = false
      }
      if (queue.size > 0) void drain()
    }

    let pending: ReturnType<typeof setTimeout> | undefined
    const onEvent = (event: string) => {
      if (event === 'rename') rescan = true
      pending ??= setTimeout(() => {
        pending = undefined
        void poll()
      }, EVENT_DELAY_MS)
    }
    for (const root of roots) {
      try {
        const w = watch(root, { recursive: true }, onEvent)
        w.on('error', () => {}) // e.g. out of inotify watches: the poll carries on alone
        watchers.push(w)
      } catch {
        // not supported here: the poll carries on alone
      }
    }
    timer = setInterval(() => void poll(), POLL_MS)
    reporter.log(`watching ${files.size} file${files.size === 1 ? '' : 's'} in ${roots.join(', ')} (Ctrl-C to stop)`)

    await stop.wait
    if (pending) clearTimeout(pending)
    await draining
    if (fatal) throw fatal
    reporter.log('stopped')
    return 0
  } finally {
    if (timer) clearInterval(timer)
    for (const w of watchers) w.close()
    stop.dispose()
    await target.close()
  }
}
