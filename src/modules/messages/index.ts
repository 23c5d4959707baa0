import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { SECURITY } from '../../lib/models'
import type { ReadCache } from '../../lib/read-cache'
import type { AuthGuard } from '../auth/guard'
import { MessageModel } from './model'
import type { MessageService } from './service'

const Id = t.String({ minLength: 1, maxLength: 128 })

/** Messages of one conversation: list, add, read, delete. */
export const messagesModule = ({
  messages,
  reads,
  guard,
}: {
  messages: MessageService
  reads: ReadCache
  guard: AuthGuard
}) =>
  new Elysia({
    name: 'messages',
    prefix: '/api/conversations/:id/messages',
    detail: { tags: ['messages'], security: SECURITY },
  })
    .use(guard)
    .model(MessageModel)
    .model({ error: ErrorBody })
    .get(
      '',
      ({ user, params, query }) =>
        reads.remember(['messages', user.id, user.role, params.id, query], () =>
          messages.list(user, params.id, query.limit, query.offset),
        ),
      {
        role: 'viewer',
        params: t.Object({ id: Id }),
        query: 'message.ListQuery',
        response: { 200: 'message.Page', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'List the messages of a conversation',
          description: 'Oldest first (timestamp, then arrival).',
        },
      },
    )
    .post('', async ({ user, params, body, status }) => status(201, await messages.create(user, params.id, body)), {
      role: 'member',
      params: t.Object({ id: Id }),
      body: 'message.Create',
      response: {
        201: 'message.Message',
        400: 'error',
        401: 'error',
        403: 'error',
        404: 'error',
        409: 'error',
        422: 'error',
        429: 'error',
      },
      detail: {
        summary: 'Add a message',
        description:
          "Updates the conversation's message count, token totals, cost and updated_at in the same transaction. As in a transcript, its tool_use blocks start tool calls (tool_calls may describe them further) and its tool_result blocks complete the conversation's calls they answer (a result for a call the conversation does not have stays in the message only).",
      },
    })
    .get('/:messageId', ({ user, params }) => messages.get(user, params.id, params.messageId), {
      role: 'viewer',
      params: t.Object({ id: Id, messageId: Id }),
      response: { 200: 'message.Message', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'Get one message' },
    })
    .delete(
      '/:messageId',
      async ({ user, params, status }) => {
        await messages.remove(user, params.id, params.messageId)
        return status(204, undefined)
      },
      {
        role: 'member',
        params: t.Object({ id: Id, messageId: Id }),
        response: { 204: t.Undefined(), 401: 'error', 403: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'Delete a message',
          description: "The conversation's totals are recomputed in the same transaction.",
        },
      },
    )
