/**
 * Shared pieces of the benchmark suite: temp dirs and child processes that are always cleaned up, peak-RSS sampling
 * from /proc, machine facts, and the result rows every part reports.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs'
import { cpus, release, tmpdir, totalmem } from 'node:os'
import { join, relative, resolve } from 'node:path'
import type { Subprocess } from 'bun'

export const repoRoot = resolve(import.meta.dir, '..')

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every temp dir and child process is registered here and removed on exit, error or signal.

const cleanups: (() => void | Promise<void>)[] = []
const children = new Set<Subprocess>()

/** Registers something to undo when the run ends (last registered, first undone). */
export function onCleanup(fn: () => void | Promise<void>) {
  cleanups.push(fn)
}

/** A fresh temp dir, removed when the run ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `observatory-bench-${prefix}-`))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Removes a temp dir now (it stays registered; a second removal is a no-op). */
export function removeDir(dir: string) {
  rmSync(dir, { recursive: true, force: true })
}

/** Spawns a child that is killed when the run ends, if it is still running then. */
export function spawnChild(cmd: string[], options: Parameters<typeof Bun.spawn>[1] = {}): Subprocess {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', ...options })
  children.add(proc)
  void proc.exited.then(() => children.delete(proc))
  return proc
}

/** Stops a child by its pid: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(proc: Subprocess, graceMs = 5000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  proc.kill('SIGTERM')
  const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)])
  if (!exited) {
    proc.kill('SIGKILL')
    await proc.exited
  }
}

let cleaning: Promise<void> | null = null
/** Kills the children still running and runs the registered cleanups (once). */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c, 3000).catch(() => {})))
    for (const fn of cleanups.reverse()) {
      try {
        await fn()
      } catch (e) {
        console.error(`cleanup failed: ${(e as Error).message}`)
      }
    }
  })()
  return cleaning
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children and removing temp dirs`)
    void cleanupAll().finally(() => process.exit(130))
  })

// ---------------------------------------------------------------------------------------------------------------
// Memory: peak RSS of a child, sampled from /proc every 100 ms.

/** VmHWM (peak) and VmRSS of a process in bytes, from /proc/<pid>/status; null once it has gone. */
export function procMemory(pid: number | 'self'): { hwm: number; rss: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') }
  } catch {
    return null
  }
}

/** Samples a process's VmHWM/VmRSS every `everyMs` until stopped; `peak` is the largest value seen. */
export function sampleRss(pid: number, everyMs = 100) {
  let peak = 0
  let samples = 0
  const take = () => {
    const m = procMemory(pid)
    if (!m) return
    samples++
    peak = Math.max(peak, m.hwm, m.rss)
  }
  take()
  const timer = setInterval(take, everyMs)
  return {
    stop() {
      take()
      clearInterval(timer)
      return { peak, samples }
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Children that talk JSON on their last stdout line.

const GNU_TIME = '/usr/bin/time'

/**
 * Runs a child to completion, sampling its VmHWM/VmRSS every 100 ms; throws with its stderr if it fails. With
 * `exactRss` and GNU time installed, the child runs under `/usr/bin/time -f %M`, whose wait4 figure is exact (for a
 * short-lived child that 100 ms samples could miss).
 */
export async function runChild(
  cmd: string[],
  options: {
    env?: Record<string, string | undefined>
    cwd?: string
    label: string
    echoStderr?: boolean
    exactRss?: boolean
  },
): Promise<{ stdout: string; peakRss: number; seconds: number }> {
  const timed = options.exactRss && existsSync(GNU_TIME)
  const started = performance.now()
  const proc = spawnChild(timed ? [GNU_TIME, '-f', 'maxrss_kb=%M', ...cmd] : cmd, {
    env: options.env ?? process.env,
    cwd: options.cwd ?? repoRoot,
  })
  const sampler = sampleRss(proc.pid)
  const stderrChunks: string[] = []
  const stderr = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      const text = decoder.decode(chunk)
      stderrChunks.push(text)
      if (options.echoStderr) process.stderr.write(text)
    }
  })()
  const stdout = await new Response(proc.stdout as ReadableStream<Uint8Array>).text()
  const code = await proc.exited
  await stderr
  const { peak } = sampler.stop()
  const seconds = (performance.now() - started) / 1000
  const err = stderrChunks.join('')
  if (code !== 0) throw new Error(`${options.label} exited with ${code}: ${err.slice(-2000) || stdout.slice(-2000)}`)
  const exact = timed ? Number(err.match(/maxrss_kb=(\d+)\s*$/)?.[1] ?? 0) * 1024 : 0
  return { stdout, peakRss: timed && exact ? exact : peak, seconds }
}

/** Runs a child that prints its result as JSON on its last stdout line. */
export async function runJsonChild<T>(
  cmd: string[],
  options: Parameters<typeof runChild>[1],
): Promise<{ result: T; peakRss: number; seconds: number }> {
  const { stdout, peakRss, seconds } = await runChild(cmd, options)
  const last = stdout.trim().split('\n').at(-1) ?? ''
  try {
    return { result: JSON.parse(last) as T, peakRss, seconds }
  } catch {
    throw new Error(`${options.label} printed no JSON result: ${stdout.slice(-1000)}`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Servers: the port a child listens on, found from /proc (works with PORT=0 and no log line).

function listeningInodes(pid: number): Set<string> {
  const inodes = new Set<string>()
  let fds: string[] = []
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return inodes
  }
  for (const fd of fds) {
    try {
      const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/)
      if (m) inodes.add(m[1] as string)
    } catch {}
  }
  return inodes
}

/** The TCP port a process listens on (IPv4 or IPv6), or null while it has none. */
export function listeningPort(pid: number): number | null {
  const inodes = listeningInodes(pid)
  if (inodes.size === 0) return null
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/)
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is column 10
      if (cols[3] === '0A' && inodes.has(cols[9] ?? '')) return Number.parseInt(cols[1]?.split(':')[1] ?? '', 16)
    }
  }
  return null
}

/** Waits for a child to listen; throws with its output if it exits first or takes longer than `timeoutMs`. */
export async function waitForPort(proc: Subprocess, label: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      const err = proc.stderr instanceof ReadableStream ? await new Response(proc.stderr).text() : ''
      throw new Error(`${label} exited (${proc.exitCode}) before listening: ${err.slice(-2000)}`)
    }
    const port = listeningPort(proc.pid)
    if (port) return port
    await Bun.sleep(50)
  }
  throw new Error(`${label} did not listen within ${timeoutMs} ms`)
}

/** Counts the sockets a process holds open (its connections, plus the listening one), from /proc/<pid>/fd. */
export function openSockets(pid: number): number {
  let n = 0
  let fds: string[] = []
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return 0
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++
    } catch {}
  }
  return n
}

/**
 * A command run with the open-file limit raised (to 65,536, else to the hard limit), for a process that holds
 * thousands of sockets: `bash -c 'ulimit -n …; exec "$@"'`, so the pid stays the command's own.
 */
export function withFdLimit(cmd: string[]): string[] {
  return [
    'bash',
    '-c',
    'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
    'bash',
    ...cmd,
  ]
}

/** Reads a child's stream and throws it away, so a chatty child never blocks on a full pipe. */
export function drain(stream: unknown) {
  if (stream instanceof ReadableStream) void new Response(stream).arrayBuffer().catch(() => {})
}

// ---------------------------------------------------------------------------------------------------------------
// Files.

/** Every *.jsonl under a folder, a session's main file right before its subagent files. */
export function transcriptFiles(root: string): { path: string; rel: string; bytes: number }[] {
  const out: { path: string; rel: string; bytes: number }[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.jsonl')) out.push({ path: p, rel: relative(root, p), bytes: statSync(p).size })
    }
  }
  walk(root)
  // "<s>.jsonl" sorts as "<s>\0", before "<s>/subagents/..."
  const key = (rel: string) => rel.replace(/\.jsonl$/, '\0')
  return out.sort((a, b) => (key(a.rel) < key(b.rel) ? -1 : key(a.rel) > key(b.rel) ? 1 : 0))
}

// ---------------------------------------------------------------------------------------------------------------
// Machine and formatting.

export function machineInfo() {
  const cpu = cpus()
  let model = cpu[0]?.model ?? 'unknown'
  try {
    model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? model
  } catch {}
  let distro = ''
  try {
    distro = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?$/m)?.[1] ?? ''
  } catch {}
  return {
    cpu: model,
    cores: navigator.hardwareConcurrency || cpu.length,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
    os: `${distro ? `${distro}, ` : ''}${process.platform} ${release()} ${process.arch}`,
  }
}

export const mb = (bytes: number) => bytes / 1024 / 1024
export const fmt = (n: number, digits = 1) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—'
export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—')

// ---------------------------------------------------------------------------------------------------------------
// Report rows.

export type Verdict = 'PASS' | 'MISS' | 'INFO' | 'FAIL' | 'SKIP'

/** One figure of the report: ours beside its floor (if it has one), their ratio, the target and the verdict. */
export type Row = {
  part: string
  figure: string
  ours: string
  floor: string
  ratio: string
  target: string
  verdict: Verdict
  note?: string
}

/** A row compared to its same-run floor: `ours / floor` must reach `min`. */
export function ratioRow(
  part: string,
  figure: string,
  ours: number,
  floor: number,
  unit: string,
  min: number,
  note?: string,
  digits = 1,
): Row {
  const ratio = ours / floor
  return {
    part,
    figure,
    ours: `${fmt(ours, digits)} ${unit}`,
    floor: `${fmt(floor, digits)} ${unit}`,
    ratio: fmt(ratio, 2),
    target: `≥ ${min}`,
    verdict: ratio >= min ? 'PASS' : 'MISS',
    note,
  }
}

/** A row with an absolute bound (no floor), e.g. a latency or a memory ceiling. */
export function boundRow(
  part: string,
  figure: string,
  value: number,
  unit: string,
  max: number,
  extra: Partial<Row> = {},
): Row {
  return {
    part,
    figure,
    ours: `${fmt(value)} ${unit}`,
    floor: '—',
    ratio: '—',
    target: `< ${max} ${unit}`,
    verdict: value < max ? 'PASS' : 'MISS',
    ...extra,
  }
}

export function infoRow(part: string, figure: string, ours: string, extra: Partial<Row> = {}): Row {
  return { part, figure, ours, floor: '—', ratio: '—', target: '—', verdict: 'INFO', ...extra }
}

/** A Markdown table of rows (the note column only when some row has a note). */
export function table(rows: Row[]): string {
  const withNotes = rows.some((r) => r.note)
  const head = ['part', 'figure', 'ours', 'floor', 'ratio', 'target', 'result', ...(withNotes ? ['note'] : [])]
  const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const r of rows)
    lines.push(
      `| ${[r.part, r.figure, r.ours, r.floor, r.ratio, r.target, r.verdict, ...(withNotes ? [r.note ?? ''] : [])]
        .map(esc)
        .join(' | ')} |`,
    )
  return lines.join('\n')
}

/** Logs progress to stderr, so stdout keeps only the report table. */
export const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)
