import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Logger } from 'pino'
import { type Actor, ownerScope } from '../../lib/actor'
import type { EventBus } from '../../lib/bus'
import { AppError, errorMessage } from '../../lib/errors'
import { iso } from '../../lib/models'
import type { HierarchyService, Placement } from '../hierarchy/service'
import { BatchEvent, type HookPayload, MAX_BATCH } from './model'
import type { EventFilter, EventRepository, EventRow, HookToolCall, NewEventRow } from './repository'

const RESULT_EXCERPT = 2000
/** how long the same hook payload again counts as a retry of the same event */
export const HOOK_RETRY_MS = 5_000
const checkBatchEvent = TypeCompiler.Compile(BatchEvent)

const excerpt = (v: unknown) => {
  const text = typeof v === 'string' ? v : JSON.stringify(v ?? null)
  return text.length > RESULT_EXCERPT ? `${text.slice(0, RESULT_EXCERPT)}…` : text
}

export const toEvent = (e: EventRow) => ({
  id: e.id,
  event_id: e.eventId,
  type: e.type,
  session_id: e.sessionId,
  workspace_id: e.workspaceId,
  machine_id: e.machineId,
  project_id: e.projectId,
  tool_name: e.toolName,
  tool_use_id: e.toolUseId,
  payload: e.payload,
  timestamp: iso(e.timestamp),
})

/** The tool call a hook describes: PreToolUse starts it, PostToolUse(Failure) ends it. */
function toolCallOf(h: HookPayload, at: number): HookToolCall | null {
  const id = typeof h.tool_use_id === 'string' ? h.tool_use_id : null
  const name = typeof h.tool_name === 'string' ? h.tool_name : ''
  if (!id) return null
  if (h.hook_event_name === 'PreToolUse') return { kind: 'start', id, name, input: h.tool_input, at }
  if (h.hook_event_name === 'PostToolUse')
    return { kind: 'end', id, name, result: excerpt(h.tool_response), isError: false, at }
  if (h.hook_event_name === 'PostToolUseFailure')
    return { kind: 'end', id, name, result: excerpt(h.error), isError: true, at }
  return null
}

/** Claude Code hook events and generic agent events: stored whole, linked to where they happened, published live. */
export function createEventService({
  repo,
  hierarchy,
  bus,
  logger,
}: {
  repo: EventRepository
  hierarchy: HierarchyService
  bus: EventBus
  logger: Logger
}) {
  const publish = (e: NewEventRow) =>
    bus.publish({
      type: 'event',
      ownerId: e.ownerId,
      projectId: e.projectId,
      machineId: e.machineId,
      workspaceId: e.workspaceId,
      sessionId: e.sessionId,
      data: toEvent({ ...e, seq: 0, eventId: e.eventId ?? null } as EventRow),
    })

  return {
    /**
     * Records a hook payload. Never throws for a well-formed payload: Claude Code waits on this call, so a problem
     * on our side is logged and the hook still gets its 2xx.
     */
    async recordHook(actor: Actor, hook: HookPayload, client: { machineId?: string; hostname?: string }) {
      try {
        const now = Date.now()
        let placement: Placement | null = null
        if (hook.cwd) {
          placement = await hierarchy
            .place(actor.id, { sessionId: hook.session_id, cwd: hook.cwd, ...client })
            .catch((e: unknown) => {
              if (e instanceof AppError) return null // e.g. a session of another account: keep the event unlinked
              throw e
            })
        }
        // The same payload again within HOOK_RETRY_MS (a retried hook) is the same event; later, a new one: Claude
        // Code sends the same Stop payload at the end of every turn. Its id names the window of HOOK_RETRY_MS it came
        // in; one of the window before counts when it came less than HOOK_RETRY_MS ago.
        const hash = new Bun.CryptoHasher('sha256').update(JSON.stringify(hook)).digest('hex')
        const window = Math.floor(now / HOOK_RETRY_MS)
        const event: NewEventRow = {
          id: Bun.randomUUIDv7(),
          ownerId: actor.id,
          eventId: `hook:${hash}:${window}`,
          type: hook.hook_event_name,
          sessionId: hook.session_id,
          workspaceId: placement?.workspaceId ?? null,
          // the placement's machine (the one the header names)
          machineId: placement?.machineId ?? null,
          projectId: placement?.projectId ?? null,
          toolName: typeof hook.tool_name === 'string' ? hook.tool_name : null,
          toolUseId: typeof hook.tool_use_id === 'string' ? hook.tool_use_id : null,
          payload: hook,
          timestamp: now,
          createdAt: now,
        }
        const created = await repo.recordHook(event, placement ? toolCallOf(hook, now) : null, {
          eventId: `hook:${hash}:${window - 1}`,
          since: now - HOOK_RETRY_MS,
        })
        if (created) publish(event)
      } catch (e) {
        logger.error({ err: e, session_id: hook.session_id, hook: hook.hook_event_name }, 'hook event not recorded')
      }
      return {}
    },

    /** Stores up to MAX_BATCH events; each one is created, a duplicate (same event_id), or an error with its reason. */
    async recordBatch(actor: Actor, items: unknown[]) {
      if (items.length > MAX_BATCH)
        throw new AppError(
          413,
          'PAYLOAD_TOO_LARGE',
          `a batch holds at most ${MAX_BATCH} events; this one has ${items.length}`,
        )
      const now = Date.now()
      type Result = {
        index: number
        event_id: string | null
        status: 'created' | 'duplicate' | 'error'
        reason?: string
      }
      const results: Result[] = []
      const rows: { index: number; row: NewEventRow }[] = []
      const placements = new Map<string, Placement | null>()
      for (const [index, item] of items.entries()) {
        const eventId =
          typeof (item as { event_id?: unknown })?.event_id === 'string'
            ? (item as { event_id: string }).event_id
            : null
        if (!checkBatchEvent.Check(item)) {
          const first = checkBatchEvent.Errors(item).First()
          results[index] = {
            index,
            event_id: eventId,
            status: 'error',
            reason: `${first?.path || '/'}: ${first ? errorMessage(first) : 'does not match the schema'}`,
          }
          continue
        }
        // placed by the workspace it names, else by where its session ran
        const key = item.workspace_id
          ? `workspace:${item.workspace_id}`
          : item.session_id && `session:${item.session_id}`
        let placement: Placement | null = null
        if (key) {
          if (!placements.has(key))
            placements.set(
              key,
              item.workspace_id
                ? await hierarchy.placementOf(actor.id, item.workspace_id)
                : await hierarchy.placementOfOwnSession(actor.id, item.session_id as string),
            )
          placement = placements.get(key) ?? null
        }
        rows.push({
          index,
          row: {
            id: Bun.randomUUIDv7(),
            ownerId: actor.id,
            eventId: item.event_id,
            type: item.type,
            sessionId: item.session_id ?? null,
            workspaceId: placement?.workspaceId ?? null,
            machineId: placement?.machineId ?? item.machine_id ?? null,
            projectId: placement?.projectId ?? null,
            toolName: item.tool_name ?? null,
            toolUseId: item.tool_use_id ?? null,
            payload: item.payload ?? {},
            timestamp: item.timestamp ? Date.parse(item.timestamp) : now,
            createdAt: now,
          },
        })
      }
      const created = await repo.insertMany(rows.map((r) => r.row))
      for (const [i, { index, row }] of rows.entries()) {
        results[index] = { index, event_id: row.eventId ?? null, status: created[i] ? 'created' : 'duplicate' }
        if (created[i]) publish(row)
      }
      const count = (s: Result['status']) => results.filter((r) => r.status === s).length
      return { created: count('created'), duplicates: count('duplicate'), errors: count('error'), results }
    },

    /** Whether the actor may see any event of this session id (an admin: anyone's). */
    async hasSession(actor: Actor, sessionId: string) {
      return (await repo.list({ ownerId: ownerScope(actor), sessionId }, 1, 0)).total > 0
    },
    /** Events the actor may see (an admin: everyone's), or those of `owner` when given (a session's owner). */
    async list(actor: Actor, f: Omit<EventFilter, 'ownerId'>, limit = 50, offset = 0, owner?: string) {
      const { rows, total } = await repo.list({ ...f, ownerId: owner ?? ownerScope(actor) }, limit, offset)
      return { items: rows.map(toEvent), total, limit, offset }
    },
  }
}
export type EventService = ReturnType<typeof createEventService>
