import { statSync } from 'node:fs'
import { Elysia, t } from 'elysia'
import { Gauge, type Registry } from 'prom-client'
import type { Db } from '../../db/client'
import { isMigrated } from '../../db/migrate'
import { AppError, ErrorBody } from '../../lib/errors'
import { Integer } from '../../lib/models'

const fileSize = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** Liveness, readiness and Prometheus metrics of the service itself. */
export const healthModule = ({ db, dbPath, registry }: { db: Db; dbPath: string; registry: Registry }) => {
  new Gauge({
    name: 'observatory_db_size_bytes',
    help: 'Size of the SQLite database files',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      if (dbPath === ':memory:') return
      this.set({ file: 'db' }, fileSize(dbPath))
      this.set({ file: 'wal' }, fileSize(`${dbPath}-wal`))
    },
  })
  const ready = () => {
    try {
      db.$client.query('SELECT 1').get()
      return isMigrated(db) ? null : 'database has unapplied migrations'
    } catch (e) {
      return `database unreachable: ${(e as Error).message}`
    }
  }
  return new Elysia({ name: 'health', detail: { tags: ['health'] } })
    .model({ error: ErrorBody })
    .get('/health', () => ({ status: 'ok' as const, uptime_s: Math.round(process.uptime()) }), {
      response: {
        200: t.Object({ status: t.Literal('ok'), uptime_s: Integer() }, { examples: [{ status: 'ok', uptime_s: 42 }] }),
      },
      detail: { summary: 'Liveness: the process answers' },
    })
    .get(
      '/health/ready',
      () => {
        const problem = ready()
        if (problem) throw new AppError(503, 'NOT_READY', problem)
        return { status: 'ready' as const }
      },
      {
        response: {
          200: t.Object({ status: t.Literal('ready') }, { examples: [{ status: 'ready' }] }),
          503: 'error',
        },
        detail: { summary: 'Readiness: the database is reachable and fully migrated' },
      },
    )
    .get(
      '/metrics',
      async ({ set }) => {
        set.headers['content-type'] = registry.contentType
        return registry.metrics()
      },
      {
        response: {
          200: t.String({
            examples: ['# HELP http_request_duration_seconds HTTP request duration by method, route and status...'],
          }),
        },
        detail: { summary: 'Prometheus metrics: requests by route and status with durations, database and WAL size' },
      },
    )
}
