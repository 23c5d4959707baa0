import { afterAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDatabase, openDatabase } from '../src/db/client'
import { isMigrated, runMigrations } from '../src/db/migrate'

const dir = mkdtempSync(join(tmpdir(), 'observatory-db-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('database', () => {
  it('creates its folder and sets the house PRAGMAs on the connection', () => {
    const path = join(dir, 'nested', 'folder', 'o.db')
    const db = openDatabase(path)
    const pragma = (name: string) => Object.values(db.$client.query(`PRAGMA ${name}`).get() as object)[0]
    expect(pragma('journal_mode')).toBe('wal')
    expect(pragma('synchronous')).toBe(1) // NORMAL
    expect(pragma('foreign_keys')).toBe(1)
    expect(pragma('busy_timeout')).toBe(5000)
    expect(pragma('journal_size_limit')).toBe(67108864)
    closeDatabase(db)
  })

  it('migrates once; a second run changes nothing', () => {
    const path = join(dir, 'm.db')
    const db = openDatabase(path)
    expect(isMigrated(db)).toBe(false)
    runMigrations(db)
    expect(isMigrated(db)).toBe(true)
    const schema = () => db.$client.query('SELECT name, sql FROM sqlite_master ORDER BY name').all()
    const before = schema()
    const applied = db.$client.query('SELECT count(*) AS n FROM __drizzle_migrations').get()
    runMigrations(db)
    expect(schema()).toEqual(before)
    expect(db.$client.query('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual(applied)
    closeDatabase(db)
  })

  it('folds the WAL back into the database file on close', () => {
    const path = join(dir, 'w.db')
    const db = openDatabase(path)
    runMigrations(db)
    db.$client.exec("CREATE TABLE t (x); INSERT INTO t VALUES ('row')")
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0)
    closeDatabase(db)
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0)
    const reopened = openDatabase(path)
    expect(reopened.$client.query('SELECT x FROM t').get()).toEqual({ x: 'row' })
    reopened.$client.close()
  })
})
