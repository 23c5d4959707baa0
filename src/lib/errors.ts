import { t } from 'elysia'
import { FORMAT_RULES } from './models'

/** The one error body every non-2xx response carries. */
export const ErrorBody = t.Object(
  {
    success: t.Literal(false),
    error: t.String({ description: 'What went wrong, for a person' }),
    code: t.String({ description: 'Stable UPPER_SNAKE code, for a program' }),
    details: t.Optional(t.Unknown()),
    request_id: t.String(),
    timestamp: t.String({ format: 'date-time' }),
  },
  {
    examples: [
      {
        success: false,
        error: 'conversation not found',
        code: 'NOT_FOUND',
        request_id: '0190f5c2-7d1e-7c3a-9a51-3f0b8e2d1c4a',
        timestamp: '2026-01-01T00:00:00.000Z',
      },
    ],
  },
)
export type ErrorBody = typeof ErrorBody.static

/** An expected failure: thrown by services, turned into ErrorBody by the app's error handler. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** extra response headers, e.g. Retry-After */
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }
}

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`)
export const conflict = (message: string) => new AppError(409, 'CONFLICT', message)
export const forbidden = (message: string) => new AppError(403, 'FORBIDDEN', message)

/**
 * A schema error's message; for a choice of constants (`t.Union` of `t.Literal`s) the choices, where TypeBox says only
 * "Expected union value"; for one of our string formats, what the value must be.
 */
export function errorMessage(e: { message: string; schema?: unknown }) {
  const schema = e.schema as { anyOf?: { const?: unknown }[]; format?: string } | undefined
  const choices = schema?.anyOf?.map((s) => s.const)
  if (choices?.length && choices.every((c) => c !== undefined)) return `must be one of ${choices.join(', ')}`
  return (schema?.format && FORMAT_RULES[schema.format]) || e.message
}
