import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Elysia, t } from 'elysia'
import { BackupExists, backupTo, PART_SUFFIX } from '../../db/backup'
import type { Db } from '../../db/client'
import { AppError, conflict, ErrorBody, notFound } from '../../lib/errors'
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
  backupsDir,
  stopping,
  guard,
}: {
  db: Db
  backupsDir: string
  /** aborted when the server stops: a copy under way is ended and removed */
  stopping: AbortSignal
  guard: AuthGuard
}) => {
  // a copy cut off by a crash left its part behind: nothing will ever finish it
  if (existsSync(backupsDir))
    for (const name of readdirSync(backupsDir)) if (name.endsWith(PART_SUFFIX)) rmSync(join(backupsDir, name))
  /** A backup's name, size and time; null once it is gone (deleted by hand between the listing and now). */
  const describe = (name: string) => {
    try {
      const s = statSync(join(backupsDir, name))
      return { name, size: s.size, created_at: iso(s.mtimeMs) }
    } catch {
      return null
    }
  }
  return new Elysia({ name: 'admin', prefix: '/api/admin', detail: { tags: ['admin'], security: SECURITY } })
    .use(guard)
    .model({ error: ErrorBody })
    .guard({ role: 'admin' })
    .post(
      '/backups',
      async ({ status }) => {
        const name = `observatory-${new Date().toISOString().replace(/[:.]/g, '-')}.db`
        try {
          await backupTo(db, join(backupsDir, name), stopping)
        } catch (e) {
          if (e instanceof BackupExists) throw conflict('a backup of that name was made the same millisecond')
          if (stopping.aborted) throw new AppError(503, 'UNAVAILABLE', 'the server is stopping; no backup was made')
          throw e
        }
        const made = describe(name)
        if (!made) throw notFound('backup') // deleted by hand before it could be described
        return status(201, made)
      },
      {
        // it takes no fields: one sent (a name, a path) is a mistake to report, not to ignore
        body: t.Optional(t.Object({}, { additionalProperties: false })),
        response: {
          201: Backup,
          401: 'error',
          403: 'error',
          404: 'error',
          409: 'error',
          422: 'error',
          429: 'error',
          503: 'error',
        },
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
        const items = names
          .sort()
          .reverse()
          .map(describe)
          .filter((b) => b !== null)
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
