import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia, t } from 'elysia'
import { backupTo } from '../../db/backup'
import type { Db } from '../../db/client'
import { ErrorBody, notFound } from '../../lib/errors'
import { Integer, iso, SECURITY } from '../../lib/models'
import type { AuthGuard } from '../auth/guard'

const backupExample = {
  name: 'observatory-2026-01-01T12-00-00-000Z.db',
  size: 52428800,
  created_at: '2026-01-01T12:00:00.000Z',
}
const Backup = t.Object(
  { name: t.String(), size: Integer(), created_at: t.String({ format: 'date-time' }) },
  { examples: [backupExample] },
)
const NAME = /^observatory-[\dTZ-]+\.db$/

/** Backups of the database, for admins: made while the service runs, listed, downloaded. */
export const adminModule = ({
  db,
  dbPath,
  backupsDir,
  guard,
}: {
  db: Db
  dbPath: string
  backupsDir: string
  guard: AuthGuard
}) => {
  const describe = (name: string) => {
    const s = statSync(join(backupsDir, name))
    return { name, size: s.size, created_at: iso(s.mtimeMs) }
  }
  return new Elysia({ name: 'admin', prefix: '/api/admin', detail: { tags: ['admin'], security: SECURITY } })
    .use(guard)
    .model({ error: ErrorBody })
    .guard({ role: 'admin' })
    .post(
      '/backups',
      async ({ status }) => {
        const name = `observatory-${new Date().toISOString().replace(/[:.]/g, '-')}.db`
        await backupTo(db, dbPath, join(backupsDir, name))
        return status(201, describe(name))
      },
      {
        // it takes no fields: one sent (a name, a path) is a mistake to report, not to ignore
        body: t.Optional(t.Object({}, { additionalProperties: false })),
        response: { 201: Backup, 401: 'error', 403: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'Back up the database now',
          description:
            'A consistent copy (VACUUM INTO) in DATA_DIR/backups, made while imports run, on a thread of its own: the server goes on answering.',
        },
      },
    )
    .get(
      '/backups',
      () => {
        let names: string[] = []
        try {
          names = readdirSync(backupsDir).filter((n) => NAME.test(n))
        } catch {}
        const items = names.sort().reverse().map(describe)
        return { items, total: items.length }
      },
      {
        response: {
          200: t.Object(
            { items: t.Array(Backup), total: Integer() },
            { examples: [{ items: [backupExample], total: 1 }] },
          ),
          401: 'error',
          403: 'error',
          429: 'error',
        },
        detail: { summary: 'List backups, newest first' },
      },
    )
    .get(
      '/backups/:name',
      ({ params }) => {
        const path = join(backupsDir, params.name)
        if (!NAME.test(params.name) || !existsSync(path)) throw notFound('backup')
        return Bun.file(path)
      },
      {
        params: t.Object({ name: t.String({ maxLength: 100 }) }),
        response: {
          200: t.Any({ description: 'The SQLite file', examples: ['(binary SQLite database)'] }),
          401: 'error',
          403: 'error',
          404: 'error',
          429: 'error',
        },
        detail: { summary: 'Download a backup' },
      },
    )
}
