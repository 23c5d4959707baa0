/**
 * One import measurement, run in its own process so its memory can be sampled and nothing leaks between runs.
 *
 *   bun bench/import-worker.ts floor <corpus root> <db path>
 *   bun bench/import-worker.ts ours <corpus root> <db path> [--profile]
 *
 * `floor`: the same files read line by line (streamed, split on "\n", decoded, JSON.parse'd as the real import does)
 * and inserted with raw bun:sqlite prepared statements, one transaction per 2,000 lines, into a minimal table
 * (id, session, raw line) without index, in a fresh WAL database (synchronous=NORMAL).
 * `ours`: a fresh database migrated with runMigrations, one user, WAL checkpoints from their own thread (as the
 * server and the CLI import run them; the floor checkpoints inline, SQLite's default), then importFile over every
 * file (a session's main file before its subagents). `--profile` also times every repository call and every SQL
 * statement.
 *
 * Prints one JSON line: seconds (the import loop only), bytes, lines, files, peak RSS (VmHWM) and, for `ours`, the
 * token totals summed over all conversations.
 */
import { Database } from 'bun:sqlite'
import { startCheckpointer } from '../src/db/checkpointer'
import { openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createPricing } from '../src/lib/pricing'
import { createReadCache } from '../src/lib/read-cache'
import { createConversationRepository } from '../src/modules/conversations/repository'
import { createConversationService } from '../src/modules/conversations/service'
import { createHierarchyRepository } from '../src/modules/hierarchy/repository'
import { createHierarchyService } from '../src/modules/hierarchy/service'
import { createIngestRepository } from '../src/modules/ingest/repository'
import { createIngestService } from '../src/modules/ingest/service'
import { procMemory, transcriptFiles } from './lib'

export type WorkerResult = {
  mode: 'floor' | 'ours'
  seconds: number
  bytes: number
  lines: number
  files: number
  hwm: number
  tokens?: { input: number; output: number; cacheCreation: number; cacheRead: number }
  messages?: number
  conversations?: number
  dbBytes?: number
  profile?: Profile
}

type Profile = {
  repo: Record<string, { ms: number; calls: number }>
  sql: { sql: string; ms: number; calls: number }[]
}

const CHUNK_LINES = 2000

const databaseBytes = (db: Database) =>
  (db.query('PRAGMA page_count').get() as { page_count: number }).page_count *
  (db.query('PRAGMA page_size').get() as { page_size: number }).page_size
const LF = 0x0a

async function floor(root: string, dbPath: string): Promise<WorkerResult> {
  const files = transcriptFiles(root)
  const db = new Database(dbPath, { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('CREATE TABLE lines (id TEXT, session TEXT, raw TEXT)')
  const insert = db.prepare('INSERT INTO lines (id, session, raw) VALUES (?, ?, ?)')
  const insertChunk = db.transaction((rows: [string | null, string | null, string][]) => {
    for (const r of rows) insert.run(r[0], r[1], r[2])
  })
  const decoder = new TextDecoder()
  let lines = 0
  let rows: [string | null, string | null, string][] = []
  const take = (bytes: Uint8Array) => {
    if (bytes.length === 0) return
    const text = decoder.decode(bytes)
    const value = JSON.parse(text) as { uuid?: string; sessionId?: string }
    rows.push([value.uuid ?? null, value.sessionId ?? null, text])
    lines++
    if (rows.length >= CHUNK_LINES) {
      insertChunk.immediate(rows)
      rows = []
    }
  }
  const started = performance.now()
  for (const f of files) {
    let pending: Uint8Array | null = null
    for await (const chunk of Bun.file(f.path).stream()) {
      let from = 0
      for (;;) {
        const nl = chunk.indexOf(LF, from)
        if (nl === -1) {
          const rest = chunk.subarray(from)
          pending = pending ? Buffer.concat([pending, rest]) : rest.slice()
          break
        }
        const part = chunk.subarray(from, nl)
        take(pending ? Buffer.concat([pending, part]) : part)
        pending = null
        from = nl + 1
      }
    }
    if (pending) take(pending)
  }
  if (rows.length) insertChunk.immediate(rows)
  const seconds = (performance.now() - started) / 1000
  const bytes = files.reduce((n, f) => n + f.bytes, 0)
  const dbBytes = databaseBytes(db)
  db.close()
  return { mode: 'floor', seconds, bytes, lines, files: files.length, hwm: procMemory('self')?.hwm ?? 0, dbBytes }
}

/** Wraps every statement prepared from now on so its run/get/all/values time is added up by SQL text. */
export function profileStatements(sql: Map<string, { ms: number; calls: number }>) {
  const proto = Database.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  const wrapped = new WeakSet<object>()
  for (const name of ['prepare', 'query'] as const) {
    const original = proto[name] as (...args: unknown[]) => Record<string, unknown>
    proto[name] = function (this: Database, ...args: unknown[]) {
      const stmt = original.apply(this, args)
      if (wrapped.has(stmt)) return stmt
      wrapped.add(stmt)
      const key = String(args[0]).replace(/\s+/g, ' ').trim()
      const entry = sql.get(key) ?? { ms: 0, calls: 0 }
      sql.set(key, entry)
      for (const m of ['run', 'get', 'all', 'values']) {
        const fn = stmt[m] as ((...a: unknown[]) => unknown) | undefined
        if (typeof fn !== 'function') continue
        Object.defineProperty(stmt, m, {
          value: (...a: unknown[]) => {
            const t = performance.now()
            try {
              return fn.apply(stmt, a)
            } finally {
              entry.ms += performance.now() - t
              entry.calls++
            }
          },
        })
      }
      return stmt
    }
  }
}

async function ours(root: string, dbPath: string, profile: boolean): Promise<WorkerResult> {
  const files = transcriptFiles(root)
  const sqlTimes = new Map<string, { ms: number; calls: number }>()
  const repoTimes: Profile['repo'] = {}
  if (profile) profileStatements(sqlTimes)
  const db = openDatabase(dbPath)
  // what-if experiments while profiling, e.g. BENCH_PRAGMAS='PRAGMA wal_autocheckpoint = 0' (never set in a report run)
  if (process.env.BENCH_PRAGMAS) db.$client.exec(process.env.BENCH_PRAGMAS)
  runMigrations(db)
  // as the server and the CLI import: checkpoints from a thread of their own
  const checkpointer = await startCheckpointer(db, dbPath)
  const ownerId = Bun.randomUUIDv7()
  db.$client
    .prepare(
      `INSERT INTO users (id, email, password_hash, display_name, role, created_at, updated_at)
       VALUES (?, 'bench@example.com', 'x', 'Bench', 'admin', ?, ?)`,
    )
    .run(ownerId, Date.now(), Date.now())
  const repo = createIngestRepository(db)
  if (profile)
    for (const [name, fn] of Object.entries(repo)) {
      if (typeof fn !== 'function' || name === 'exportLines') continue
      const entry = { ms: 0, calls: 0 }
      repoTimes[name] = entry
      ;(repo as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        const t = performance.now()
        try {
          return await (fn as (...a: unknown[]) => unknown)(...args)
        } finally {
          entry.ms += performance.now() - t
          entry.calls++
        }
      }
    }
  // as the server and the CLI import: sessions placed in the hierarchy too
  const hierarchy = createHierarchyService(
    createHierarchyRepository(db),
    createConversationService(createConversationRepository(db), createReadCache(db)),
  )
  const ingest = createIngestService(repo, { pricing: createPricing({}), place: hierarchy.place })
  const machine = { id: 'bench-machine' }
  let lines = 0
  const started = performance.now()
  for (const f of files) {
    const r = await ingest.importFile({ ownerId, path: f.path, sourceKey: f.path, displayName: f.rel, machine })
    lines += r.linesDone
  }
  const seconds = (performance.now() - started) / 1000
  await checkpointer.stop()
  const sum = db.$client
    .query(
      `SELECT coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output,
         coalesce(sum(cache_creation_tokens), 0) AS cacheCreation, coalesce(sum(cache_read_tokens), 0) AS cacheRead,
         count(*) AS conversations FROM conversations`,
    )
    .get() as { input: number; output: number; cacheCreation: number; cacheRead: number; conversations: number }
  const messages = (db.$client.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n
  const { conversations, ...tokens } = sum
  return {
    mode: 'ours',
    seconds,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    lines,
    files: files.length,
    hwm: procMemory('self')?.hwm ?? 0,
    tokens,
    messages,
    conversations,
    dbBytes: databaseBytes(db.$client),
    profile: profile
      ? {
          repo: repoTimes,
          sql: [...sqlTimes.entries()]
            .map(([sql, v]) => ({ sql, ...v }))
            .filter((s) => s.calls > 0)
            .sort((a, b) => b.ms - a.ms),
        }
      : undefined,
  }
}

if (import.meta.main) {
  const [mode, root, dbPath, flag] = process.argv.slice(2)
  if ((mode !== 'floor' && mode !== 'ours') || !root || !dbPath) {
    console.error('usage: bun bench/import-worker.ts floor|ours <corpus root> <db path> [--profile]')
    process.exit(2)
  }
  const result = mode === 'floor' ? await floor(root, dbPath) : await ours(root, dbPath, flag === '--profile')
  console.log(JSON.stringify(result))
}
