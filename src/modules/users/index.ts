import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { IdParams, SECURITY } from '../../lib/models'
import type { AuthGuard } from '../auth/guard'
import { UserModel } from './model'
import type { UserService } from './service'

/** User management, for admins. */
export const usersModule = ({ users, guard }: { users: UserService; guard: AuthGuard }) =>
  new Elysia({ name: 'users', prefix: '/api/users', detail: { tags: ['users'], security: SECURITY } })
    .use(guard)
    .model(UserModel)
    .model({ error: ErrorBody })
    .guard({ role: 'admin' })
    .get('', ({ query }) => users.list(query.limit, query.offset), {
      query: 'user.ListQuery',
      response: { 200: 'user.Page', 401: 'error', 403: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'List users' },
    })
    .post('', async ({ body, status }) => status(201, await users.create(body)), {
      body: 'user.Create',
      response: {
        201: 'user.User',
        400: 'error',
        401: 'error',
        403: 'error',
        409: 'error',
        422: 'error',
        429: 'error',
      },
      detail: { summary: 'Create a user' },
    })
    .get('/:id', ({ params }) => users.get(params.id), {
      params: IdParams,
      response: { 200: 'user.User', 401: 'error', 403: 'error', 404: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'Get a user' },
    })
    .patch('/:id', ({ user, params, body }) => users.update(user.id, params.id, body), {
      params: IdParams,
      body: 'user.Update',
      response: {
        200: 'user.User',
        400: 'error',
        401: 'error',
        403: 'error',
        404: 'error',
        422: 'error',
        429: 'error',
      },
      detail: { summary: 'Change a user’s name, role or disabled flag' },
    })
    .delete(
      '/:id',
      async ({ user, params, status }) => {
        await users.remove(user.id, params.id)
        return status(204, undefined)
      },
      {
        params: IdParams,
        response: { 204: t.Undefined(), 401: 'error', 403: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: { summary: 'Delete a user and everything they own' },
      },
    )
