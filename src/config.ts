import { join, resolve } from 'node:path'
// Plain TypeBox: Elysia's t.Integer also accepts numeric strings, which would skip the conversion checked here.
import { Type as t } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { errorMessage } from './lib/errors'
import { loadPriceOverrides, type ModelPrice } from './lib/pricing'

const LogLevel = t.Union(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map((l) => t.Literal(l)))

/** Every environment variable the service reads, with its rule and default. */
const EnvSchema = t.Object({
  NODE_ENV: t.Union([t.Literal('development'), t.Literal('production'), t.Literal('test')], { default: 'development' }),
  PORT: t.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
  HOST: t.String({ minLength: 1, default: '0.0.0.0' }),
  DATA_DIR: t.String({ minLength: 1, default: './data' }),
  DB_PATH: t.Optional(t.String({ minLength: 1 })),
  LOG_LEVEL: t.Union(LogLevel.anyOf, { default: 'info' }),
  CORS_ORIGINS: t.String({ default: '', description: 'comma-separated origins, e.g. https://app.example.com' }),
  JWT_SECRET: t.Optional(t.String({ minLength: 32 })),
  MAX_BODY_MB: t.Number({ exclusiveMinimum: 0, maximum: 1024, default: 10 }),
  PRICES_FILE: t.Optional(t.String({ minLength: 1 })),
  MAX_UPLOAD_MB: t.Number({ exclusiveMinimum: 0, default: 1024 }),
  MAX_LINE_MB: t.Number({ exclusiveMinimum: 0, maximum: 1024, default: 64 }),
  IMPORT_ROOTS: t.String({ default: '', description: 'comma-separated server folders admins may import from' }),
  ALLOW_SIGNUP: t.Boolean({ default: false }),
  TRUST_PROXY: t.Boolean({ default: false }),
  HSTS_MAX_AGE: t.Integer({ minimum: 0, default: 0, description: 'seconds; 0 sends no Strict-Transport-Security' }),
  AUTH_RATE_LIMIT: t.Integer({ minimum: 1, default: 10, description: 'login/register/refresh attempts a minute' }),
  RATE_LIMIT: t.Integer({
    minimum: 1,
    default: 6000,
    description: 'requests a minute per account, all its tokens and API keys together (hooks included)',
  }),
})

export type Config = {
  env: 'development' | 'production' | 'test'
  port: number
  host: string
  dataDir: string
  dbPath: string
  logLevel: typeof LogLevel.static
  corsOrigins: string[]
  jwtSecret: string
  /** true when JWT_SECRET was not given and a random one was made for this process */
  jwtSecretGenerated: boolean
  maxBodyBytes: number
  /** model price overrides read from PRICES_FILE, on top of the built-in table */
  prices: Record<string, ModelPrice>
  maxUploadBytes: number
  /** transcript lines longer than this are reported and skipped */
  maxLineBytes: number
  /** absolute server folders that POST /api/files/import-path may read (empty: none) */
  importRoots: string[]
  /** anyone may register (after the first user, who becomes admin) */
  allowSignup: boolean
  /** take the client address from X-Forwarded-For (only behind a proxy that sets it) */
  trustProxy: boolean
  hstsMaxAge: number
  authRateLimit: number
  rateLimit: number
}

export class ConfigError extends Error {}

function parseOrigins(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((origin) => {
      let url: URL
      try {
        url = new URL(origin)
      } catch {
        throw new ConfigError(`CORS_ORIGINS: "${origin}" is not a URL origin such as https://app.example.com`)
      }
      if (url.origin !== origin.replace(/\/$/, ''))
        throw new ConfigError(`CORS_ORIGINS: "${origin}" must be an origin only (scheme, host, port), no path`)
      return url.origin
    })
}

function readPrices(path: string) {
  try {
    return loadPriceOverrides(path)
  } catch (e) {
    throw new ConfigError(`PRICES_FILE: ${path}: ${(e as Error).message}`)
  }
}

/** Reads and checks the environment once; throws ConfigError naming the bad variable and its rule. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = Object.fromEntries(
    Object.keys(EnvSchema.properties)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  )
  const value = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw))
  const first = Value.Errors(EnvSchema, value).First()
  if (first) {
    const name = first.path.replace(/^\//, '')
    throw new ConfigError(`${name}: ${errorMessage(first)} (got ${JSON.stringify(raw[name])})`)
  }
  const parsed = value as typeof EnvSchema.static
  if (parsed.NODE_ENV === 'production' && !parsed.JWT_SECRET)
    throw new ConfigError('JWT_SECRET: required when NODE_ENV=production (at least 32 characters)')
  const dataDir = parsed.DATA_DIR
  return {
    env: parsed.NODE_ENV,
    port: parsed.PORT,
    host: parsed.HOST,
    dataDir,
    dbPath: parsed.DB_PATH ?? join(dataDir, 'observatory.db'),
    logLevel: parsed.LOG_LEVEL,
    corsOrigins: parseOrigins(parsed.CORS_ORIGINS),
    jwtSecret: parsed.JWT_SECRET ?? Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
    jwtSecretGenerated: !parsed.JWT_SECRET,
    maxBodyBytes: Math.floor(parsed.MAX_BODY_MB * 1024 * 1024),
    prices: parsed.PRICES_FILE ? readPrices(parsed.PRICES_FILE) : {},
    maxUploadBytes: Math.floor(parsed.MAX_UPLOAD_MB * 1024 * 1024),
    maxLineBytes: Math.floor(parsed.MAX_LINE_MB * 1024 * 1024),
    importRoots: parsed.IMPORT_ROOTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((root) => resolve(root)),
    allowSignup: parsed.ALLOW_SIGNUP,
    trustProxy: parsed.TRUST_PROXY,
    hstsMaxAge: parsed.HSTS_MAX_AGE,
    authRateLimit: parsed.AUTH_RATE_LIMIT,
    rateLimit: parsed.RATE_LIMIT,
  }
}
