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
}
export type NewLiveEvent = Omit<LiveEvent, 'id' | 'at'>

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

/** The in-process bus: synchronous fan-out and a bounded replay window for reconnecting clients. */
export function createMemoryBus({ replay = 10_000 }: { replay?: number } = {}): EventBus {
  const listeners = new Set<(event: LiveEvent) => void>()
  const window: LiveEvent[] = []
  let next = 1
  return {
    publish(e) {
      const event: LiveEvent = { ...e, id: next++, at: new Date().toISOString() }
      window.push(event)
      if (window.length > replay) window.splice(0, window.length - replay)
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
