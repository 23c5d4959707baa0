import { Elysia } from 'elysia'
import type { Role } from '../../db/schema'
import { AppError, forbidden } from '../../lib/errors'
import { CLIENT_CLOSED_REQUEST } from '../../lib/http'
import type { RateLimiter } from '../../lib/rate-limit'
import type { AuthService } from './service'

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2 }

/** The active user behind the credential headers (Authorization: Bearer, or X-API-Key); 401 otherwise. */
export async function authenticateHeaders(auth: AuthService, headers: Headers) {
  const authorization = headers.get('authorization') ?? undefined
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1]
  if (authorization !== undefined && bearer === undefined)
    throw new AppError(401, 'UNAUTHORIZED', 'a valid credential is required')
  const user = await auth.authenticate({ bearer, apiKey: headers.get('x-api-key') ?? undefined })
  return { id: user.id, role: user.role, email: user.email }
}

/**
 * The `role` macro: `{ role: 'viewer' }` on a route requires any signed-in user, `'member'` a user who may write,
 * `'admin'` an admin. It resolves `user` (loaded from the database on every request) and applies the per-account
 * rate limit. A client that has already gone (given up under load) gets no work done for it: nobody would read the
 * answer. (Checked here, on the routes that work, not for every request: reading `request.signal` costs a request
 * a sixth of the time /health takes. It runs once the body is parsed, and the sign-in routes, which have no role, do
 * not get it: their own rate limit bounds what they cost.)
 */
export const authGuard = ({ auth, limiter }: { auth: AuthService; limiter: RateLimiter }) => {
  const callers = new WeakMap<Request, Caller>()
  return new Elysia({ name: 'auth-guard' }).macro({
    role: (min: Role) => ({
      // Authenticate in `transform`, before the input is validated: a caller without a valid credential learns
      // nothing about the route's schema (401, not 422).
      async transform({ request }) {
        if (request.signal.aborted)
          throw new AppError(CLIENT_CLOSED_REQUEST, 'CLIENT_CLOSED_REQUEST', 'the client went away before an answer')
        const user = await authenticateHeaders(auth, request.headers)
        await limiter.hit(`user:${user.id}`)
        if (RANK[user.role] < RANK[min]) throw forbidden(`this needs the ${min} role`)
        callers.set(request, user)
      },
      resolve({ request }) {
        const user = callers.get(request)
        if (!user) throw new AppError(401, 'UNAUTHORIZED', 'a valid credential is required')
        return { user }
      },
    }),
  })
}

type Caller = { id: string; role: Role; email: string }
export type AuthGuard = ReturnType<typeof authGuard>
