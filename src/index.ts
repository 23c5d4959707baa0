import pino from 'pino'
import { createApp } from './app'
import { ConfigError, loadConfig } from './config'
import { startCheckpointer } from './db/checkpointer'
import { closeDatabase, openDatabase } from './db/client'
import { runMigrations } from './db/migrate'
import { MULTIPART_SLACK } from './lib/http'
import { createPricing } from './lib/pricing'

const SHUTDOWN_GRACE_MS = 10_000

async function start() {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    console.error(`observatory: invalid configuration: ${e.message}`)
    process.exit(1)
  }
  const logger = pino({ level: config.logLevel })
  if (config.jwtSecretGenerated)
    logger.warn('JWT_SECRET is not set: using a random secret for this process; tokens will not survive a restart')

  const db = openDatabase(config.dbPath)
  runMigrations(db)
  const checkpointer = config.dbPath === ':memory:' ? null : await startCheckpointer(db, config.dbPath)
  const app = createApp({ config, db, logger, pricing: createPricing(config.prices) })
  try {
    app.listen({
      port: config.port,
      hostname: config.host,
      maxRequestBodySize: Math.max(config.maxBodyBytes, config.maxUploadBytes + MULTIPART_SLACK),
      // Elysia asks for SO_REUSEPORT: a second server on the port would then silently take half the requests
      reusePort: false,
    })
  } catch (e) {
    console.error(`observatory: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`)
    await app.shutdown()
    await checkpointer?.stop()
    closeDatabase(db)
    process.exit(1)
  }
  logger.info({ url: app.server?.url.href, db: config.dbPath }, 'observatory listening')

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down: finishing in-flight requests')
    const server = app.server
    // live streams end now, and the job queue stops at its next chunk boundary
    const stopped = app.shutdown()
    if (server) {
      // Stop accepting; wait for in-flight requests, but not forever.
      const drained = server.stop(false)
      const timedOut = await Promise.race([drained.then(() => false), Bun.sleep(SHUTDOWN_GRACE_MS).then(() => true)])
      if (timedOut) await server.stop(true)
    }
    await stopped
    await checkpointer?.stop()
    closeDatabase(db)
    logger.info('stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

await start()
