/**
 * CORS limited to an exact allowlist of origins (scheme, host and port compared as a whole; no wildcard, no
 * reflection, no credentials), preflights answered before routing, and security headers on every response. Run by
 * the HTTP plugin's one request hook: each hook costs on the hottest path there is.
 */
export function securityHeaders({ corsOrigins, hstsMaxAge }: { corsOrigins: string[]; hstsMaxAge: number }) {
  const allowed = new Set(corsOrigins)
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    ...(hstsMaxAge > 0 && { 'strict-transport-security': `max-age=${hstsMaxAge}; includeSubDomains` }),
  }
  const preflight = {
    'access-control-allow-methods': 'GET, POST, PATCH, PUT, DELETE, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, x-api-key, x-request-id, last-event-id',
    'access-control-max-age': '600',
  }
  /** Sets the response's headers; answers a CORS preflight itself. */
  return (request: Request, set: { headers: Record<string, unknown> }): Response | undefined => {
    Object.assign(set.headers, headers)
    if (allowed.size === 0) return
    const origin = request.headers.get('origin')
    if (origin === null || !allowed.has(origin)) return
    set.headers['access-control-allow-origin'] = origin
    set.headers.vary = 'origin'
    if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method'))
      return new Response(null, { status: 204, headers: { ...(set.headers as Record<string, string>), ...preflight } })
    set.headers['access-control-expose-headers'] = 'x-request-id, retry-after, content-encoding'
  }
}
export type SecurityHeaders = ReturnType<typeof securityHeaders>
