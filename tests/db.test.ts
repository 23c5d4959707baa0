import { afterAll, describe, expect, it } from 'bun:test'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate } from 'drizzle-orm/bun-sqlite/migrator'
import { closeDatabase, openDatabase } from '../src/db/client'
import { isMigrated, migrationsFolder, runMigrations } from '../src/db/migrate'

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

  /** A new database with the migrations before `tag` applied. */
  function migratedUpTo(tag: string, name: string) {
    const before = join(dir, `before-${tag}`)
    cpSync(migrationsFolder, before, { recursive: true })
    const journal = JSON.parse(readFileSync(join(before, 'meta/_journal.json'), 'utf8'))
    const at = journal.entries.findIndex((e: { tag: string }) => e.tag.startsWith(`${tag}_`))
    journal.entries = journal.entries.slice(0, at)
    writeFileSync(join(before, 'meta/_journal.json'), JSON.stringify(journal))
    const db = openDatabase(join(dir, name))
    migrate(db, { migrationsFolder: before })
    return db
  }

  it('keeps every machine and workspace link when machine ids become per account (migration 0011)', () => {
    // a database before 0011 that holds a machine with workspaces and a session
    const db = migratedUpTo('0011', 'machines.db')
    const sql = db.$client
    sql.exec(`INSERT INTO users (id, email, password_hash, display_name, role, created_at, updated_at)
              VALUES ('u1', 'a@example.com', 'x', 'A', 'admin', 1, 1);
              INSERT INTO machines (id, owner_id, hostname, last_seen_at, created_at) VALUES ('m-1', 'u1', 'ada', 5, 1);
              INSERT INTO projects (id, owner_id, key, name, created_at, updated_at) VALUES ('p1', 'u1', 'path:/a', 'a', 1, 1);
              INSERT INTO workspaces (id, owner_id, project_id, machine_id, path, last_seen_at, created_at)
                VALUES ('w-1', 'u1', 'p1', 'm-1', '/a', 1, 1), ('w-2', 'u1', 'p1', NULL, '/b', 1, 1);
              INSERT INTO conversations (id, owner_id, workspace_id, source, started_at, created_at, updated_at)
                VALUES ('s1', 'u1', 'w-1', 'claude-code', 1, 1, 1);`)
    runMigrations(db)
    expect(sql.query('SELECT id, owner_id, hostname FROM machines').all()).toEqual([
      { id: 'm-1', owner_id: 'u1', hostname: 'ada' },
    ])
    expect(sql.query('SELECT id, machine_id FROM workspaces ORDER BY id').all()).toEqual([
      { id: 'w-1', machine_id: 'm-1' },
      { id: 'w-2', machine_id: null },
    ])
    expect(sql.query('SELECT workspace_id FROM conversations').all()).toEqual([{ workspace_id: 'w-1' }])
    expect(sql.query('PRAGMA foreign_key_check').all()).toEqual([])
    closeDatabase(db)
  })

  it('sums the usage already held per UTC day (migration 0012)', () => {
    const db = migratedUpTo('0012', 'daily.db')
    // quarter hours of two owners: day 20500 (quarters 1968000 on) twice in one model, once in another; day 20501
    const day = 20_500 * 96
    db.$client.exec(`INSERT INTO usage_rollup VALUES
      ('u1', ${day + 3}, 'c1', 'opus', 10, 1, 100, 1000, 0.5),
      ('u1', ${day + 95}, 'c2', 'opus', 20, 2, 200, 2000, 0.25),
      ('u1', ${day + 50}, 'c1', 'haiku', 30, 3, 300, 3000, 0.125),
      ('u1', ${day + 96}, 'c1', 'opus', 40, 4, 400, 4000, 1),
      ('u2', ${day + 3}, 'c3', 'opus', 50, 5, 500, 5000, 2)`)
    runMigrations(db)
    expect(db.$client.query('SELECT * FROM usage_daily ORDER BY owner_id, day, model').all()).toEqual([
      {
        owner_id: 'u1',
        day: 20_500,
        model: 'haiku',
        input_tokens: 30,
        output_tokens: 3,
        cache_creation_tokens: 300,
        cache_read_tokens: 3000,
        cost_usd: 0.125,
      },
      {
        owner_id: 'u1',
        day: 20_500,
        model: 'opus',
        input_tokens: 30,
        output_tokens: 3,
        cache_creation_tokens: 300,
        cache_read_tokens: 3000,
        cost_usd: 0.75,
      },
      {
        owner_id: 'u1',
        day: 20_501,
        model: 'opus',
        input_tokens: 40,
        output_tokens: 4,
        cache_creation_tokens: 400,
        cache_read_tokens: 4000,
        cost_usd: 1,
      },
      {
        owner_id: 'u2',
        day: 20_500,
        model: 'opus',
        input_tokens: 50,
        output_tokens: 5,
        cache_creation_tokens: 500,
        cache_read_tokens: 5000,
        cost_usd: 2,
      },
    ])
    closeDatabase(db)
  })

  it("counts each session's events already held (migration 0013)", () => {
    const db = migratedUpTo('0013', 'events.db')
    db.$client.exec(`INSERT INTO users (id, email, password_hash, display_name, role, created_at, updated_at)
              VALUES ('u1', 'a@example.com', 'x', 'A', 'admin', 1, 1), ('u2', 'b@example.com', 'x', 'B', 'member', 1, 1);
              INSERT INTO conversations (id, owner_id, source, started_at, created_at, updated_at)
                VALUES ('s1', 'u1', 'claude-code', 1, 1, 1), ('s2', 'u1', 'claude-code', 1, 1, 1);
              INSERT INTO events (id, owner_id, type, session_id, payload, timestamp, created_at) VALUES
                ('e1', 'u1', 'build', 's1', '{}', 1, 1), ('e2', 'u1', 'test', 's1', '{}', 2, 2),
                ('e3', 'u2', 'build', 's1', '{}', 3, 3), ('e4', 'u1', 'build', NULL, '{}', 4, 4)`)
    runMigrations(db)
    expect(db.$client.query('SELECT id, event_count FROM conversations ORDER BY id').all()).toEqual([
      { id: 's1', event_count: 2 },
      { id: 's2', event_count: 0 },
    ])
    closeDatabase(db)
  })

  it('turns the snippet markers already in search texts into spaces, the index unchanged (migration 0019)', () => {
    const db = migratedUpTo('0019', 'markers.db')
    db.$client.exec(`INSERT INTO users (id, email, password_hash, display_name, role, created_at, updated_at)
              VALUES ('u1', 'a@example.com', 'x', 'A', 'admin', 1, 1);
              INSERT INTO conversations (id, owner_id, source, started_at, created_at, updated_at)
                VALUES ('c1', 'u1', 'api', 1, 1, 1);
              INSERT INTO messages (id, owner_id, conversation_id, type, text, timestamp, created_at) VALUES
                ('m1', 'u1', 'c1', 'user', 'plain words', 1, 1),
                ('m2', 'u1', 'c1', 'user', 'a' || char(2) || 'fake' || char(3) || 'mark', 2, 2);
              INSERT INTO messages_fts (rowid, text) SELECT seq, text FROM messages`)
    runMigrations(db)
    expect(db.$client.query('SELECT id, text FROM messages ORDER BY id').all()).toEqual([
      { id: 'm1', text: 'plain words' },
      { id: 'm2', text: 'a fake mark' },
    ])
    const matching = (q: string) =>
      db.$client.query('SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?').all(q).length
    expect([matching('fake'), matching('mark'), matching('plain')]).toEqual([1, 1, 1])
    // the index still agrees with the texts (FTS5 checks it against them), and deleting the row takes its terms out
    const integrityCheck = () =>
      db.$client.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`)
    expect(integrityCheck).not.toThrow()
    db.$client.exec(`DELETE FROM messages WHERE id = 'm2'`)
    expect(integrityCheck).not.toThrow()
    expect(matching('fake')).toBe(0)
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
