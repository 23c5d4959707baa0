import { Elysia } from 'elysia'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import type { Config } from './config'
import type { Db } from './db/client'
import { httpPlugin } from './lib/http'
import type { Pricing } from './lib/pricing'
import { conversationsModule } from './modules/conversations'
import { createConversationRepository } from './modules/conversations/repository'
import { createConversationService } from './modules/conversations/service'
import { docsModule } from './modules/docs'
import { healthModule } from './modules/health'
import { messagesModule } from './modules/messages'
import { createMessageRepository } from './modules/messages/repository'
import { createMessageService } from './modules/messages/service'

export type AppDeps = { config: Config; db: Db; logger: Logger; pricing: Pricing }

/** The one place modules are mounted. Everything the app needs comes in through `deps`. */
export function createApp({ config, db, logger, pricing }: AppDeps) {
  const registry = new Registry()
  const conversations = createConversationService(createConversationRepository(db))
  const messages = createMessageService(createMessageRepository(db), conversations, pricing)

  // normalize: false, so unknown body fields are rejected (422) instead of silently dropped.
  return new Elysia({ normalize: false })
    .use(httpPlugin({ logger, registry, maxBodyBytes: config.maxBodyBytes }))
    .use(docsModule())
    .use(healthModule({ db, dbPath: config.dbPath, registry }))
    .use(conversationsModule(conversations))
    .use(messagesModule(messages))
}

export type App = ReturnType<typeof createApp>
