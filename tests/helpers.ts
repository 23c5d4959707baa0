import { treaty } from '@elysiajs/eden'
import pino from 'pino'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createPricing } from '../src/lib/pricing'

/** A fresh app on its own in-memory database, driven in-process through Eden. */
export function makeApp(env: Record<string, string> = {}) {
  const db = openDatabase(':memory:')
  runMigrations(db)
  const config = loadConfig({ NODE_ENV: 'test', DB_PATH: ':memory:', ...env })
  const app = createApp({ config, db, logger: pino({ level: 'silent' }), pricing: createPricing(config.prices) })
  return { app, db, api: treaty(app, { parseDate: false }), config }
}

/** Sends a raw request to the in-process app (for bodies and headers Eden would not send). */
export function raw(app: ReturnType<typeof makeApp>['app'], path: string, init: RequestInit = {}) {
  return app.handle(new Request(`http://localhost${path}`, init))
}

export const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

/** Asserts the one error body shape and returns it. */
export async function errorOf(response: Response) {
  const body = (await response.json()) as {
    success: boolean
    error: string
    code: string
    request_id: string
    timestamp: string
  }
  if (body.success !== false || typeof body.code !== 'string' || typeof body.error !== 'string')
    throw new Error(`not the error body: ${JSON.stringify(body)}`)
  return body
}

/** Counts rows of a table, to prove a rejected request changed nothing. */
export const countRows = (db: ReturnType<typeof makeApp>['db'], table: string) =>
  (db.$client.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
