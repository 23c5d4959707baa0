import { MultiBar, type SingleBar } from 'cli-progress'
import type { Transcript } from './discover'
import type { FileOutcome, FileProgress } from './target'

const PLAIN_EVERY_MS = 5000
const SKIPPED_SHOWN = 3

export const count = (n: number) => n.toLocaleString('en-US')

export const plural = (n: number, noun: string) => `${count(n)} ${noun}${n === 1 ? '' : 's'}`

export function bytes(n: number) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}

export function duration(ms: number) {
  if (!Number.isFinite(ms)) return '?'
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** One line about what an import of a file added. */
export function describeOutcome(o: FileOutcome) {
  if (o.messagesAdded === 0 && o.toolCallsAdded === 0 && o.linesSkipped === 0) return 'nothing new'
  const parts = [`+${plural(o.messagesAdded, 'message')}`, `+${plural(o.toolCallsAdded, 'tool call')}`]
  if (o.linesSkipped > 0) parts.push(`${plural(o.linesSkipped, 'line')} skipped`)
  return parts.join(', ')
}

/** The first few skipped lines of a file, as `file:line: reason: message`. */
export function describeSkipped(file: Transcript, o: FileOutcome): string[] {
  const lines = o.skipped
    .slice(0, SKIPPED_SHOWN)
    .map((s) => `  ${file.displayName}:${s.line}: ${s.reason}: ${s.message.slice(0, 200)}`)
  const more = o.linesSkipped - Math.min(o.skipped.length, SKIPPED_SHOWN)
  if (more > 0) lines.push(`  ${file.displayName}: ${count(more)} more skipped lines`)
  return lines
}

export type Reporter = {
  begin(files: Transcript[]): void
  fileStart(file: Transcript): void
  fileProgress(file: Transcript, p: FileProgress): void
  fileDone(file: Transcript, outcome: FileOutcome): void
  fileFailed(file: Transcript, error: string): void
  /** a message that must not be lost under the bar */
  log(line: string): void
  end(): void
}

type Stream = NodeJS.WriteStream

/**
 * Progress on stderr: a bar (bytes done of total, lines/s, ETA) when it is a terminal, else plain lines, one per file
 * finished and one every few seconds while a long file runs, so logs and CI output stay readable.
 */
export function createReporter(stream: Stream = process.stderr, tty = !!stream.isTTY): Reporter {
  let files: Transcript[] = []
  let total = 0
  let finishedBytes = 0 // sizes of the files done
  let current = 0 // bytes done in the file running now
  let lines = 0 // lines read this run
  let fileLines = 0
  let index = 0
  let started = 0
  let lastPlain = 0

  const rates = () => {
    const elapsed = Math.max(1, performance.now() - started)
    const done = Math.min(total, finishedBytes + current)
    const byteRate = done / elapsed
    return {
      done,
      linesPerSecond: Math.round(((lines + fileLines) * 1000) / elapsed),
      eta: byteRate > 0 ? (total - done) / byteRate : Number.POSITIVE_INFINITY,
    }
  }

  let multibar: MultiBar | null = null
  let bar: SingleBar | null = null
  const payload = (file: Transcript | null) => {
    const r = rates()
    const name = file?.displayName ?? ''
    return {
      done: bytes(r.done),
      size: bytes(total),
      lps: count(r.linesPerSecond),
      etaText: duration(r.eta),
      file: name.length > 40 ? `…${name.slice(-39)}` : name,
      files: `${index}/${files.length}`,
    }
  }
  const redraw = (file: Transcript | null) => bar?.update(Math.min(total, finishedBytes + current), payload(file))
  const write = (line: string) => {
    if (multibar) multibar.log(`${line}\n`)
    else stream.write(`${line}\n`)
  }

  return {
    begin(list) {
      files = list
      total = list.reduce((n, f) => n + f.size, 0)
      finishedBytes = 0
      current = 0
      lines = 0
      index = 0
      started = performance.now()
      lastPlain = started
      if (tty && list.length > 0) {
        multibar = new MultiBar({
          stream,
          format: ' {bar} {percentage}% | {done}/{size} | {lps} lines/s | ETA {etaText} | {files} {file}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          fps: 10,
          barCompleteChar: '█',
          barIncompleteChar: '░',
        })
        bar = multibar.create(Math.max(1, total), 0, payload(null))
      }
    },
    fileStart(file) {
      index++
      current = 0
      fileLines = 0
      redraw(file)
    },
    fileProgress(file, p) {
      current = Math.min(file.size, p.bytesDone)
      fileLines = p.linesDone
      if (bar) return redraw(file)
      const now = performance.now()
      if (now - lastPlain < PLAIN_EVERY_MS) return
      lastPlain = now
      const pct = file.size > 0 ? Math.floor((current * 100) / file.size) : 100
      const r = rates()
      stream.write(
        `[${index}/${files.length}] ${file.displayName}: ${pct}% (${bytes(current)} of ${bytes(file.size)}), ` +
          `${count(r.linesPerSecond)} lines/s, ETA ${duration(r.eta)}\n`,
      )
    },
    fileDone(file, outcome) {
      finishedBytes += file.size
      current = 0
      lines += outcome.linesDone
      fileLines = 0
      if (!bar) {
        lastPlain = performance.now()
        stream.write(`[${index}/${files.length}] ${file.displayName}: ${describeOutcome(outcome)}\n`)
      }
      for (const line of describeSkipped(file, outcome)) write(line)
      redraw(file)
    },
    fileFailed(file, error) {
      finishedBytes += file.size
      current = 0
      fileLines = 0
      write(`${bar ? '' : `[${index}/${files.length}] `}${file.displayName}: failed: ${error}`)
      redraw(file)
    },
    log: write,
    end() {
      multibar?.stop()
      multibar = null
      bar = null
    },
  }
}
