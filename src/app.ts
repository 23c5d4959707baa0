import { join } from 'node:path'
import { Elysia } from 'elysia'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { Config } from './config'
import type { Db } from './db/client'
import { createMemoryBus, type EventBus } from './lib/bus'
import { httpPlugin } from './lib/http'
import type { Pricing } from './lib/pricing'
import { createRateLimiter } from './lib/rate-limit'
import { createReadCache } from './lib/read-cache'
import { securityHeaders } from './lib/security'
import { adminModule } from './modules/admin'
import { analyticsModule } from './modules/analytics'
import { createAnalyticsRepository } from './modules/analytics/repository'
import { createAnalyticsService } from './modules/analytics/service'
import { authModule } from './modules/auth'
import { authenticateHeaders, authGuard } from './modules/auth/guard'
import { createAuthRepository } from './modules/auth/repository'
import { createAuthService } from './modules/auth/service'
import { conversationsModule } from './modules/conversations'
import { createConversationRepository } from './modules/conversations/repository'
import { createConversationService } from './modules/conversations/service'
import { docsModule } from './modules/docs'
import { eventsModule } from './modules/events'
import { createEventRepository } from './modules/events/repository'
import { createEventService } from './modules/events/service'
import { filesModule } from './modules/files'
import { createFileRepository } from './modules/files/repository'
import { createFileService, IMPORT_FILE_JOB } from './modules/files/service'
import { healthModule } from './modules/health'
import { hierarchyModule } from './modules/hierarchy'
import { createHierarchyRepository } from './modules/hierarchy/repository'
import { createHierarchyService } from './modules/hierarchy/service'
import { createIngestRepository } from './modules/ingest/repository'
import { createIngestService } from './modules/ingest/service'
import { createJobRepository } from './modules/jobs/repository'
import { createJobQueue } from './modules/jobs/service'
import { liveModule } from './modules/live'
import { relayOtherWriters } from './modules/live/relay'
import { createLiveService } from './modules/live/service'
import { messagesModule } from './modules/messages'
import { createMessageRepository } from './modules/messages/repository'
import { createMessageService } from './modules/messages/service'
import { searchModule } from './modules/search'
import { createSearchRepository } from './modules/search/repository'
import { createSearchService } from './modules/search/service'
import { usersModule } from './modules/users'
import { createUserRepository } from './modules/users/repository'
import { createUserService } from './modules/users/service'

export type AppDeps = {
  config: Config
  db: Db
  logger: Logger
  pricing: Pricing
  /** cross-module notifications; in-process unless another implementation is given */
  bus?: EventBus
}

const MINUTE = 60_000

/** The one place modules are mounted. Everything the app needs comes in through `deps`. */
export function createApp({ config, db, logger, pricing, bus = createMemoryBus() }: AppDeps) {
  const registry = new Registry()
  const users = createUserService(createUserRepository(db), { allowSignup: config.allowSignup })
  const auth = createAuthService(createAuthRepository(db), users, { jwtSecret: config.jwtSecret })
  const guard = authGuard({ auth, limiter: createRateLimiter({ max: config.rateLimit, windowMs: MINUTE }) })
  const authLimiter = createRateLimiter({ max: config.authRateLimit, windowMs: MINUTE })
  const reads = createReadCache(db)
  const conversations = createConversationService(createConversationRepository(db), reads)
  const messages = createMessageService(createMessageRepository(db), conversations, pricing, bus, reads)
  const ingestRepo = createIngestRepository(db)
  const hierarchy = createHierarchyService(createHierarchyRepository(db), conversations)
  const ingest = createIngestService(ingestRepo, {
    pricing,
    maxLineBytes: config.maxLineBytes,
    bus,
    place: hierarchy.place,
  })
  const events = createEventService({ repo: createEventRepository(db), hierarchy, bus, logger })
  const live = createLiveService({
    bus,
    placementOfSession: hierarchy.placementOfSession,
    isActive: async (id) => (await users.findActive(id)) !== undefined,
  })
  // the queue and the file service need each other: jobs run files.process, files enqueue jobs
  const queue = createJobQueue({
    repo: createJobRepository(db),
    logger,
    handlers: { [IMPORT_FILE_JOB]: (payload, { signal }) => files.process(String(payload.fileId), signal) },
  })
  const files = createFileService({
    repo: createFileRepository(db),
    ingest,
    enqueue: queue.enqueue,
    uploadsDir: join(config.dataDir, 'uploads'),
    maxUploadBytes: config.maxUploadBytes,
    importRoots: config.importRoots,
    bus,
  })
  queue.start()
  const relay = relayOtherWriters({ db, repo: ingestRepo, bus })

  const stopping = new AbortController()
  /**
   * Ends what would keep a stopping server busy: a backup under way ends (leaving no part behind), live streams end
   * (clients reconnect once it is back), the relay stops, and the job queue stops at its next chunk boundary (the
   * job resumes there on the next start). The entry point calls it before draining; `app.stop()` runs it too.
   */
  const shutdown = async () => {
    stopping.abort()
    live.endAll()
    relay.stop()
    await queue.stop()
  }

  // normalize: false, so unknown body fields are rejected (422) instead of silently dropped.
  const app = new Elysia({ normalize: false })
    .use(
      httpPlugin({
        logger,
        registry,
        security: securityHeaders({ corsOrigins: config.corsOrigins, hstsMaxAge: config.hstsMaxAge }),
        maxBodyBytes: config.maxBodyBytes,
        maxUploadBytes: config.maxUploadBytes,
      }),
    )
    .use(docsModule())
    .use(healthModule({ db, dbPath: config.dbPath, registry }))
    .use(authModule({ auth, users, guard, authLimiter, trustProxy: config.trustProxy }))
    .use(usersModule({ users, guard }))
    .use(conversationsModule({ conversations, messages, ingest, reads, guard }))
    .use(messagesModule({ messages, reads, guard }))
    .use(filesModule({ files, guard, importLimiter: authLimiter }))
    .use(searchModule({ search: createSearchService(createSearchRepository(db)), reads, guard }))
    .use(analyticsModule({ analytics: createAnalyticsService(createAnalyticsRepository(db)), reads, guard }))
    .use(hierarchyModule({ hierarchy, reads, guard }))
    .use(eventsModule({ events, hierarchy, conversations, guard }))
    .use(adminModule({ db, backupsDir: join(config.dataDir, 'backups'), stopping: stopping.signal, guard }))
    .use(liveModule({ live, guard, authenticate: (headers) => authenticateHeaders(auth, headers) }))
    .onStop(shutdown)
  return Object.assign(app, { shutdown })
}

export type App = ReturnType<typeof createApp>
