import { inArray, sql } from 'drizzle-orm'
import type { Config } from '../config'
import { startCheckpointer } from '../db/checkpointer'
import { closeDatabase, type Db, openDatabase } from '../db/client'
import { runMigrations } from '../db/migrate'
import { conversations } from '../db/schema'
import { createPricing } from '../lib/pricing'
import { createReadCache } from '../lib/read-cache'
import { createConversationRepository } from '../modules/conversations/repository'
import { createConversationService } from '../modules/conversations/service'
import { createHierarchyRepository } from '../modules/hierarchy/repository'
import { createHierarchyService } from '../modules/hierarchy/service'
import { createIngestRepository, type IngestRepository } from '../modules/ingest/repository'
import { createIngestService } from '../modules/ingest/service'
import { createUserRepository, type UserRepository, type UserRow } from '../modules/users/repository'
import { CliError } from './errors'
import { type Target, type Totals, thisMachine } from './target'

const BUSY_ATTEMPTS = 10
const ID_BATCH = 500

/** SQLITE_BUSY / SQLITE_LOCKED (and their extended codes), also when wrapped by Drizzle as an error's cause. */
export function isBusy(e: unknown): boolean {
  let c: unknown = e
  for (let depth = 0; c && depth < 5; depth++) {
    const code = (c as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) return true
    c = (c as { cause?: unknown }).cause
  }
  return false
}

/** Runs `fn` again after a short pause while the database stays busy beyond busy_timeout (a long write elsewhere). */
export async function retryBusy<T>(fn: () => T | Promise<T>, attempts = BUSY_ATTEMPTS, pauseMs = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (e) {
      if (!isBusy(e) || i >= attempts) throw e
      await Bun.sleep(pauseMs * i)
    }
  }
}

/**
 * The ingest repository with every call retried on SQLITE_BUSY. Each call is one statement or one transaction that
 * rolled back on the error, so running it again is safe: a chunk is retried, never half applied.
 */
export function withBusyRetry(repo: IngestRepository, attempts = BUSY_ATTEMPTS, pauseMs = 100): IngestRepository {
  const r = <A extends unknown[], T>(fn: (...args: A) => Promise<T>) => {
    return (...args: A) => retryBusy(() => fn(...args), attempts, pauseMs)
  }
  return {
    ...repo,
    findSource: r(repo.findSource),
    createSource: r(repo.createSource),
    retireSource: r(repo.retireSource),
    conversationOwners: r(repo.conversationOwners),
    attributedUsage: r(repo.attributedUsage),
    applyChunk: r(repo.applyChunk),
  }
}

/**
 * The owner of imported data: the user named by `--user`; else the only user; else the first admin to sign up.
 * No user at all is an error: imported records must belong to someone who can sign in to see them.
 */
export async function resolveOwner(users: UserRepository, email?: string): Promise<UserRow> {
  if (email) {
    const user = await users.findByEmail(email.toLowerCase())
    if (!user) throw new CliError(`no user with the email ${email}`)
    if (user.disabled) throw new CliError(`the account ${user.email} is disabled`)
    if (user.role === 'viewer')
      throw new CliError(`${user.email} is a viewer, who only reads: import as a member or an admin`)
    return user
  }
  const first = await users.list(200, 0)
  if (first.total === 0)
    throw new CliError(
      'there are no users yet: create the first (an admin) with `npm run cli -- user add you@example.com`, or register through the server (POST /api/auth/register)',
    )
  if (first.total === 1) {
    const only = first.rows[0] as UserRow
    if (only.disabled) throw new CliError(`the only account, ${only.email}, is disabled`)
    if (only.role === 'viewer') throw new CliError(`the only account, ${only.email}, is a viewer, who only reads`)
    return only
  }
  for (let offset = 0; ; offset += 200) {
    const page = offset === 0 ? first : await users.list(200, offset)
    const admin = page.rows.find((u) => u.role === 'admin' && !u.disabled)
    if (admin) return admin
    if (page.rows.length < 200) break
  }
  throw new CliError('there are several users and no enabled admin: name the owner with --user <email>')
}

/** Tokens and cost of these conversations, summed from the conversations table. */
export function conversationTotals(db: Db, ids: string[]): Totals {
  const totals: Totals = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, costUsd: 0 }
  for (let i = 0; i < ids.length; i += ID_BATCH) {
    const row = db
      .select({
        inputTokens: sql<number>`coalesce(sum(${conversations.inputTokens}), 0)`,
        outputTokens: sql<number>`coalesce(sum(${conversations.outputTokens}), 0)`,
        cacheCreationTokens: sql<number>`coalesce(sum(${conversations.cacheCreationTokens}), 0)`,
        cacheReadTokens: sql<number>`coalesce(sum(${conversations.cacheReadTokens}), 0)`,
        costUsd: sql<number>`coalesce(sum(${conversations.costUsd}), 0)`,
      })
      .from(conversations)
      .where(inArray(conversations.id, ids.slice(i, i + ID_BATCH)))
      .get()
    if (!row) continue
    for (const k of Object.keys(totals) as (keyof Totals)[]) totals[k] += Number(row[k])
  }
  return totals
}

/**
 * Imports into the database named by the configuration, through the same ingest service the server uses. Safe beside
 * a running server on the same file: WAL, busy_timeout, IMMEDIATE chunk transactions, and a retry if busy persists.
 */
export async function openLocalTarget(config: Config, { userEmail }: { userEmail?: string }): Promise<Target> {
  // openDatabase sets busy_timeout after journal_mode: a writer's checkpoint at that moment fails it at once
  const db = await retryBusy(() => openDatabase(config.dbPath))
  let checkpointer: Awaited<ReturnType<typeof startCheckpointer>> | undefined
  try {
    await retryBusy(() => runMigrations(db))
    // checkpoints from a thread of their own, as in the server: an import's commits never wait for one
    checkpointer = await startCheckpointer(db, config.dbPath)
    const owner = await resolveOwner(createUserRepository(db), userEmail)
    const conversations = createConversationService(createConversationRepository(db), createReadCache(db))
    const hierarchy = createHierarchyService(createHierarchyRepository(db), conversations)
    const machine = thisMachine()
    const ingest = createIngestService(withBusyRetry(createIngestRepository(db)), {
      pricing: createPricing(config.prices),
      maxLineBytes: config.maxLineBytes,
      place: (ownerId, session) => retryBusy(() => hierarchy.place(ownerId, session)),
    })
    return {
      mode: 'local',
      destination: config.dbPath,
      owner: owner.email,
      async importFile(file, onProgress) {
        const result = await ingest.importFile({
          ownerId: owner.id,
          path: file.path,
          sourceKey: file.path,
          displayName: file.displayName,
          machine,
          onProgress,
        })
        return {
          bytesDone: result.bytesDone,
          bytesTotal: result.bytesTotal,
          linesDone: result.linesDone,
          messagesAdded: result.messagesAdded,
          toolCallsAdded: result.toolCallsAdded,
          linesSkipped: result.linesSkipped,
          conversationIds: result.conversationIds,
          skipped: result.errors.map((e) => ({ line: e.line, reason: e.reason, message: e.message })),
        }
      },
      async totals(ids) {
        return retryBusy(() => conversationTotals(db, ids))
      },
      async close() {
        await checkpointer?.stop()
        closeQuietly(db)
      },
    }
  } catch (e) {
    await checkpointer?.stop()
    closeQuietly(db)
    throw e
  }
}

/** Closes the database; when a server holds it busy, the tidy-up (optimize, checkpoint) is left to the server. */
function closeQuietly(db: Db) {
  try {
    closeDatabase(db)
  } catch {
    db.$client.close()
  }
}
