import { t } from 'elysia'
import { DateTimeInput, Integer, JsonObject, Page, PageQuery, Timestamp } from '../../lib/models'

export const Usage = t.Object({
  input_tokens: Integer(),
  output_tokens: Integer(),
  cache_creation_input_tokens: Integer(),
  cache_read_input_tokens: Integer(),
  total_tokens: Integer(),
})

export const Conversation = t.Object(
  {
    id: t.String(),
    title: t.Union([t.String(), t.Null()]),
    project_path: t.Union([t.String(), t.Null()]),
    git_branch: t.Union([t.String(), t.Null()]),
    source: t.Union([t.Literal('api'), t.Literal('claude-code')]),
    agent_version: t.Union([t.String(), t.Null()]),
    models: t.Array(t.String()),
    metadata: JsonObject,
    message_count: Integer(),
    usage: Usage,
    cost_usd: t.Number(),
    started_at: Timestamp,
    ended_at: t.Union([Timestamp, t.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    examples: [
      {
        id: '0190f5c2-7d1e-7c3a-9a51-3f0b8e2d1c4a',
        title: 'Fix the flaky login test',
        project_path: '/home/ada/src/shop',
        git_branch: 'main',
        source: 'api',
        agent_version: null,
        models: ['claude-sonnet-4-5-20250929'],
        metadata: {},
        message_count: 2,
        usage: {
          input_tokens: 1200,
          output_tokens: 340,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          total_tokens: 1540,
        },
        cost_usd: 0.0087,
        started_at: '2026-01-01T12:00:00.000Z',
        ended_at: '2026-01-01T12:01:30.000Z',
        created_at: '2026-01-01T12:00:00.000Z',
        updated_at: '2026-01-01T12:01:30.000Z',
      },
    ],
  },
)

const Title = t.String({ minLength: 1, maxLength: 500 })
const ProjectPath = t.String({ minLength: 1, maxLength: 4096 })

export const ConversationModel = {
  'conversation.Conversation': Conversation,
  'conversation.Page': Page(Conversation),
  'conversation.Create': t.Object(
    {
      title: t.Optional(Title),
      project_path: t.Optional(ProjectPath),
      git_branch: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
      metadata: t.Optional(JsonObject),
    },
    { additionalProperties: false, examples: [{ title: 'Refactor the billing module', project_path: '/srv/billing' }] },
  ),
  'conversation.Update': t.Object(
    {
      title: t.Optional(t.Union([Title, t.Null()])),
      project_path: t.Optional(t.Union([ProjectPath, t.Null()])),
      metadata: t.Optional(JsonObject),
    },
    { additionalProperties: false, minProperties: 1, examples: [{ title: 'A better title' }] },
  ),
  'conversation.ListQuery': t.Object({
    ...PageQuery,
    sort_by: t.Optional(
      t.Union([t.Literal('title'), t.Literal('created_at'), t.Literal('updated_at')], { default: 'updated_at' }),
    ),
    sort_order: t.Optional(t.Union([t.Literal('asc'), t.Literal('desc')], { default: 'desc' })),
    project_path: t.Optional(t.String({ description: 'Only conversations with exactly this project path' })),
    workspace_id: t.Optional(t.String({ maxLength: 128, description: 'Only the sessions of this workspace' })),
    q: t.Optional(t.String({ maxLength: 500, description: 'Case-insensitive substring of the title' })),
    date_from: t.Optional(DateTimeInput('Started at or after')),
    date_to: t.Optional(DateTimeInput('Started before')),
    owner_id: t.Optional(t.String({ maxLength: 128, description: "Admins only: one user's conversations" })),
  }),
}

export type ConversationDto = typeof Conversation.static
export type CreateConversation = (typeof ConversationModel)['conversation.Create']['static']
export type UpdateConversation = (typeof ConversationModel)['conversation.Update']['static']
export type ConversationListQuery = (typeof ConversationModel)['conversation.ListQuery']['static']
