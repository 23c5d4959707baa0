import { and, asc, count, eq, gte, lt, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { events } from '../../db/schema'

export type EventRow = typeof events.$inferSelect
export type NewEventRow = typeof events.$inferInsert
export type EventFilter = {
  ownerId: string | null
  projectId?: string
  sessionId?: string
  machineId?: string
  workspaceId?: string
  type?: string
  from?: number
  to?: number
}
export type HookToolCall =
  | { kind: 'start'; id: string; name: string; input: unknown; at: number }
  | { kind: 'end'; id: string; name: string; result: string; isError: boolean; at: number }

/** Drizzle only: agent events; hook tool calls go into tool_calls under the same key a transcript import uses. */
export function createEventRepository(db: Db) {
  const insertEvent = db.$client.prepare(
    `INSERT OR IGNORE INTO events (id, owner_id, event_id, type, session_id, workspace_id, machine_id, project_id,
       tool_name, tool_use_id, payload, timestamp, created_at)
     VALUES ($id, $ownerId, $eventId, $type, $sessionId, $workspaceId, $machineId, $projectId, $toolName, $toolUseId,
       $payload, $timestamp, $createdAt)`,
  )
  const toolStart = db.$client.prepare(
    `INSERT INTO tool_calls (id, owner_id, conversation_id, name, input, started_at) VALUES ($id, $ownerId, $sessionId, $name, $input, $at)
     ON CONFLICT (conversation_id, id) DO UPDATE SET name = excluded.name, input = coalesce(tool_calls.input, excluded.input),
       started_at = coalesce(tool_calls.started_at, excluded.started_at)`,
  )
  const toolEnd = db.$client.prepare(
    `INSERT INTO tool_calls (id, owner_id, conversation_id, name, result, is_error, ended_at) VALUES ($id, $ownerId, $sessionId, $name, $result, $isError, $at)
     ON CONFLICT (conversation_id, id) DO UPDATE SET result = coalesce(tool_calls.result, excluded.result),
       is_error = max(tool_calls.is_error, excluded.is_error), ended_at = coalesce(tool_calls.ended_at, excluded.ended_at),
       duration_ms = CASE WHEN tool_calls.started_at IS NOT NULL THEN coalesce(tool_calls.ended_at, excluded.ended_at) - tool_calls.started_at END`,
  )
  const row = (e: NewEventRow) => ({
    ...e,
    eventId: e.eventId ?? null,
    sessionId: e.sessionId ?? null,
    workspaceId: e.workspaceId ?? null,
    machineId: e.machineId ?? null,
    projectId: e.projectId ?? null,
    toolName: e.toolName ?? null,
    toolUseId: e.toolUseId ?? null,
    payload: JSON.stringify(e.payload),
  })
  // transactions made once (bun:sqlite's own, BEGIN IMMEDIATE): a hook arrives with every tool call
  const hasEventSince = db.$client.prepare<unknown, [string, string, number]>(
    'SELECT 1 FROM events WHERE owner_id = ? AND event_id = ? AND timestamp > ?',
  )
  const recordHookTx = db.$client.transaction(
    (e: NewEventRow, call: HookToolCall | null, sameAs: { eventId: string; since: number }) => {
      const created = !hasEventSince.get(e.ownerId, sameAs.eventId, sameAs.since) && insertEvent.run(row(e)).changes > 0
      if (created && call && e.sessionId) {
        const base = { id: call.id, ownerId: e.ownerId, sessionId: e.sessionId, name: call.name, at: call.at }
        if (call.kind === 'start') toolStart.run({ ...base, input: JSON.stringify(call.input ?? null) })
        else toolEnd.run({ ...base, result: call.result, isError: call.isError ? 1 : 0 })
      }
      return created
    },
  )
  const insertManyTx = db.$client.transaction((rows: NewEventRow[]) =>
    rows.map((e) => insertEvent.run(row(e)).changes > 0),
  )
  const where = (f: EventFilter): SQL | undefined =>
    and(
      f.ownerId !== null ? eq(events.ownerId, f.ownerId) : undefined,
      f.projectId !== undefined ? eq(events.projectId, f.projectId) : undefined,
      f.sessionId !== undefined ? eq(events.sessionId, f.sessionId) : undefined,
      f.machineId !== undefined ? eq(events.machineId, f.machineId) : undefined,
      f.workspaceId !== undefined ? eq(events.workspaceId, f.workspaceId) : undefined,
      f.type !== undefined ? eq(events.type, f.type) : undefined,
      f.from !== undefined ? gte(events.timestamp, f.from) : undefined,
      f.to !== undefined ? lt(events.timestamp, f.to) : undefined,
    )

  return {
    /**
     * Stores one hook event and its tool call in one transaction; false when the same event was stored before, under
     * its event_id, or under `sameAs.eventId` after `sameAs.since`.
     */
    async recordHook(e: NewEventRow, call: HookToolCall | null, sameAs: { eventId: string; since: number }) {
      return recordHookTx.immediate(e, call, sameAs)
    },
    /** Stores a batch in one transaction; per event, whether it was new. */
    async insertMany(rows: NewEventRow[]) {
      return insertManyTx.immediate(rows)
    },
    async list(f: EventFilter, limit: number, offset: number) {
      const condition = where(f)
      const rows = db
        .select()
        .from(events)
        .where(condition)
        .orderBy(asc(events.timestamp), asc(events.seq))
        .limit(limit)
        .offset(offset)
        .all()
      return { rows, total: db.select({ n: count() }).from(events).where(condition).get()?.n ?? 0 }
    },
  }
}
export type EventRepository = ReturnType<typeof createEventRepository>
