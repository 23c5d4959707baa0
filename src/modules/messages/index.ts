import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { MessageModel } from './model'
import type { MessageService } from './service'

const Id = t.String({ minLength: 1, maxLength: 128 })

/** Messages of one conversation: list, add, read, delete. */
export const messagesModule = (messages: MessageService) =>
  new Elysia({ name: 'messages', prefix: '/api/conversations/:id/messages', detail: { tags: ['messages'] } })
    .model(MessageModel)
    .model({ error: ErrorBody })
    .get('', ({ params, query }) => messages.list(params.id, query.limit, query.offset), {
      params: t.Object({ id: Id }),
      query: 'message.ListQuery',
      response: { 200: 'message.Page', 404: 'error', 422: 'error' },
      detail: {
        summary: 'List the messages of a conversation',
        description: 'Oldest first (timestamp, then arrival).',
      },
    })
    .post('', async ({ params, body, status }) => status(201, await messages.create(params.id, body)), {
      params: t.Object({ id: Id }),
      body: 'message.Create',
      response: { 201: 'message.Message', 400: 'error', 404: 'error', 409: 'error', 422: 'error' },
      detail: {
        summary: 'Add a message',
        description:
          "Updates the conversation's message count, token totals, cost and updated_at in the same transaction.",
      },
    })
    .get('/:messageId', ({ params }) => messages.get(params.id, params.messageId), {
      params: t.Object({ id: Id, messageId: Id }),
      response: { 200: 'message.Message', 404: 'error', 422: 'error' },
      detail: { summary: 'Get one message' },
    })
    .delete(
      '/:messageId',
      async ({ params, status }) => {
        await messages.remove(params.id, params.messageId)
        return status(204, undefined)
      },
      {
        params: t.Object({ id: Id, messageId: Id }),
        response: { 204: t.Undefined(), 404: 'error', 422: 'error' },
        detail: {
          summary: 'Delete a message',
          description: "The conversation's totals are recomputed in the same transaction.",
        },
      },
    )
