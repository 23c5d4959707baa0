import { Database } from 'bun:sqlite'
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Db } from './client'

/**
 * A consistent copy of the live database: VACUUM INTO reads one snapshot (WAL lets imports keep writing meanwhile),
 * so the copy holds every row committed before it started, compacted, in a single file. It runs in a worker thread
 * with its own connection; only an in-memory database (tests), which no other connection can see, is copied on
 * `db`'s own. A copy that fails is removed.
 */
export async function backupTo(db: Db, dbPath: string, path: string) {
  if (existsSync(path)) throw new Error(`${path} already exists`)
  mkdirSync(dirname(path), { recursive: true })
  try {
    if (dbPath === ':memory:') {
      db.$client.run('VACUUM INTO ?', [path])
      return
    }
    const worker = new Worker(new URL('./backup-worker.ts', import.meta.url))
    try {
      const reply = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
        worker.onmessage = (e) => resolve(e.data)
        worker.onerror = (e) => resolve({ ok: false, error: e.message })
        worker.postMessage({ from: dbPath, to: path })
      })
      if (!reply.ok) throw new Error(reply.error)
    } finally {
      worker.terminate()
    }
  } catch (e) {
    rmSync(path, { force: true })
    throw e
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
 */
function withDatabaseAlone<T>(dbPath: string, work: () => T): T {
  if (!existsSync(dbPath)) return work()
  const sqlite = new Database(dbPath)
  try {
    // exclusive locking takes locks the others' shared memory would need: it fails at once while anyone has it open
    sqlite.exec('PRAGMA locking_mode = EXCLUSIVE')
    try {
      sqlite.exec('BEGIN EXCLUSIVE; COMMIT')
    } catch {
      throw new Error(`${dbPath} is open in another process (a running server or import): stop it first`)
    }
    sqlite.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    return work()
  } finally {
    sqlite.close()
  }
}

/**
 * Puts a backup in place of the database at `dbPath`, which no other process may have open (stop the server). The
 * current file is kept beside it as `<db>.before-restore-<time>`; a backup that fails its integrity check is refused.
 */
export function restoreFrom(backup: string, dbPath: string) {
  const integrity = integrityOf(backup)
  if (integrity !== 'ok') throw new Error(`${backup} is damaged: ${integrity}`)
  return withDatabaseAlone(dbPath, () => {
    const kept = `${dbPath}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`
    if (existsSync(dbPath)) renameSync(dbPath, kept)
    for (const suffix of ['-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true })
    mkdirSync(dirname(dbPath), { recursive: true })
    copyFileSync(backup, dbPath)
    return { kept: existsSync(kept) ? kept : null }
  })
}
