import { DefaultContext, defaultOptions } from 'elysia-rate-limit'
import { AppError } from './errors'

/**
 * A fixed-window counter per key over elysia-rate-limit's bounded LRU store. The plugin itself is not used: its
 * key generator cannot see the parsed body (the login identity), and it sends Retry-After only with its own body.
 */
export function createRateLimiter({
  max,
  windowMs,
  maxKeys = 10_000,
}: {
  max: number
  windowMs: number
  maxKeys?: number
}) {
  const store = new DefaultContext(maxKeys)
  store.init({ ...defaultOptions, duration: windowMs })
  return {
    /** Counts one request for `key`; throws 429 with Retry-After once the window's allowance is spent. */
    async hit(key: string) {
      const { count, nextReset } = await store.increment(key)
      if (count <= max) return
      const retryAfter = Math.max(1, Math.ceil((nextReset.getTime() - Date.now()) / 1000))
      throw new AppError(
        429,
        'RATE_LIMITED',
        `too many requests; retry in ${retryAfter} s`,
        { retry_after_s: retryAfter },
        {
          'retry-after': String(retryAfter),
        },
      )
    },
  }
}
export type RateLimiter = ReturnType<typeof createRateLimiter>

/** The client's address: the socket's, or the first X-Forwarded-For hop when a trusted proxy sets it. */
export function clientAddress(
  request: Request,
  server: { requestIP(r: Request): { address: string } | null } | null,
  trustProxy: boolean,
) {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return forwarded
  }
  return server?.requestIP(request)?.address ?? 'local'
}
