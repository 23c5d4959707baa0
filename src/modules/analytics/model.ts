import { t } from 'elysia'
import { DateOrTime, Integer } from '../../lib/models'

const Tokens = {
  input_tokens: Integer(),
  output_tokens: Integer(),
  cache_creation_input_tokens: Integer(),
  cache_read_input_tokens: Integer(),
  total_tokens: Integer(),
  cost_usd: t.Number(),
}
const ModelUsage = t.Object({ model: t.String(), ...Tokens })
const UsageGroup = t.Object({
  key: t.String({
    description:
      'The day, week (its Monday), month, model, project path ("" for sessions that name no folder) or conversation id',
  }),
  label: t.Union([t.String(), t.Null()], { description: 'The conversation title, for group_by=conversation' }),
  ...Tokens,
  models: t.Array(ModelUsage),
})

const Tz = (description: string) => t.Optional(t.String({ maxLength: 64, default: 'UTC', description }))

const tokensExample = {
  input_tokens: 1633,
  output_tokens: 1811,
  cache_creation_input_tokens: 57373,
  cache_read_input_tokens: 527032,
  total_tokens: 587849,
  cost_usd: 0.890686,
}

export const AnalyticsModel = {
  'analytics.Usage': t.Object(
    {
      group_by: t.String(),
      tz: t.String(),
      groups: t.Array(UsageGroup),
      totals: t.Object({ ...Tokens, models: t.Array(ModelUsage) }),
    },
    {
      examples: [
        {
          group_by: 'day',
          tz: 'UTC',
          groups: [
            {
              key: '2026-02-10',
              label: null,
              ...tokensExample,
              models: [{ model: 'claude-opus-4-6', ...tokensExample }],
            },
          ],
          totals: { ...tokensExample, models: [{ model: 'claude-opus-4-6', ...tokensExample }] },
        },
      ],
    },
  ),
  'analytics.UsageQuery': t.Object({
    group_by: t.Optional(
      t.Union(
        ['day', 'week', 'month', 'model', 'project', 'conversation'].map((g) => t.Literal(g)),
        { default: 'day' },
      ),
    ),
    from: t.Optional(DateOrTime),
    to: t.Optional(DateOrTime),
    tz: Tz('IANA time zone for day boundaries'),
    project_path: t.Optional(t.String({ maxLength: 4096 })),
    owner_id: t.Optional(t.String({ maxLength: 128, description: "Admins only: one user's usage" })),
  }),
  'analytics.Blocks': t.Object(
    {
      session_hours: Integer(),
      blocks: t.Array(
        t.Object({
          id: t.String({ description: 'The start time, or gap-<start> for a pause' }),
          start_time: t.String({ description: "The hour (UTC) of the block's first response" }),
          end_time: t.String({ description: 'start_time + session_hours; for a gap, the next response' }),
          actual_end_time: t.Union([t.String(), t.Null()], { description: 'The last response in the block' }),
          is_active: t.Boolean(),
          is_gap: t.Boolean(),
          entries: Integer({ description: 'API responses in the block' }),
          ...Tokens,
          models: t.Array(t.String()),
          burn_rate: t.Union([
            t.Object({
              tokens_per_minute: t.Number(),
              tokens_per_minute_for_indicator: t.Number({ description: 'input and output tokens only' }),
              cost_per_hour: t.Number(),
            }),
            t.Null(),
          ]),
          projection: t.Union([
            t.Object({ total_tokens: Integer(), total_cost_usd: t.Number(), remaining_minutes: Integer() }),
            t.Null(),
          ]),
        }),
      ),
      total: Integer(),
    },
    {
      examples: [
        {
          session_hours: 5,
          blocks: [
            {
              id: '2026-02-10T09:00:00.000Z',
              start_time: '2026-02-10T09:00:00.000Z',
              end_time: '2026-02-10T14:00:00.000Z',
              actual_end_time: '2026-02-10T11:42:13.512Z',
              is_active: true,
              is_gap: false,
              entries: 84,
              ...tokensExample,
              models: ['claude-opus-4-6'],
              burn_rate: { tokens_per_minute: 3617.5, tokens_per_minute_for_indicator: 21.2, cost_per_hour: 0.3289 },
              projection: { total_tokens: 1097150, total_cost_usd: 1.76, remaining_minutes: 138 },
            },
          ],
          total: 1,
        },
      ],
    },
  ),
  'analytics.BlocksQuery': t.Object({
    from: t.Optional(DateOrTime),
    to: t.Optional(DateOrTime),
    tz: Tz('IANA time zone of from and to as dates'),
    session_hours: t.Optional(
      t.Integer({ minimum: 1, maximum: 24, default: 5, description: "Block length (Claude's usage limits: 5 hours)" }),
    ),
    owner_id: t.Optional(
      t.String({ maxLength: 128, description: "Admins only: one user's blocks (else the admin's own)" }),
    ),
  }),
  'analytics.Tools': t.Object(
    {
      items: t.Array(
        t.Object({
          name: t.String(),
          calls: Integer(),
          errors: Integer(),
          error_rate: t.Number(),
          p50_duration_ms: t.Union([t.Number(), t.Null()]),
          p95_duration_ms: t.Union([t.Number(), t.Null()]),
        }),
      ),
      total: Integer(),
    },
    {
      examples: [
        {
          items: [
            { name: 'Bash', calls: 120, errors: 6, error_rate: 0.05, p50_duration_ms: 840, p95_duration_ms: 12500 },
          ],
          total: 1,
        },
      ],
    },
  ),
  'analytics.ToolsQuery': t.Object({
    project_path: t.Optional(t.String({ maxLength: 4096 })),
    conversation_id: t.Optional(t.String({ maxLength: 128 })),
    from: t.Optional(DateOrTime),
    to: t.Optional(DateOrTime),
    tz: Tz('IANA time zone of from and to as dates'),
  }),
  'analytics.Overview': t.Object(
    {
      conversations: Integer(),
      messages: Integer(),
      tool_calls: Integer(),
      files: Integer({
        description:
          "Transcript files imported: distinct sources, each a file path (the CLI, server-side imports) or an upload's source_key (an upload without one counts alone)",
      }),
      ...Tokens,
      active_days: Integer(),
      top_projects: t.Array(t.Object({ project_path: t.String(), conversations: Integer(), cost_usd: t.Number() })),
      top_models: t.Array(t.Object({ model: t.String(), total_tokens: Integer(), cost_usd: t.Number() })),
      top_tools: t.Array(t.Object({ name: t.String(), calls: Integer() })),
    },
    {
      examples: [
        {
          conversations: 42,
          messages: 9120,
          tool_calls: 1310,
          files: 57,
          ...tokensExample,
          active_days: 12,
          top_projects: [{ project_path: '/home/ada/shop', conversations: 30, cost_usd: 14.2 }],
          top_models: [{ model: 'claude-opus-4-6', total_tokens: 587849, cost_usd: 0.890686 }],
          top_tools: [{ name: 'Bash', calls: 120 }],
        },
      ],
    },
  ),
}
export type UsageQuery = (typeof AnalyticsModel)['analytics.UsageQuery']['static']
export type BlocksQuery = (typeof AnalyticsModel)['analytics.BlocksQuery']['static']
export type ToolsQuery = (typeof AnalyticsModel)['analytics.ToolsQuery']['static']
