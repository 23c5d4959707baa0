import { Elysia, ElysiaCustomStatusResponse, ValidationError } from 'elysia'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { Histogram } from 'prom-client'
import { type Compression, encoded, isEncoded } from './encoded'
import { AppError, type ErrorBody, errorMessage } from './errors'
import type { SecurityHeaders } from './security'

const REQUEST_ID = /^[\w.:-]{1,128}$/
const COMPRESS_FROM_BYTES = 1024
/** the status proxies log for a request whose client closed the connection before the answer */
export const CLIENT_CLOSED_REQUEST = 499
/** room for the multipart boundaries and headers around an upload */
export const MULTIPART_SLACK = 1024 * 1024

/**
 * Elysia reports a coerced query number that breaks its bounds (limit=500) with an empty path; the key is found
 * again by its value so the error can name the field.
 */
const queryKeyOf = (request: Request, value: unknown) => {
  for (const [key, raw] of new URL(request.url).searchParams) if (raw !== '' && Number(raw) === value) return `/${key}`
  return ''
}

/** JSON bodies nested deeper than this are refused before validation (validators recurse on them). */
const MAX_JSON_DEPTH = 64

/** The request bodies the API takes: application/json, and multipart/form-data for uploads. */
const ACCEPTED_BODY = /^\s*(application\/json|multipart\/form-data)\s*(;|$)/i

/** Whether a parsed JSON value nests objects and arrays at most `limit` deep (a loop: nothing to overflow). */
function withinDepth(value: unknown, limit: number) {
  const pending: [unknown, number][] = [[value, 1]]
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next
    if (node === null || typeof node !== 'object') continue
    if (depth > limit) return false
    for (const child of Object.values(node))
      if (child !== null && typeof child === 'object') pending.push([child, depth + 1])
  }
  return true
}

type RequestInfo = { id: string; start: number }

/**
 * Cross-cutting HTTP behaviour for the whole app: request ids, security headers and CORS, the one error body, a log
 * line and metrics per request, the body-size limit, and zstd or gzip for large JSON responses.
 */
export function httpPlugin({
  logger,
  registry,
  security,
  maxBodyBytes,
  maxUploadBytes,
}: {
  logger: Logger
  registry: Registry
  security: SecurityHeaders
  maxBodyBytes: number
  maxUploadBytes: number
}) {
  const info = new WeakMap<Request, RequestInfo>()
  // one histogram: its _count is the number of requests per (method, route, status), so no separate counter
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  // the labelled series of each (method, route, status), looked up once
  const series = new Map<string, ReturnType<typeof durations.labels>>()
  const seriesOf = (labels: { method: string; route: string; status: string }) => {
    const key = `${labels.method} ${labels.route} ${labels.status}`
    let s = series.get(key)
    if (!s) {
      s = durations.labels(labels)
      series.set(key, s)
    }
    return s
  }

  const errorBody = (request: Request, code: string, error: string, details?: unknown): ErrorBody => ({
    success: false,
    error,
    code,
    ...(details !== undefined && { details }),
    request_id: info.get(request)?.id ?? '',
    timestamp: new Date().toISOString(),
  })

  /** One request's duration in the histogram and, at info level, its log line. */
  const record = (request: Request, route: string, status: number, path: string) => {
    const started = info.get(request)
    const seconds = started ? (performance.now() - started.start) / 1000 : 0
    const labels = { method: request.method, route: route || 'unmatched', status: String(status) }
    seriesOf(labels).observe(seconds)
    // at warn (production's usual level) not even the log line's object is built
    if (logger.isLevelEnabled('info'))
      logger.info(
        {
          method: request.method,
          route: labels.route,
          path,
          status,
          duration_ms: seconds * 1000,
          request_id: started?.id,
        },
        'request',
      )
  }

  type Failure = { status: number; code: string; message: string; details?: unknown; headers?: Record<string, string> }
  const failure = (status: number, code: string, message: string, details?: unknown): Failure => ({
    status,
    code,
    message,
    details,
  })
  /** The status, code and message of an error, whatever threw it. */
  const failureOf = (code: string | number, error: unknown, request: Request, path: string): Failure => {
    // the class first: Elysia reports an error's own `code` property as its code
    if (error instanceof AppError)
      return { ...failure(error.status, error.code, error.message, error.details), headers: error.headers }
    if (error instanceof ValidationError && error.type !== 'response') {
      const lostKey = queryKeyOf(request, error.valueError?.value)
      const part = error.type === 'property' && lostKey ? 'query' : error.type
      const issues = error.all.map((e) => ({
        path: ('path' in e && e.path) || lostKey,
        message: errorMessage(e),
      }))
      const first = issues[0]
      const where = first?.path ? `${part} ${first.path.replace(/^\//, '').replaceAll('/', '.')}` : part
      return failure(422, 'VALIDATION', `invalid ${where}: ${first?.message ?? 'does not match the schema'}`, issues)
    }
    if (code === 'NOT_FOUND') return failure(404, 'NOT_FOUND', `no route for ${request.method} ${path}`)
    if (code === 'PARSE') return failure(400, 'BAD_REQUEST', 'request body could not be parsed (malformed JSON?)')
    // storage trouble is the server's, but worth saying plainly: no stack, a code a client can act on
    const sqliteCode = (error as { code?: unknown }).code
    if (sqliteCode === 'SQLITE_FULL' || (error as { errno?: unknown }).errno === -28) {
      logger.error({ err: error, path }, 'out of disk space')
      return failure(507, 'INSUFFICIENT_STORAGE', 'the server is out of disk space; nothing was stored')
    }
    if (sqliteCode === 'SQLITE_BUSY')
      return { ...failure(503, 'BUSY', 'the database is busy; retry shortly'), headers: { 'retry-after': '1' } }
    logger.error({ err: error, request_id: info.get(request)?.id, path }, 'unhandled error')
    return failure(500, 'INTERNAL', 'internal error')
  }

  return (
    new Elysia({ name: 'http' })
      .onRequest(({ request, set }) => {
        const given = request.headers.get('x-request-id')
        const id = given && REQUEST_ID.test(given) ? given : Bun.randomUUIDv7()
        info.set(request, { id, start: performance.now() })
        set.headers['x-request-id'] = id
        const preflight = security(request, set)
        if (preflight) return preflight
        if (request.method === 'GET' || request.method === 'HEAD') return // no body to weigh
        const type = request.headers.get('content-type')
        const declared = request.headers.get('content-length')
        const length = Number(declared ?? 0)
        const hasBody = declared !== null ? length > 0 : request.body !== null
        // bodies are JSON, uploads multipart: anything else is refused for what it is, not parsed into a 422
        if (hasBody && type && !ACCEPTED_BODY.test(type))
          throw new AppError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `content-type ${type.split(';')[0]} is not accepted: send application/json (uploads: multipart/form-data)`,
          )
        // uploads (multipart) have their own, larger limit; the file service checks the file itself
        const limit = type?.startsWith('multipart/form-data') ? maxUploadBytes + MULTIPART_SLACK : maxBodyBytes
        if (length > limit)
          throw new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is ${length} bytes; the limit is ${limit}`)
      })
      // A body nested absurdly deep gets a 400 before validation recurses into it. Checked on the parsed body, not in
      // a parse hook: any parse hook makes Elysia compile every route handler async, GETs included.
      .onTransform({ as: 'global' }, ({ body }) => {
        if (body !== null && typeof body === 'object' && !withinDepth(body, MAX_JSON_DEPTH))
          throw new AppError(400, 'BAD_REQUEST', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`)
      })
      // Elysia guesses from a hook's source whether it is async (`return f(…)` reads as async), and one async error
      // hook compiles every route handler async; so this one calls first and returns a plain value
      .onError({ as: 'global' }, ({ code, error, request, set, path }) => {
        const answer = failureOf(code, error, request, path)
        const body = errorBody(request, answer.code, answer.message, answer.details)
        set.status = answer.status
        set.headers['content-type'] = 'application/json; charset=utf-8'
        if (answer.headers) Object.assign(set.headers, answer.headers)
        return body
      })
      .onAfterHandle({ as: 'global' }, ({ responseValue, request, set }) => {
        // a value returned with status(code, value) carries its own status
        const custom = responseValue instanceof ElysiaCustomStatusResponse
        const value: unknown = custom ? responseValue.response : responseValue
        const isJson =
          value !== null && typeof value === 'object' && [Object, Array].includes(value.constructor as never)
        if (!isJson) return
        const accepted = request.headers.get('accept-encoding') ?? ''
        const compression: Compression | undefined = accepted.includes('zstd')
          ? 'zstd'
          : accepted.includes('gzip')
            ? 'gzip'
            : undefined
        // a reused answer is sent from the bytes made for it; any other goes to Elysia unless it is worth compressing
        const known = isEncoded(value)
        if (!compression && !known) return
        const body = encoded(value)
        const compress = compression !== undefined && body.json.byteLength >= COMPRESS_FROM_BYTES
        if (!compress && !known) return
        set.headers['content-type'] = 'application/json; charset=utf-8'
        if (compress) {
          set.headers['content-encoding'] = compression
          set.headers.vary = set.headers.vary ? `${set.headers.vary}, accept-encoding` : 'accept-encoding'
        }
        const status = custom ? Number(responseValue.code) : Number(set.status ?? 200)
        const response = new Response(compress ? body.compressed(compression) : body.json, {
          status,
          headers: set.headers as Record<string, string>,
        })
        // The response carries every header now. Left in `set`, they would make Elysia copy this response into
        // another one with the body as a stream: a fifth of the time of an answer reused from the read cache.
        for (const name of Object.keys(set.headers)) delete set.headers[name]
        set.status = status
        return response
      })
      // Metrics and the log line as each answer, error or not, is handed over: an afterResponse hook would cost every
      // request a setImmediate, about a fifth of the time of a small answer. The value goes back unchanged (Elysia's
      // error path sends whatever this hook returns).
      .mapResponse({ as: 'global' }, ({ request, route, set, path, responseValue }) => {
        // (a Response a handler made carries its own status, which `set` does not know)
        const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200)
        record(request, route, status, path)
        return responseValue as Response
      })
  )
}
