import type { Db } from '../../db/client'
import type { EventBus } from '../../lib/bus'
import { conversationUpdated } from '../ingest/changes'
import type { IngestRepository } from '../ingest/repository'

const POLL_MS = 250
/** a writer stamps updated_at before its commit lands: rows this far behind the newest seen are looked at again */
const LOOKBACK_MS = 10_000
/** messages read per look: a large import beside the server is caught up look after look, with no pause between */
const MESSAGES_PER_LOOK = 1_000
const SOURCE = 'another process'

type Changed = { id: string; ownerId: string; updatedAt: number }

/**
 * Imports by another process on the same database (the CLI's import or watch beside the server) reach live
 * subscribers too. Only when another connection has committed (PRAGMA data_version moved) are the messages stored
 * since the last look read, and the conversations updated since then; each conversation is published as
 * `conversation.updated` with the messages and tool calls added to it, as the server's own imports publish it.
 * Messages this process stored between the same two looks as another's commit are told a second time.
 */
export function relayOtherWriters({
  db,
  repo,
  bus,
  pollMs = POLL_MS,
  messagesPerLook = MESSAGES_PER_LOOK,
}: {
  db: Db
  repo: IngestRepository
  bus: EventBus
  pollMs?: number
  messagesPerLook?: number
}) {
  const dataVersion = db.$client.query<{ data_version: number }, []>('PRAGMA data_version')
  const changedSince = db.$client.query<Changed, [number]>(
    'SELECT id, owner_id AS ownerId, updated_at AS updatedAt FROM conversations WHERE updated_at >= ? ORDER BY updated_at',
  )
  let version = dataVersion.get()?.data_version
  let seq = 0
  void repo.lastMessageSeq().then((last) => {
    seq = last
  })
  let behind = false
  let newest = Date.now()
  // (conversation, updated_at) pairs already published within the lookback
  const published = new Map<string, number>()

  const look = async () => {
    // read before data_version: if no one else committed since the last look, every message up to here is this
    // process's own (published by its own imports) or already relayed
    const last = await repo.lastMessageSeq()
    const now = dataVersion.get()?.data_version
    if (now === version && !behind) {
      seq = last
      return
    }
    version = now
    const added = await repo.changesAfter(seq, messagesPerLook)
    seq = added.seq
    behind = added.more
    const updated = new Map<string, Changed>()
    for (const r of changedSince.all(newest - LOOKBACK_MS))
      if (published.get(r.id) !== r.updatedAt) updated.set(r.id, r)
    for (const id of new Set([...added.conversations.keys(), ...updated.keys()])) {
      const change = added.conversations.get(id)
      const row = updated.get(id)
      if (row) {
        published.set(id, row.updatedAt)
        newest = Math.max(newest, row.updatedAt)
      }
      bus.publish(conversationUpdated((change?.ownerId ?? row?.ownerId) as string, id, SOURCE, change?.change))
    }
    for (const [id, at] of published) if (at < newest - LOOKBACK_MS) published.delete(id)
  }

  let timer: Timer | undefined
  let stopped = false
  const tick = async () => {
    try {
      await look()
    } catch {
      // a busy or closing database: the next tick looks again
    }
    if (!stopped) timer = setTimeout(tick, behind ? 0 : pollMs).unref()
  }
  timer = setTimeout(tick, pollMs).unref()
  return {
    stop: () => {
      stopped = true
      clearTimeout(timer)
    },
  }
}
