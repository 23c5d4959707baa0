import { t } from 'elysia'
import { DateTimeInput, Integer, JsonObject, Page, PageQuery, Timestamp } from '../../lib/models'

const TokenCount = Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

/** Anthropic content blocks accepted through the API (imports keep whatever the transcript holds). */
const ContentBlock = t.Union([
  t.Object({ type: t.Literal('text'), text: t.String() }),
  t.Object({ type: t.Literal('thinking'), thinking: t.String(), signature: t.Optional(t.String()) }),
  t.Object({
    type: t.Literal('tool_use'),
    id: t.String({ minLength: 1 }),
    name: t.String({ minLength: 1 }),
    input: t.Unknown(),
  }),
  t.Object({
    type: t.Literal('tool_result'),
    tool_use_id: t.String({ minLength: 1 }),
    content: t.Optional(t.Union([t.String(), t.Array(t.Unknown())])),
    is_error: t.Optional(t.Boolean()),
  }),
  t.Object({
    type: t.Literal('image'),
    source: t.Object({ type: t.String(), media_type: t.Optional(t.String()), data: t.Optional(t.String()) }),
  }),
])

const UsageInput = t.Object(
  {
    input_tokens: t.Optional(TokenCount),
    output_tokens: t.Optional(TokenCount),
    cache_creation_input_tokens: t.Optional(TokenCount),
    cache_read_input_tokens: t.Optional(TokenCount),
  },
  { additionalProperties: false },
)

const ToolCallInput = t.Object(
  {
    id: t.String({ minLength: 1, maxLength: 128, description: 'The tool_use id' }),
    name: t.String({ minLength: 1, maxLength: 256 }),
    input: t.Optional(t.Unknown()),
    result: t.Optional(t.String()),
    is_error: t.Optional(t.Boolean()),
    started_at: t.Optional(DateTimeInput()),
    ended_at: t.Optional(DateTimeInput()),
  },
  { additionalProperties: false },
)

export const ToolCall = t.Object({
  id: t.String(),
  message_id: t.Union([t.String(), t.Null()]),
  name: t.String(),
  input: t.Unknown(),
  result: t.Union([t.String(), t.Null()]),
  is_error: t.Boolean(),
  started_at: t.Union([Timestamp, t.Null()]),
  ended_at: t.Union([Timestamp, t.Null()]),
  duration_ms: t.Union([Integer(), t.Null()]),
})

export const Message = t.Object(
  {
    id: t.String(),
    conversation_id: t.String(),
    parent_id: t.Union([t.String(), t.Null()]),
    type: t.String(),
    subtype: t.Union([t.String(), t.Null()]),
    role: t.Union([t.Literal('user'), t.Literal('assistant'), t.Literal('system'), t.Null()], {
      description: 'null for transcript lines that are not messages (progress, ...)',
    }),
    content: t.Unknown({ description: 'A string or a list of content blocks' }),
    text: t.String({ description: 'Plain-text projection of the content' }),
    model: t.Union([t.String(), t.Null()]),
    usage: t.Object({
      input_tokens: Integer(),
      output_tokens: Integer(),
      cache_creation_input_tokens: Integer(),
      cache_read_input_tokens: Integer(),
    }),
    cost_usd: t.Number(),
    is_sidechain: t.Boolean(),
    agent_id: t.Union([t.String(), t.Null()]),
    tool_calls: t.Array(ToolCall),
    metadata: JsonObject,
    timestamp: Timestamp,
    created_at: Timestamp,
  },
  {
    examples: [
      {
        id: '0190f5c3-0a11-7b2c-8d3e-4f5a6b7c8d9e',
        conversation_id: '0190f5c2-7d1e-7c3a-9a51-3f0b8e2d1c4a',
        parent_id: null,
        type: 'assistant',
        subtype: null,
        role: 'assistant',
        content: [{ type: 'text', text: 'The test waits on a timer; I replaced it with an event.' }],
        text: 'The test waits on a timer; I replaced it with an event.',
        model: 'claude-sonnet-4-5-20250929',
        usage: { input_tokens: 1200, output_tokens: 340, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        cost_usd: 0.0087,
        is_sidechain: false,
        agent_id: null,
        tool_calls: [],
        metadata: {},
        timestamp: '2026-01-01T12:01:30.000Z',
        created_at: '2026-01-01T12:01:30.000Z',
      },
    ],
  },
)

export const MessageModel = {
  'message.Message': Message,
  'message.Page': Page(Message),
  'message.Create': t.Object(
    {
      role: t.Union([t.Literal('user'), t.Literal('assistant'), t.Literal('system')]),
      content: t.Union([t.String({ maxLength: 10_000_000 }), t.Array(ContentBlock, { minItems: 1 })]),
      model: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
      usage: t.Optional(UsageInput),
      tool_calls: t.Optional(t.Array(ToolCallInput, { maxItems: 1000 })),
      metadata: t.Optional(JsonObject),
      parent_id: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
      timestamp: t.Optional(DateTimeInput()),
    },
    {
      additionalProperties: false,
      examples: [
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'Done: the suite passes.' }],
          model: 'claude-sonnet-4-5-20250929',
          usage: { input_tokens: 1200, output_tokens: 340 },
        },
      ],
    },
  ),
  'message.ListQuery': t.Object({ ...PageQuery }),
  'message.ThreadPage': Page(
    t.Composite(
      [
        Message,
        t.Object({
          depth: Integer({ description: '0 for the main thread; 1 and more inside subagents' }),
          branch: t.String({ description: '"main", or the agent id of the subagent' }),
          spawned_by_tool_call: t.Union([t.String(), t.Null()], {
            description: 'The tool call that started this subagent',
          }),
          compaction_boundary: t.Boolean(),
        }),
      ],
      {
        examples: [
          {
            ...(Message.examples as object[])[0],
            depth: 0,
            branch: 'main',
            spawned_by_tool_call: null,
            compaction_boundary: false,
          },
        ],
      },
    ),
  ),
}

export type MessageDto = typeof Message.static
export type ToolCallDto = typeof ToolCall.static
export type CreateMessage = (typeof MessageModel)['message.Create']['static']
