/**
 * Part `incremental`: one long transcript (`--size-mb`, the main file of one generated session) imported with
 * `bun src/cli.ts import` beside the running server, then followed by `bun src/cli.ts watch` on the same database.
 * `--appends` times, about 1 MB of new lines (the session going on, then a prompt holding a marker word) is appended
 * in one write, and the time from the end of the write until the API serves the last appended message is taken
 * (GET /api/conversations/:id/messages/:uuid polled every 10 ms); the marker must then be found by GET /api/search.
 * The floor: reading the same appended bytes back and JSON.parse of each line, in-process.
 */
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { type Outcome, observatory, seedData } from './api'
import type { SeededUser } from './api-seed'
import { generateMainFile } from './generate'
import { serverEnv } from './http'
import {
  boundRow,
  fmt,
  fmtInt,
  infoRow,
  log,
  mb,
  type Row,
  repoRoot,
  runChild,
  sampleRss,
  spawnChild,
  stopChild,
  tempDir,
} from './lib'
import { percentile } from './load'

export type IncrementalOptions = { sizeMb: number; appends: number; seed: number }

export const VISIBLE_TARGET_MS = 1000
const MIB = 1024 * 1024
const APPEND_BYTES = MIB
const POLL_MS = 10
const VISIBLE_TIMEOUT_MS = 60_000
const WATCH_READY_MS = 120_000
const SETTLE_MS = 1000
const cli = join(repoRoot, 'src/cli.ts')

type Append = { body: Buffer; lines: number; uuid: string; marker: string }

/** Writes the first `sizeMb` MB of one session into `dir` and cuts the rest into appends of about 1 MB each. */
function buildTranscript(dir: string, o: IncrementalOptions) {
  const { sessionId, lines } = generateMainFile({ chars: (o.sizeMb + o.appends * 1.5 + 1) * MIB, seed: o.seed })
  const path = join(dir, `${sessionId}.jsonl`)
  mkdirSync(dir, { recursive: true })
  const fd = openSync(path, 'w')
  let i = 0
  let bytes = 0
  try {
    let batch: string[] = []
    const flush = () => {
      if (batch.length) writeSync(fd, `${batch.join('\n')}\n`)
      batch = []
    }
    while (i < lines.length && bytes < o.sizeMb * MIB) {
      const line = lines[i++] as string
      batch.push(line)
      bytes += Buffer.byteLength(line) + 1
      if (batch.length >= 2000) flush()
    }
    flush()
  } finally {
    closeSync(fd)
  }
  const baseLines = i

  // the prompt the marker lines are modelled on: the session's first user line with a string content
  let template: Record<string, unknown> = {}
  for (const line of lines) {
    const o = JSON.parse(line)
    if (o.type === 'user' && typeof o.message?.content === 'string') {
      template = o
      break
    }
  }
  const appends: Append[] = []
  for (let a = 0; a < o.appends; a++) {
    const chunk: string[] = []
    let size = 0
    while (i < lines.length && size < APPEND_BYTES - 1024) {
      const line = lines[i++] as string
      chunk.push(line)
      size += Buffer.byteLength(line) + 1
    }
    if (size < APPEND_BYTES - 1024) throw new Error(`the generated session ran out of lines at append ${a + 1}`)
    let parent: { uuid?: string; timestamp?: string } = {}
    for (let j = chunk.length - 1; j >= 0 && !parent.uuid; j--) parent = JSON.parse(chunk[j] as string)
    const uuid = crypto.randomUUID()
    const marker = `incrmark${a}x${uuid.slice(0, 8)}`
    chunk.push(
      JSON.stringify({
        ...template,
        parentUuid: parent.uuid ?? null,
        uuid,
        timestamp: new Date(Date.parse(parent.timestamp ?? '2026-01-05T09:00:00Z') + 1000).toISOString(),
        message: { role: 'user', content: `Now the ${marker} step: check what was appended and carry on.` },
      }),
    )
    appends.push({ body: Buffer.from(`${chunk.join('\n')}\n`), lines: chunk.length, uuid, marker })
  }
  return { path, sessionId, bytes, lines: baseLines, appends }
}

/** Collects a child's output as text, so its lines can be waited for. */
function collect(stream: unknown) {
  let text = ''
  if (stream instanceof ReadableStream)
    void (async () => {
      const decoder = new TextDecoder()
      for await (const c of stream as ReadableStream<Uint8Array>) text += decoder.decode(c, { stream: true })
    })().catch(() => {})
  return () => text
}

async function waitFor(proc: Subprocess, ready: () => boolean, what: string, output: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!ready()) {
    if (proc.exitCode !== null) throw new Error(`${what}: exited (${proc.exitCode}): ${output().slice(-2000)}`)
    if (Date.now() > deadline)
      throw new Error(`${what}: not ready within ${timeoutMs / 1000} s: ${output().slice(-2000)}`)
    await Bun.sleep(50)
  }
}

/** Reads the appended bytes back and parses each line: the floor of making them visible. */
async function readAndParse(path: string, from: number, length: number) {
  const started = performance.now()
  const text = await Bun.file(path)
    .slice(from, from + length)
    .text()
  let parsed = 0
  for (const line of text.split('\n'))
    if (line) {
      JSON.parse(line)
      parsed++
    }
  return { ms: performance.now() - started, parsed }
}

export async function runIncrementalPart(o: IncrementalOptions): Promise<Outcome> {
  const rows: Row[] = []
  const details: string[] = []
  const scratch = tempDir('incremental')
  const dataDir = join(scratch, 'data')
  mkdirSync(dataDir, { recursive: true })

  log(`incremental: generating one ${o.sizeMb} MB session and ${o.appends} appends ...`)
  const generating = performance.now()
  const built = buildTranscript(join(scratch, 'projects', '-home-dev-projects-incremental'), o)
  const file = built.path
  log(
    `incremental:   ${fmt(mb(built.bytes))} MB, ${fmtInt(built.lines)} lines in ${fmt((performance.now() - generating) / 1000)} s`,
  )

  const { result: user } = await seedData<SeededUser>(['user', join(dataDir, 'observatory.db')], 'seed user')
  const headers = { 'x-api-key': user.apiKey }
  const env = serverEnv(dataDir)
  const server = await observatory(dataDir)
  let watcher: Subprocess | null = null
  try {
    log(`incremental: bun src/cli.ts import (${fmt(mb(built.bytes))} MB, server running) ...`)
    const imported = await runChild([process.execPath, cli, 'import', '--json', file], {
      env,
      label: 'cli import',
    })
    const summary = JSON.parse(imported.stdout.trim().split('\n').at(-1) ?? '{}') as {
      files_failed: number
      lines_read: number
      lines_skipped: number
      interrupted: boolean
    }
    if (summary.files_failed || summary.interrupted) throw new Error(`cli import: ${imported.stdout.slice(-2000)}`)
    log(`incremental:   ${fmt(imported.seconds)} s, peak RSS ${fmt(mb(imported.peakRss), 0)} MB`)
    const conversation = await fetch(`${server.url}/api/conversations/${built.sessionId}`, { headers })
    if (!conversation.ok)
      throw new Error(
        `GET /api/conversations/:id after the import: ${conversation.status} ${await conversation.text()}`,
      )
    const before = (await conversation.json()) as { message_count: number }
    rows.push(
      infoRow(
        'incremental',
        `initial import, bun src/cli.ts import (${fmt(mb(built.bytes), 0)} MB, one session)`,
        `${fmt(imported.seconds)} s`,
        {
          note: `${fmt(mb(built.bytes) / imported.seconds)} MB/s, ${fmtInt(before.message_count)} messages, peak RSS ${fmt(mb(imported.peakRss), 0)} MB`,
        },
      ),
    )

    log('incremental: bun src/cli.ts watch ...')
    watcher = spawnChild([process.execPath, cli, 'watch', '--json', file], { env, cwd: repoRoot })
    const out = collect(watcher.stdout)
    const err = collect(watcher.stderr)
    await waitFor(
      watcher,
      () => err().includes('watching'),
      'watch',
      () => `${out()}\n${err()}`,
      WATCH_READY_MS,
    )
    const watcherRss = sampleRss(watcher.pid)
    const serverRss = sampleRss(server.proc.pid)

    const visible: number[] = []
    const floors: number[] = []
    const perAppend: string[] = []
    let found = 0
    let timedOut = 0
    for (const [n, a] of built.appends.entries()) {
      const offset = statSync(file).size
      const fd = openSync(file, 'a')
      let written: number
      let ended: number
      try {
        written = writeSync(fd, a.body)
        ended = performance.now()
      } finally {
        closeSync(fd)
      }
      if (written !== a.body.length) throw new Error(`append ${n + 1}: wrote ${written} of ${a.body.length} bytes`)
      let ms = Number.NaN
      for (;;) {
        const res = await fetch(`${server.url}/api/conversations/${built.sessionId}/messages/${a.uuid}`, { headers })
        await res.arrayBuffer()
        const elapsed = performance.now() - ended
        if (res.ok) {
          ms = elapsed
          break
        }
        if (res.status !== 404) throw new Error(`GET …/messages/:uuid: ${res.status}`)
        if (elapsed > VISIBLE_TIMEOUT_MS) {
          timedOut++
          break
        }
        await Bun.sleep(POLL_MS)
      }
      const search = await fetch(`${server.url}/api/search?q=${a.marker}`, { headers })
      const hits = search.ok ? ((await search.json()) as { items: { message_id: string }[] }).items : []
      const hit = hits.some((h) => h.message_id === a.uuid)
      if (hit) found++
      const first = await readAndParse(file, offset, a.body.length)
      const again = await readAndParse(file, offset, a.body.length)
      const floorMs = Math.min(first.ms, again.ms)
      if (first.parsed !== a.lines) throw new Error(`append ${n + 1}: read back ${first.parsed} of ${a.lines} lines`)
      visible.push(ms)
      floors.push(floorMs)
      perAppend.push(
        `| ${n + 1} | ${fmt(mb(a.body.length), 2)} MB | ${fmtInt(a.lines)} | ${fmt(ms, 0)} ms | ${fmt(floorMs, 1)} ms | ${hit ? 'yes' : 'no'} |`,
      )
      log(
        `incremental:   append ${n + 1}: ${fmt(mb(a.body.length), 2)} MB, ${fmtInt(a.lines)} lines, visible after ${fmt(ms, 0)} ms (floor ${fmt(floorMs, 1)} ms)${hit ? '' : ', marker not found by search'}`,
      )
      await Bun.sleep(SETTLE_MS)
    }
    const watcherPeak = watcherRss.stop().peak
    const serverPeak = serverRss.stop().peak
    const imports = out()
      .split('\n')
      .filter((l) => l.startsWith('{"event":"import"'))
      .map((l) => JSON.parse(l) as { messages_added: number; lines_skipped: number })
    const added = imports.reduce((n, e) => n + e.messages_added, 0)
    const skipped = imports.reduce((n, e) => n + e.lines_skipped, 0)

    const sorted = Float64Array.from(visible.filter(Number.isFinite)).sort()
    const p50 = percentile(sorted, 0.5)
    const max = timedOut ? Number.POSITIVE_INFINITY : (sorted.at(-1) ?? Number.NaN)
    const floor = percentile(Float64Array.from(floors).sort(), 0.5)
    const appendMb = mb(built.appends.reduce((n, a) => n + a.body.length, 0) / built.appends.length)
    const figure = `${fmt(appendMb, 1)} MB appended to a ${fmt(mb(built.bytes), 0)} MB transcript → visible in the API`
    const timeouts = timedOut ? `; ${timedOut} not visible within ${VISIBLE_TIMEOUT_MS / 1000} s` : ''
    rows.push(
      boundRow('incremental', `${figure}, p50 of ${o.appends}`, p50, 'ms', VISIBLE_TARGET_MS, {
        ours: `${fmt(p50, 0)} ms`,
        floor: `${fmt(floor, 1)} ms`,
        ratio: fmt(p50 / floor, 1),
        note: `each: ${visible.map((v) => fmt(v, 0)).join(', ')} ms${timeouts}`,
      }),
      boundRow('incremental', `${figure}, max of ${o.appends}`, max, 'ms', VISIBLE_TARGET_MS, {
        ours: Number.isFinite(max) ? `${fmt(max, 0)} ms` : `> ${VISIBLE_TIMEOUT_MS / 1000} s`,
        floor: `${fmt(floor, 1)} ms`,
        ratio: fmt(max / floor, 1),
        note: timeouts.slice(2) || undefined,
      }),
      {
        part: 'incremental',
        figure: 'each appended marker found by GET /api/search',
        ours: `${found} / ${o.appends}`,
        floor: '—',
        ratio: '—',
        target: `${o.appends} / ${o.appends}`,
        verdict: found === o.appends ? 'PASS' : 'MISS',
      },
      infoRow('incremental', 'peak RSS while following the appends', `watcher ${fmt(mb(watcherPeak), 0)} MB`, {
        note: `server ${fmt(mb(serverPeak), 0)} MB`,
      }),
    )
    details.push(
      `One generated session (bench/generate.ts, seed ${o.seed}), its main file only: ${fmt(mb(built.bytes))} MB, ${fmtInt(built.lines)} lines, ${fmtInt(before.message_count)} messages after the import. The real server (\`bun src/index.ts\`) runs on a fresh DATA_DIR holding one member user with an API key; \`bun src/cli.ts import --json FILE\` on the same DATA_DIR imports the file (the only user owns it) in ${fmt(imported.seconds)} s (${fmtInt(summary.lines_read)} lines read, ${fmtInt(summary.lines_skipped)} skipped); then \`bun src/cli.ts watch --json FILE\` runs beside the server. Each append is the session going on (new uuids and message ids, as generated) and ends with a user prompt holding a unique marker word, written with one write(2); the time runs from the write's return to the first 200 of GET /api/conversations/:id/messages/:uuid of that prompt (API key, polled every ${POLL_MS} ms; the answer's own time is included), then GET /api/search?q=marker must return it. ${SETTLE_MS / 1000} s between appends. The watcher reported ${fmtInt(added)} messages added in ${imports.length} imports${skipped ? `, ${fmtInt(skipped)} lines skipped` : ''}.`,
      `Floor: reading the appended bytes back from the file and JSON.parse of each line in the bench process (the better of two runs, median over the appends): what any import of the same bytes has to do, without storing them.`,
      [
        '| append | size | lines | visible after | floor | found by search |',
        '|---|---|---|---|---|---|',
        ...perAppend,
      ].join('\n'),
    )
  } finally {
    if (watcher) await stopChild(watcher)
    await stopChild(server.proc)
  }
  return { rows, details }
}
