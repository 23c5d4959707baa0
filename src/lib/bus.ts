/** What live subscribers receive: one thing that happened, scoped to its owner and where it happened. */
export type LiveEvent = {
  /** increasing, for Last-Event-ID */
  id: number
  type: string
  ownerId: string
  projectId?: string | null
  machineId?: string | null
  workspaceId?: string | null
  sessionId?: string | null
  data: Record<string, unknown>
  at: string
  /** the event as subscribers see it (without the owner id), serialised once for all of them */
  json: string
}
export type NewLiveEvent = Omit<LiveEvent, 'id' | 'at' | 'json'>

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
  replayBytes = 16 * 1024 * 1024,
}: {
  replay?: number
  replayBytes?: number
} = {}): EventBus {
  const listeners = new Set<(event: LiveEvent) => void>()
  const window: LiveEvent[] = []
  let windowBytes = 0
  let next = 1
  return {
    publish(e) {
      const { ownerId: _owner, ...visible } = e
      const id = next++
      const at = new Date().toISOString()
      const event: LiveEvent = { ...e, id, at, json: JSON.stringify({ ...visible, id, at }) }
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
      if (id >= next - 1) return []
      const first = window[0]
      if (!first || id < first.id - 1) return null
      return window.slice(id - first.id + 1)
    },
  }
}
