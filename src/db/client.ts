import { Database } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import * as schema from './schema'

/** Opens (creating if needed) the database with the house PRAGMAs on this connection. */
export function openDatabase(path: string) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new Database(path, { create: true, strict: true })
  // busy_timeout first: switching to WAL needs a lock another process (the CLI beside the server) may hold
  sqlite.exec(`
    PRAGMA busy_timeout = 5000;
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA foreign_keys = ON;
    PRAGMA journal_size_limit = 67108864;
    -- fold the WAL back every 32 MiB rather than every 4 MiB: far fewer fsyncs while an import writes
    PRAGMA wal_autocheckpoint = 8192;
    -- 32 MiB of pages (2 MiB by default): an import touches index pages all over the messages' uuid index, and
    -- re-reading them from the WAL or the file on each insert cost 5-8 % of a 200 MB import
    PRAGMA cache_size = -32768;
  `)
  return drizzle({ client: sqlite, schema })
}
export type Db = ReturnType<typeof openDatabase>

/** Leaves the files tidy: planner statistics, WAL folded back into the main file, handle closed. */
export function closeDatabase(db: Db) {
  const sqlite = db.$client
  sqlite.exec('PRAGMA optimize')
  sqlite.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  sqlite.close()
}

/** The first row of a raw query as an object (drizzle's `get` on raw SQL gives it as an array of values). */
export const firstRow = <T>(db: Db, query: SQL): T | undefined => db.all<T>(query)[0]
