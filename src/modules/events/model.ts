import { t } from 'elysia'
import { ClientId, DateTimeInput, Integer } from '../../lib/models'

export const MAX_BATCH = 1000

/** A generic agent event in a batch; checked one by one, so one bad event does not sink the batch. */
export const BatchEvent = t.Object(
  {
    event_id: t.String({
      minLength: 1,
      maxLength: 128,
      description: 'Your id for the event: sending it again creates nothing',
    }),
    type: t.String({ minLength: 1, maxLength: 128 }),
    timestamp: t.Optional(DateTimeInput()),
    session_id: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
    workspace_id: t.Optional(ClientId),
    machine_id: t.Optional(ClientId),
    tool_name: t.Optional(t.String({ maxLength: 256 })),
    tool_use_id: t.Optional(t.String({ maxLength: 128 })),
    payload: t.Optional(t.Record(t.String(), t.Unknown())),
  },
  { additionalProperties: false },
)

export const EventsModel = {
  'events.BatchEvent': BatchEvent,
  'events.Hook': t.Object(
    {
      session_id: t.String({ minLength: 1, maxLength: 128 }),
      hook_event_name: t.String({ minLength: 1, maxLength: 128 }),
      cwd: t.Optional(t.String({ maxLength: 4096 })),
    },
    {
      additionalProperties: true,
      description: 'The JSON Claude Code sends to a "type": "http" hook; every field is kept.',
      examples: [
        {
          session_id: 'ae4a77f8-aedd-4bc1-888f-c94edc91af04',
          transcript_path: '/home/ada/.claude/projects/-home-ada-shop/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl',
          cwd: '/home/ada/shop',
          permission_mode: 'default',
          hook_event_name: 'PreToolUse',
          tool_name: 'Bash',
          tool_input: { command: 'bun test' },
          tool_use_id: 'toolu_01ABC',
        },
      ],
    },
  ),
  'events.HookReply': t.Object({}, { description: 'Always empty: Claude Code only needs a quick 2xx', examples: [{}] }),
  'events.Batch': t.Object({
    // items are checked one by one, so that a bad one is reported in its place rather than failing the batch
    events: t.Array(t.Unknown(), {
      description: `Up to ${MAX_BATCH} events (more: 413), each an events.BatchEvent (see Schemas)`,
    }),
  }),
  'events.BatchResult': t.Object(
    {
      created: Integer(),
      duplicates: Integer(),
      errors: Integer(),
      results: t.Array(
        t.Object({
          index: Integer(),
          event_id: t.Union([t.String(), t.Null()]),
          status: t.Union([t.Literal('created'), t.Literal('duplicate'), t.Literal('error')]),
          reason: t.Optional(t.String()),
        }),
      ),
    },
    {
      examples: [
        {
          created: 1,
          duplicates: 1,
          errors: 1,
          results: [
            { index: 0, event_id: 'e-1', status: 'created' },
            { index: 1, event_id: 'e-0', status: 'duplicate' },
            { index: 2, event_id: null, status: 'error', reason: '/event_id: Expected required property' },
          ],
        },
      ],
    },
  ),
}
export type HookPayload = (typeof EventsModel)['events.Hook']['static'] & Record<string, unknown>
