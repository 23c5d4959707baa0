import { FormatRegistry, Type } from '@sinclair/typebox'
import { t } from 'elysia'

/**
 * An integer in a JSON body or a response. Elysia's `t.Integer` also takes numeric strings, which query strings need
 * (PageQuery keeps it), but it is a Transform: one in a response schema makes Elysia run TypeBox's interpreted Encode
 * over every value served, a third of a 50-item list's time, where a plain integer gets only the compiled check.
 */
export const Integer = Type.Integer

export const MAX_PAGE_SIZE = 200

/** limit/offset query fields shared by every list route. */
export const PageQuery = {
  limit: t.Optional(
    t.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50, description: `Page size, 1–${MAX_PAGE_SIZE}` }),
  ),
  // bounded by what SQLite's OFFSET takes as an integer (a larger number reached it as a float: a 500)
  offset: t.Optional(
    t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'Items to skip' }),
  ),
}

/** `:id` in a path: any id we or a client made, bounded. */
export const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 128 }) })

/** A list response: the page, the total matching, and the window used. */
export const Page = <T extends Parameters<typeof t.Array>[0]>(item: T) => {
  // the item's own example makes the page's, so every list route shows one in the docs
  const example = (item as { examples?: unknown[] }).examples?.[0]
  return t.Object(
    { items: t.Array(item), total: Integer(), limit: Integer(), offset: Integer() },
    example === undefined ? {} : { examples: [{ items: [example], total: 1, limit: 50, offset: 0 }] },
  )
}

/** Epoch milliseconds as served: ISO-8601 UTC. */
export const iso = (ms: number) => new Date(ms).toISOString()
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

/** A real calendar day from 1970 on: 2026-02-30 is not one (Date.UTC would roll it over to March). */
function isCalendarDate(v: string) {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Number.NaN
  return ms >= 0 && new Date(ms).toISOString().slice(0, 10) === v
}
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i
/** An ISO-8601 date-time with its offset, on a real calendar day, from 1970 on. */
const isDateTime = (v: string) => DATE_TIME.test(v) && isCalendarDate(v.slice(0, 10)) && Date.parse(v) >= 0
FormatRegistry.Set('date-or-date-time', (v) => isCalendarDate(v) || isDateTime(v))
FormatRegistry.Set('date-time-from-1970', isDateTime)
/** What a value of each of our formats must be, for error messages (TypeBox names only the format). */
export const FORMAT_RULES: Record<string, string> = {
  'date-or-date-time': 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time with its offset, a real one from 1970 on',
  'date-time-from-1970': 'must be an ISO-8601 date-time with its offset (Z or ±hh:mm), a real one from 1970 on',
}
/** A date (a whole day, in the request's tz) or an ISO-8601 date-time, each a real one from 1970 on (a 422 otherwise). */
export const DateOrTime = t.String({
  format: 'date-or-date-time',
  description: 'A date (YYYY-MM-DD, in tz) or an ISO-8601 date-time, from 1970 on',
  examples: ['2026-02-10', '2026-02-10T09:30:00Z'],
})

/** A time as served (ISO-8601 UTC). */
export const Timestamp = t.String({ format: 'date-time', examples: ['2026-01-01T12:00:00.000Z'] })

/**
 * A time as a client sends it: an ISO-8601 date-time with its offset (Z or ±hh:mm), a real one from 1970 on
 * (2026-02-30T00:00:00Z is a 422, where a looser check would roll it over to March).
 */
export const DateTimeInput = (description?: string) =>
  t.String({
    format: 'date-time-from-1970',
    ...(description && { description }),
    examples: ['2026-01-01T12:00:00Z'],
  })

/** The ids clients choose (machines, workspaces): letters, digits and . : @ _ -, at most 128, wherever they are sent. */
const CLIENT_ID_CHARS = '[\\w.:@-]'
const CLIENT_ID_MAX = 128
export const ClientId = t.String({ minLength: 1, maxLength: CLIENT_ID_MAX, pattern: `^${CLIENT_ID_CHARS}+$` })
const clientIdPattern = new RegExp(`^${CLIENT_ID_CHARS}+$`)
export const isClientId = (v: string) => v.length <= CLIENT_ID_MAX && clientIdPattern.test(v)

/** Headers that place what a client sends (hook events, uploaded transcripts) on its machine; empty means none. */
export const MachineHeaders = t.Object({
  'x-observatory-machine-id': t.Optional(
    t.String({
      maxLength: CLIENT_ID_MAX,
      // (empty too: a hook header whose variable is unset comes empty)
      pattern: `^${CLIENT_ID_CHARS}*$`,
      description:
        'The machine, as your hook settings and CLI name it (OBSERVATORY_MACHINE_ID): letters, digits and . : @ _ -, at most 128',
    }),
  ),
  'x-observatory-hostname': t.Optional(t.String({ maxLength: 255 })),
})

/** JSON object with arbitrary keys (metadata). */
export const JsonObject = t.Record(t.String(), t.Unknown())

/** OpenAPI security of routes that need a credential: a bearer token (JWT or API key) or the X-API-Key header. */
export const SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }]
