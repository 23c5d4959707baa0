import { Database } from 'bun:sqlite'
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Db } from './client'

/** What a copy is called while it is being made: never a name a finished backup has. */
export const PART_SUFFIX = '.part'

/** The backup's file exists already: a backup never replaces one. */
export class BackupExists extends Error {
  constructor(path: string) {
    super(`${path} already exists`)
  }
}

/**
 * A consistent copy of the live database: VACUUM INTO reads one snapshot (WAL lets imports keep writing meanwhile),
 * so the copy holds every row committed before it started, compacted, in a single file. It runs in a worker thread
 * with its own connection (only an in-memory database, which no other connection can see, is copied on `db`'s own),
 * into a temporary file that takes `path`'s name once complete, and never over an existing file. `signal` (a
 * stopping server) ends the copy; whatever fails or is stopped leaves nothing behind.
 */
export async function backupTo(db: Db, path: string, signal?: AbortSignal) {
  if (existsSync(path)) throw new BackupExists(path)
  mkdirSync(dirname(path), { recursive: true })
  const part = `${path}.${Bun.randomUUIDv7()}${PART_SUFFIX}`
  try {
    const from = db.$client.filename
    if (from === ':memory:') db.$client.run('VACUUM INTO ?', [part])
    else await inWorker(from, part, signal)
    linkSync(part, path) // (fails if a copy of the same name was finished meanwhile)
  } catch (e) {
    throw (e as { code?: string }).code === 'EEXIST' ? new BackupExists(path) : e
  } finally {
    rmSync(part, { force: true })
  }
}

/** VACUUM INTO `to` on a worker thread; rejects if it fails, stops, or the signal ends it. */
async function inWorker(from: string, to: string, signal?: AbortSignal) {
  signal?.throwIfAborted()
  const worker = new Worker(new URL('./backup-worker.ts', import.meta.url))
  try {
    const reply = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
      const fail = (error: string) => resolve({ ok: false, error })
      worker.onmessage = (e) => resolve(e.data)
      worker.onerror = (e) => fail(e.message)
      worker.addEventListener('close', () => fail('the copy stopped before it was complete'))
      signal?.addEventListener('abort', () => fail('the server is stopping'), { once: true })
      worker.postMessage({ from, to })
    })
    if (!reply.ok) throw new Error(reply.error)
  } finally {
    worker.terminate()
  }
}

/** `ok`, or SQLite's first complaint about the file. */
export function integrityOf(path: string): string {
  const copy = new Database(path, { readonly: true })
  try {
    return (copy.query('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check
  } finally {
    copy.close()
  }
}

/**
 * Holds the database at `dbPath` alone, with everything its WAL holds folded into the file, for `work`; refuses
 * while another process has it open (a running server, an import): replacing the file under them would lose writes.
 * A file SQLite cannot read as a database (what a restore is often for) is handed to `work` as it is.
 */
function withDatabaseAlone<T>(dbPath: string, work: () => T): T {
  if (!existsSync(dbPath)) return work()
  let sqlite: Database | undefined
  try {
    sqlite = new Database(dbPath)
    // exclusive locking takes locks the others' shared memory would need: it fails at once while anyone has it open
    sqlite.exec('PRAGMA locking_mode = EXCLUSIVE')
    sqlite.exec('BEGIN EXCLUSIVE; COMMIT')
    sqlite.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  } catch (e) {
    sqlite?.close()
    const code = (e as { code?: string }).code
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
      throw new Error(`${dbPath} is open in another process (a running server or import): stop it first`)
    if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw e
    return work()
  }
  try {
    return work()
  } finally {
    sqlite.close()
  }
}

/**
 * Puts a backup in place of the database at `dbPath`, which no other process may have open (stop the server). The
 * current file (with its WAL, if SQLite could not fold it in) is kept beside it as `<db>.before-restore-<time>`; a
 * backup that fails its integrity check is refused.
 */
export function restoreFrom(backup: string, dbPath: string) {
  const integrity = integrityOf(backup)
  if (integrity !== 'ok') throw new Error(`${backup} is damaged: ${integrity}`)
  return withDatabaseAlone(dbPath, () => {
    const kept = `${dbPath}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`
    if (existsSync(dbPath)) renameSync(dbPath, kept)
    const wal = `${dbPath}-wal`
    // (a WAL SQLite folded in is left empty: nothing to keep)
    if (existsSync(wal)) {
      if (statSync(wal).size > 0) renameSync(wal, `${kept}-wal`)
      else rmSync(wal)
    }
    rmSync(`${dbPath}-shm`, { force: true })
    mkdirSync(dirname(dbPath), { recursive: true })
    copyFileSync(backup, dbPath)
    return { kept: existsSync(kept) ? kept : null }
  })
}
