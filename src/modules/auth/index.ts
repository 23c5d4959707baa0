import { Elysia, t } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { IdParams, SECURITY } from '../../lib/models'
import { clientAddress, type RateLimiter } from '../../lib/rate-limit'
import { UserModel } from '../users/model'
import type { UserService } from '../users/service'
import type { AuthGuard } from './guard'
import { AuthModel } from './model'
import type { AuthService } from './service'

type Deps = { auth: AuthService; users: UserService; guard: AuthGuard; authLimiter: RateLimiter; trustProxy: boolean }

/** Sign-up, login, token refresh and logout, the caller's own profile and API keys. */
export const authModule = ({ auth, users, guard, authLimiter, trustProxy }: Deps) => {
  /** Login, register and refresh are limited per client address and per identity. */
  const limit =
    (action: string, identity: (body: never) => string) =>
    async ({ request, server, body }: { request: Request; server: unknown; body: unknown }) => {
      const address = clientAddress(request, server as Parameters<typeof clientAddress>[1], trustProxy)
      await authLimiter.hit(`${action}:address:${address}`)
      await authLimiter.hit(`${action}:identity:${identity(body as never)}`)
    }

  return new Elysia({ name: 'auth', prefix: '/api/auth', detail: { tags: ['auth'] } })
    .use(guard)
    .model(AuthModel)
    .model(UserModel)
    .model({ error: ErrorBody })
    .post('/register', async ({ body, status }) => status(201, await users.register(body)), {
      body: 'user.Register',
      beforeHandle: limit('register', (b: { email: string }) => b.email.toLowerCase()),
      response: { 201: 'user.User', 400: 'error', 403: 'error', 409: 'error', 422: 'error', 429: 'error' },
      detail: {
        summary: 'Register',
        description: 'The first user becomes admin. After that, registration is closed unless ALLOW_SIGNUP=true.',
      },
    })
    .post('/login', ({ body }) => auth.login(body.email, body.password), {
      body: 'auth.Login',
      beforeHandle: limit('login', (b: { email: string }) => b.email.toLowerCase()),
      response: { 200: 'auth.TokenPair', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
      detail: { summary: 'Log in', description: 'Returns a 15-minute access token and a 30-day refresh token.' },
    })
    .post('/refresh', ({ body }) => auth.refresh(body.refresh_token), {
      body: 'auth.Refresh',
      beforeHandle: limit('refresh', (b: { refresh_token: string }) => b.refresh_token.slice(0, 16)),
      response: { 200: 'auth.TokenPair', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
      detail: {
        summary: 'Exchange a refresh token',
        description: 'Rotates the refresh token. Using a token that was already exchanged revokes its whole family.',
      },
    })
    .post(
      '/logout',
      async ({ body, status }) => {
        await auth.logout(body.refresh_token)
        return status(204, undefined)
      },
      {
        body: 'auth.Refresh',
        response: { 204: t.Undefined(), 400: 'error', 422: 'error' },
        detail: {
          summary: 'Log out',
          description: 'Revokes the refresh token and every token rotated from the same login.',
        },
      },
    )
    .get('/me', ({ user }) => users.get(user.id), {
      role: 'viewer',
      response: { 200: 'user.User', 401: 'error', 429: 'error' },
      detail: { summary: 'The signed-in user', security: SECURITY },
    })
    .post('/api-keys', async ({ user, body, status }) => status(201, await auth.createApiKey(user.id, body.name)), {
      role: 'viewer',
      body: 'auth.CreateApiKey',
      response: { 201: 'auth.NewApiKey', 400: 'error', 401: 'error', 422: 'error', 429: 'error' },
      detail: {
        summary: 'Create an API key',
        description:
          'The key (obs_…) is in this response only; Observatory keeps a hash. Send it as X-API-Key or Bearer.',
        security: SECURITY,
      },
    })
    .get('/api-keys', ({ user }) => auth.listApiKeys(user.id), {
      role: 'viewer',
      response: { 200: 'auth.ApiKeyList', 401: 'error', 429: 'error' },
      detail: { summary: 'List your API keys (never their secrets)', security: SECURITY },
    })
    .delete(
      '/api-keys/:id',
      async ({ user, params, status }) => {
        await auth.revokeApiKey(user.id, params.id)
        return status(204, undefined)
      },
      {
        role: 'viewer',
        params: IdParams,
        response: { 204: t.Undefined(), 401: 'error', 404: 'error', 422: 'error', 429: 'error' },
        detail: { summary: 'Revoke an API key', security: SECURITY },
      },
    )
}
