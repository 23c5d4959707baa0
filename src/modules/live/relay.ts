import type { Db } from '../../db/client'
import type { EventBus } from '../../lib/bus'

const POLL_MS = 250
/** a writer stamps updated_at before its commit lands: rows this far behind the newest seen are looked at again */
const LOOKBACK_MS = 10_000

type Changed = { id: string; ownerId: string; updatedAt: number }

/**
 * Imports by another process on the same database (the CLI's import or watch beside the server) reach live
 * subscribers too. Only when another connection has committed (PRAGMA data_version moved) are the conversations
 * updated since the last look read, and each change is published once as `conversation.updated`, as the server's
 * own imports publish it.
 */
export function relayOtherWriters({ db, bus, pollMs = POLL_MS }: { db: Db; bus: EventBus; pollMs?: number }) {
  const dataVersion = db.$client.query<{ data_version: number }, []>('PRAGMA data_version')
  const changedSince = db.$client.query<Changed, [number]>(
    'SELECT id, owner_id AS ownerId, updated_at AS updatedAt FROM conversations WHERE updated_at >= ? ORDER BY updated_at',
  )
  let version = dataVersion.get()?.data_version
  let newest = Date.now()
  // (conversation, updated_at) pairs already published within the lookback
  const published = new Map<string, number>()

  const look = () => {
    const now = dataVersion.get()?.data_version
    if (now === version) return
    version = now
    for (const r of changedSince.all(newest - LOOKBACK_MS)) {
      if (published.get(r.id) === r.updatedAt) continue
      published.set(r.id, r.updatedAt)
      newest = Math.max(newest, r.updatedAt)
      bus.publish({
        type: 'conversation.updated',
        ownerId: r.ownerId,
        sessionId: r.id,
        data: { conversation_id: r.id, source: 'another process' },
      })
    }
    for (const [id, at] of published) if (at < newest - LOOKBACK_MS) published.delete(id)
  }

  const timer = setInterval(() => {
    try {
      look()
    } catch {
      // a busy or closing database: the next tick looks again
    }
  }, pollMs).unref()
  return { stop: () => clearInterval(timer) }
}
