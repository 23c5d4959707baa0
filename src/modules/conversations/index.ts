import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { IdParams, SECURITY } from '../../lib/models'
import type { ReadCache } from '../../lib/read-cache'
import type { AuthGuard } from '../auth/guard'
import type { IngestService } from '../ingest/service'
import { MessageModel } from '../messages/model'
import type { MessageService } from '../messages/service'
import { exportDocument } from './export'
import { ConversationModel } from './model'
import type { ConversationService } from './service'

type Deps = {
  conversations: ConversationService
  messages: MessageService
  ingest: IngestService
  reads: ReadCache
  guard: AuthGuard
}

/** Conversations: list, create, read, update, delete, export. */
export const conversationsModule = ({ conversations, messages, ingest, reads, guard }: Deps) =>
  new Elysia({
    name: 'conversations',
    prefix: '/api/conversations',
    detail: { tags: ['conversations'], security: SECURITY },
  })
    .use(guard)
    .model(ConversationModel)
    .model(MessageModel)
    .model({ error: ErrorBody })
    .get(
      '',
      ({ user, query }) =>
        reads.remember(['conversations', user.id, user.role, query], () => conversations.list(user, query)),
      {
        role: 'viewer',
        query: 'conversation.ListQuery',
        response: { 200: 'conversation.Page', 401: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'List conversations',
          description: 'Filtered, sorted and paginated; `total` counts all matches.',
        },
      },
    )
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
      '/:id/thread',
      ({ user, params, query }) =>
        reads.remember(['thread', user.id, user.role, params.id, query], () =>
          messages.thread(user, params.id, query.limit, query.offset),
        ),
      {
        role: 'viewer',
        params: IdParams,
        query: 'message.ListQuery',
        response: { 200: 'message.ThreadPage', 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: {
          summary: 'The conversation in thread order',
          description:
            'parentUuid order, depth first; compaction boundaries marked; each subagent nested (depth + 1) after the message whose tool call started it, or, started by no tool call (the compaction agent), after the message it hangs from.',
        },
      },
    )
    .get(
      '/:id/export',
      async ({ user, params, query }) => {
        const format = query.format ?? 'jsonl'
        const name = params.id.replace(/[^\w.-]/g, '_')
        if (format === 'jsonl' && (await conversations.get(user, params.id)).source === 'claude-code') {
          return new Response(ingest.exportJsonl(params.id), {
            headers: {
              'content-type': 'application/x-ndjson',
              'content-disposition': `attachment; filename="${name}.jsonl"`,
            },
          })
        }
        const body = await exportDocument(conversations, messages, user, params.id, format)
        const [type, ext] = {
          markdown: ['text/markdown; charset=utf-8', 'md'],
          jsonl: ['application/x-ndjson', 'jsonl'],
          json: ['application/json', 'json'],
        }[format]
        return new Response(body, {
          headers: { 'content-type': type, 'content-disposition': `attachment; filename="${name}.${ext}"` },
        })
      },
      {
        role: 'viewer',
        params: IdParams,
        query: t.Object({
          format: t.Optional(
            t.Union([t.Literal('jsonl'), t.Literal('markdown'), t.Literal('json')], { default: 'jsonl' }),
          ),
        }),
        response: {
          200: t.Any({
            description: 'The exported document',
            examples: ['# Fix the build\n\n## User — 2026-01-01T12:00:00.000Z\n…'],
          }),
          401: 'error',
          404: 'error',
          422: 'error',
          429: 'error',
        },
        detail: {
          'x-media-types': ['application/x-ndjson', 'text/markdown', 'application/json'],
          summary: 'Export a conversation',
          description:
            '`jsonl`: for an imported session, the original transcript lines of every file (main file, then subagent files), byte for byte; for one made through the API, its messages, one JSON object a line. `markdown`: prompts, replies and folded tool calls, for a person. `json`: the conversation and its messages in thread order.',
        },
      },
    )
