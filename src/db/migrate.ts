import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import type { Db } from './client'

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url))

/** Applies the committed drizzle-kit migrations that this database has not seen; a no-op the second time. */
export function runMigrations(db: Db) {
  migrate(db, { migrationsFolder })
}

const expectedMigrations: number = JSON.parse(readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8')).entries
  .length

/** True when every committed migration has been applied to this database. */
export function isMigrated(db: Db): boolean {
  try {
    const row = db.$client.query('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }
    return row.n >= expectedMigrations
  } catch {
    return false
  }
}
