/** One thing that happened, as it is published: scoped to its owner and where it happened. */
export type NewLiveEvent = {
  type: string
  ownerId: string
  projectId?: string | null
  machineId?: string | null
  workspaceId?: string | null
  sessionId?: string | null
  data: Record<string, unknown>
}

/**
 * What the bus keeps and subscribers receive: the scope to filter on, and the event serialised once for all of them
 * (without the owner id). The data lives only in `json`, so the replay window holds nothing twice.
 */
export type LiveEvent = Omit<NewLiveEvent, 'data'> & {
  /** increasing, for Last-Event-ID */
  id: number
  at: string
  json: string
}

/**
 * Cross-module notifications, published after the write commits. An interface, so a PostgreSQL LISTEN/NOTIFY or
 * Redis implementation can replace the in-process one when several instances serve one database.
 */
export interface EventBus {
  publish(event: NewLiveEvent): void
  subscribe(listener: (event: LiveEvent) => void): () => void
  /** events after `id` still in the replay window, or null when `id` is older than the window (a gap) */
  since(id: number): LiveEvent[] | null
}

/**
 * The in-process bus: synchronous fan-out and a replay window for reconnecting clients, bounded by its number of
 * events and by their serialised size (an import's events carry the messages it added).
 */
export function createMemoryBus({
  replay = 10_000,
  replayBytes = 8 * 1024 * 1024,
  // ids go on rising across restarts (a thousand a millisecond of the last run's life to spare), so an id a client
  // kept from before a restart is never taken for a newer one: it is older than the window, and gets a reset
  firstId = Date.now() * 1000,
}: {
  replay?: number
  replayBytes?: number
  firstId?: number
} = {}): EventBus {
  const listeners = new Set<(event: LiveEvent) => void>()
  const window: LiveEvent[] = []
  let windowBytes = 0
  let next = firstId
  return {
    publish(e) {
      const { ownerId, data, ...scope } = e
      const id = next++
      const at = new Date().toISOString()
      const event: LiveEvent = { ...scope, ownerId, id, at, json: JSON.stringify({ ...scope, data, id, at }) }
      window.push(event)
      windowBytes += event.json.length
      while (window.length > replay || (windowBytes > replayBytes && window.length > 1))
        windowBytes -= (window.shift() as LiveEvent).json.length
      for (const listener of listeners) listener(event)
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    since(id) {
      if (id === next - 1) return []
      if (id > next - 1) return null // not an id of this bus: tell the client to start again
      const first = window[0]
      if (!first || id < first.id - 1) return null
      return window.slice(id - first.id + 1)
    },
  }
}
