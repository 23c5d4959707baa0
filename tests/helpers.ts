import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { treaty } from '@elysiajs/eden'
import pino from 'pino'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createPricing } from '../src/lib/pricing'

export const PASSWORD = 'correct horse battery staple'

/** The folder every test's files go under, removed once all tests have run (tests/setup.ts). */
export const TEST_ROOT = mkdtempSync(join(tmpdir(), 'observatory-test-'))
/** A fresh folder of the test's own under TEST_ROOT. */
export const testDir = (prefix: string) => mkdtempSync(join(TEST_ROOT, prefix))

/**
 * A fresh app on its own in-memory database, driven in-process through Eden. It has an admin (`admin`) and a
 * member (`alice`) already signed in; `api` speaks as alice.
 */
export async function makeApp(env: Record<string, string> = {}) {
  // uploads and backups go to a folder of the test's own, never the repository's ./data
  const dataDir = testDir('app-')
  const config = loadConfig({ NODE_ENV: 'test', DB_PATH: ':memory:', DATA_DIR: dataDir, ...env })
  const db = openDatabase(config.dbPath)
  runMigrations(db)
  const app = createApp({
    config,
    db,
    logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
    pricing: createPricing(config.prices),
  })
  const anon = treaty(app, { parseDate: false })

  const as = (token: string) => treaty(app, { parseDate: false, headers: { authorization: `Bearer ${token}` } })
  const login = async (email: string, password = PASSWORD) => {
    const r = await anon.api.auth.login.post({ email, password })
    if (!r.data) throw new Error(`login failed for ${email}: ${JSON.stringify(r.error?.value)}`)
    return r.data
  }

  const adminUser = await anon.api.auth.register.post({
    email: 'admin@example.com',
    password: PASSWORD,
    display_name: 'Admin',
  })
  if (!adminUser.data) throw new Error('could not register the first user')
  const adminTokens = await login('admin@example.com')
  const admin = { ...adminUser.data, token: adminTokens.access_token, api: as(adminTokens.access_token) }

  /** Creates a user with this role (as the admin), signs them in, and returns their id, token and client. */
  const user = async (name: string, role: 'admin' | 'member' | 'viewer' = 'member') => {
    const email = `${name}@example.com`
    const created = await admin.api.api.users.post({ email, password: PASSWORD, display_name: name, role })
    if (!created.data) throw new Error(`could not create ${name}: ${JSON.stringify(created.error?.value)}`)
    const tokens = await login(email)
    return {
      ...created.data,
      token: tokens.access_token,
      refreshToken: tokens.refresh_token,
      api: as(tokens.access_token),
    }
  }
  const alice = await user('alice')

  /** A raw request as alice (unless it carries its own authorization header). */
  const rawAs = (path: string, init: RequestInit = {}) =>
    raw(app, path, { ...init, headers: { ...bearer(alice.token), ...(init.headers as Record<string, string>) } })

  return { app, db, config, anon, as, login, admin, alice, user, api: alice.api, raw: rawAs }
}

/** Sends a raw request to the in-process app (for bodies and headers Eden would not send). */
export function raw(app: { handle(request: Request): Promise<Response> }, path: string, init: RequestInit = {}) {
  return app.handle(new Request(`http://localhost${path}`, init))
}

export const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

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
export const countRows = (db: Awaited<ReturnType<typeof makeApp>>['db'], table: string) =>
  (db.$client.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
