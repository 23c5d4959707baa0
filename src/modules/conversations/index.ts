import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { ConversationModel } from './model'
import type { ConversationService } from './service'

const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 128 }) })

/** Conversations: list, create, read, update, delete. */
export const conversationsModule = (conversations: ConversationService) =>
  new Elysia({ name: 'conversations', prefix: '/api/conversations', detail: { tags: ['conversations'] } })
    .model(ConversationModel)
    .model({ error: ErrorBody })
    .get('', ({ query }) => conversations.list(query), {
      query: 'conversation.ListQuery',
      response: { 200: 'conversation.Page', 422: 'error' },
      detail: {
        summary: 'List conversations',
        description: 'Filtered, sorted and paginated; `total` counts all matches.',
      },
    })
    .post('', async ({ body, status }) => status(201, await conversations.create(body)), {
      body: 'conversation.Create',
      response: { 201: 'conversation.Conversation', 400: 'error', 422: 'error' },
      detail: { summary: 'Create a conversation' },
    })
    .get('/:id', ({ params }) => conversations.get(params.id), {
      params: IdParams,
      response: { 200: 'conversation.Conversation', 404: 'error', 422: 'error' },
      detail: { summary: 'Get one conversation' },
    })
    .patch('/:id', ({ params, body }) => conversations.update(params.id, body), {
      params: IdParams,
      body: 'conversation.Update',
      response: { 200: 'conversation.Conversation', 400: 'error', 404: 'error', 422: 'error' },
      detail: {
        summary: 'Update a conversation',
        description: 'Title, project path and metadata; other fields are rejected.',
      },
    })
    .delete(
      '/:id',
      async ({ params, status }) => {
        await conversations.remove(params.id)
        return status(204, undefined)
      },
      {
        params: IdParams,
        response: { 204: t.Undefined(), 404: 'error', 422: 'error' },
        detail: { summary: 'Delete a conversation with its messages and tool calls' },
      },
    )
