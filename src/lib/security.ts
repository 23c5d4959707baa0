import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'

/**
 * CORS limited to an exact allowlist of origins (scheme, host and port compared as a whole; no wildcard, no
 * reflection), and security headers on every response.
 */
export function securityPlugin({ corsOrigins, hstsMaxAge }: { corsOrigins: string[]; hstsMaxAge: number }) {
  const allowed = new Set(corsOrigins)
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    ...(hstsMaxAge > 0 && { 'strict-transport-security': `max-age=${hstsMaxAge}; includeSubDomains` }),
  }
  return new Elysia({ name: 'security' })
    .onRequest(({ set }) => {
      Object.assign(set.headers, headers)
    })
    .use(
      cors({
        origin: (request) => allowed.has(request.headers.get('origin') ?? ''),
        credentials: false,
        methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'x-request-id', 'last-event-id'],
        exposeHeaders: ['x-request-id', 'retry-after', 'content-encoding'],
        maxAge: 600,
      }),
    )
}
