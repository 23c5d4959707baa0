import type { Actor } from '../../lib/actor'
import type { EventBus, LiveEvent } from '../../lib/bus'

export const HEARTBEAT_MS = 5_000
/** WebSocket tickets: single use, short-lived, so no long-lived credential ever sits in a URL */
export const TICKET_TTL_MS = 30_000

export type LiveFilter = {
  projectId?: string
  machineId?: string
  workspaceId?: string
  sessionId?: string
  /** event types to receive (all when empty) */
  types?: string[]
}

/** What a subscriber is sent: a matching event, a heartbeat, or word that missed events could not be replayed. */
export type LiveMessage = { kind: 'event'; event: LiveEvent } | { kind: 'heartbeat' } | { kind: 'reset' }

type Placement = { projectId: string | null; machineId: string | null; workspaceId: string | null }

/**
 * Live updates for one subscriber: the caller's own events (an admin's: everyone's) that match the filter, replayed
 * from Last-Event-ID when it is still in the bus's window, and the subscription ended once the user is gone.
 */
export function createLiveService({
  bus,
  placementOfSession,
  isActive,
  heartbeatMs = HEARTBEAT_MS,
}: {
  /** how often a subscriber gets a heartbeat and its user is checked again */
  heartbeatMs?: number
  bus: EventBus
  /** where a session ran, for events published with only a session id */
  placementOfSession: (sessionId: string) => Promise<Placement | null>
  isActive: (userId: string) => Promise<boolean>
}) {
  const matches = async (actor: Actor, f: LiveFilter, e: LiveEvent) => {
    if (actor.role !== 'admin' && e.ownerId !== actor.id) return false
    if (f.types?.length && !f.types.includes(e.type)) return false
    if (f.sessionId && e.sessionId !== f.sessionId) return false
    if (!f.projectId && !f.machineId && !f.workspaceId) return true
    let place: Placement = {
      projectId: e.projectId ?? null,
      machineId: e.machineId ?? null,
      workspaceId: e.workspaceId ?? null,
    }
    if (!place.workspaceId && e.sessionId) place = (await placementOfSession(e.sessionId)) ?? place
    return (
      (!f.projectId || place.projectId === f.projectId) &&
      (!f.machineId || place.machineId === f.machineId) &&
      (!f.workspaceId || place.workspaceId === f.workspaceId)
    )
  }

  const tickets = new Map<string, { actor: Actor; expires: number }>()
  /** each open subscription's way to end it, for the server's shutdown */
  const open = new Set<() => void>()
  let ending = false

  return {
    /** A one-time ticket for opening a WebSocket from a browser, which cannot send an Authorization header. */
    issueTicket(actor: Actor) {
      const now = Date.now()
      for (const [k, v] of tickets) if (v.expires < now) tickets.delete(k)
      const ticket = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
      tickets.set(ticket, { actor, expires: now + TICKET_TTL_MS })
      return { ticket, expires_in: TICKET_TTL_MS / 1000 }
    },
    /** The actor a ticket was issued to, once; undefined for an unknown, used or expired ticket. */
    async redeemTicket(ticket: string) {
      const entry = tickets.get(ticket)
      tickets.delete(ticket)
      if (!entry || entry.expires < Date.now() || !(await isActive(entry.actor.id))) return undefined
      return entry.actor
    },
    /**
     * Subscribes `send` to matching events, first replaying those after `lastEventId` (or telling the client about a
     * gap with a `reset` event). At each heartbeat `allowed` is asked again (by default: the user is still active;
     * a stream opened with a credential checks that credential: a revoked key or an expired token ends it too), and
     * `close('revoked')` is called once it says no; `close('shutdown')` when the server stops. Returns the
     * unsubscribe.
     */
    subscribe(
      actor: Actor,
      f: LiveFilter,
      lastEventId: number | null,
      send: (message: LiveMessage) => void,
      close: (why: 'revoked' | 'shutdown') => void,
      allowed: () => Promise<boolean> = () => isActive(actor.id),
    ) {
      // events that arrive while the replay is being filtered wait their turn, so the order holds
      let queue = Promise.resolve()
      const deliver = (e: LiveEvent) => {
        queue = queue.then(async () => {
          if (await matches(actor, f, e)) send({ kind: 'event', event: e })
        })
      }
      if (lastEventId !== null) {
        const missed = bus.since(lastEventId)
        if (missed === null) send({ kind: 'reset' })
        else for (const e of missed) deliver(e)
      }
      const unsubscribe = bus.subscribe(deliver)
      const heartbeat = setInterval(async () => {
        if (!(await allowed())) {
          stop()
          close('revoked')
          return
        }
        send({ kind: 'heartbeat' })
      }, heartbeatMs)
      const stop = () => {
        clearInterval(heartbeat)
        unsubscribe()
        open.delete(end)
      }
      const end = () => {
        stop()
        close('shutdown')
      }
      open.add(end)
      // (one that arrives while the server stops, its credential checked as the rest were ended, ends at once)
      if (ending) queueMicrotask(end)
      return stop
    },
    /**
     * Ends every subscription, and each one made from now on, so that open streams do not hold a stopping server
     * until its grace runs out.
     */
    endAll() {
      ending = true
      for (const end of [...open]) end()
    },
  }
}
export type LiveService = ReturnType<typeof createLiveService>
