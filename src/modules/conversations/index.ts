import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { SECURITY } from '../../lib/models'
import type { AuthGuard } from '../auth/guard'
import type { IngestService } from '../ingest/service'
import { ConversationModel } from './model'
import type { ConversationService } from './service'

const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 128 }) })

type Deps = { conversations: ConversationService; ingest: IngestService; guard: AuthGuard }

/** Conversations: list, create, read, update, delete, export. */
export const conversationsModule = ({ conversations, ingest, guard }: Deps) =>
  new Elysia({
    name: 'conversations',
    prefix: '/api/conversations',
    detail: { tags: ['conversations'], security: SECURITY },
  })
    .use(guard)
    .model(ConversationModel)
    .model({ error: ErrorBody })
    .get('', ({ user, query }) => conversations.list(user, query), {
      role: 'viewer',
      query: 'conversation.ListQuery',
      response: { 200: 'conversation.Page', 401: 'error', 422: 'error', 429: 'error' },
      detail: {
        summary: 'List conversations',
        description: 'Filtered, sorted and paginated; `total` counts all matches.',
      },
    })
    .post('', async ({ user, body, status }) => status(201, await conversations.create(user, body)), {
      role: 'member',
      body: 'conversation.Create',
      response: {
        201: 'conversation.Conversation',
        400: 'error',
        401: 'error',
        403: 'error',
        422: 'error',
        429: 'error',
      },
      detail: { summary: 'Create a conversation' },
    })
    .get('/:id', ({ user, params }) => conversations.get(user, params.id), {
      role: 'viewer',
      params: IdParams,
      response: { 200: 'conversation.Conversation', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'Get one conversation' },
    })
    .patch('/:id', ({ user, params, body }) => conversations.update(user, params.id, body), {
      role: 'member',
      params: IdParams,
      body: 'conversation.Update',
      response: {
        200: 'conversation.Conversation',
        400: 'error',
        401: 'error',
        403: 'error',
        404: 'error',
        422: 'error',
        429: 'error',
      },
      detail: {
        summary: 'Update a conversation',
        description: 'Title, project path and metadata; other fields are rejected.',
      },
    })
    .delete(
      '/:id',
      async ({ user, params, status }) => {
        await conversations.remove(user, params.id)
        return status(204, undefined)
      },
      {
        role: 'member',
        params: IdParams,
        response: { 204: t.Undefined(), 401: 'error', 403: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: { summary: 'Delete a conversation with its messages and tool calls' },
      },
    )
    .get(
      '/:id/export',
      async ({ user, params }) => {
        await conversations.ownerOf(user, params.id)
        return new Response(ingest.exportJsonl(params.id), {
          headers: {
            'content-type': 'application/x-ndjson',
            'content-disposition': `attachment; filename="${params.id.replace(/[^\w.-]/g, '_')}.jsonl"`,
          },
        })
      },
      {
        role: 'viewer',
        params: IdParams,
        query: t.Object({ format: t.Optional(t.Literal('jsonl', { default: 'jsonl' })) }),
        response: {
          200: t.Any({ description: 'The transcript lines' }),
          401: 'error',
          404: 'error',
          422: 'error',
          429: 'error',
        },
        detail: {
          summary: 'Export a conversation',
          description:
            '`jsonl`: the original transcript lines of every imported file of the session (main file, then subagent files), byte for byte.',
        },
      },
    )
