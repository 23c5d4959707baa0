import type { Pricing, Usage } from '../../lib/pricing'
import { isSyntheticModel, type NormalizedRecord } from './records'

/**
 * Token accounting for Claude Code transcripts (docs/CLAUDE_CODE_DATA.md, "Token usage").
 *
 * Claude Code writes one line per content block of a streamed response, each repeating the response's usage, often
 * with a placeholder output_tokens on all but the last. So one API response, identified by (message.id, requestId),
 * is counted once, from the line of its with the largest token total. Lines of model `<synthetic>` (client-side
 * errors) are skipped; usage copied into progress/agent_progress lines or aggregated in a Task tool result is never
 * read (the subagent's own file has it); a response replayed into a resumed session's file counts once, for the
 * file it was first seen in, unless the replay carries a larger total.
 */

/** The usage of one API response and the line that carries it. */
export type ResponseUsage = {
  /** `${messageId}:${requestId}`, or `uuid:<uuid>` for a line with no message.id */
  key: string
  messageId: string | null
  requestId: string | null
  /** uuid of the line carrying the usage */
  uuid: string | null
  sessionId: string | null
  agentId: string | null
  isSidechain: boolean
  model: string | null
  timestamp: number | null
  usage: Usage
  /** the sum of the four token kinds */
  total: number
}

/** The outcome of feeding one line: it now carries its response's usage, taking it from `replaced` if any. */
export type UsageAttribution = { entry: ResponseUsage; replaced: ResponseUsage | null }

export const usageTotal = (u: Usage) => u.inputTokens + u.outputTokens + u.cacheCreationTokens + u.cacheReadTokens

/** Whether a line's usage may count: an assistant message (not a progress copy) of a real model with a usage object. */
export const countsUsage = (r: NormalizedRecord): boolean =>
  r.usage !== null && r.role === 'assistant' && r.kind !== 'progress' && !isSyntheticModel(r.model)

/** The response a line belongs to; null when the line carries no usage that counts. */
export function responseKey(r: NormalizedRecord): string | null {
  if (!countsUsage(r)) return null
  if (r.messageId !== null) return `${r.messageId}:${r.requestId ?? ''}`
  return r.uuid !== null ? `uuid:${r.uuid}` : null
}

/**
 * The id a line's message row is stored under: its uuid, else (minimal or very old lines with usage but no uuid) its
 * response's key, so its tokens count and a second copy of it is recognised; null for a line that is no message.
 */
export function messageIdOf(r: NormalizedRecord): string | null {
  if (r.uuid !== null) return r.uuid
  const key = responseKey(r)
  return key ? `response:${key}` : null
}

export type UsageAccumulator = {
  /**
   * Feeds one line, in file order. Returns the attribution when this line now carries its response's usage (the
   * first line of a response, or a later one with a larger total, which takes over from `replaced`); null when the
   * line's usage does not count.
   */
  add(record: NormalizedRecord): UsageAttribution | null
  get(key: string): ResponseUsage | undefined
  /** every response counted so far, in the order first seen */
  responses(): ResponseUsage[]
  readonly size: number
}

/**
 * An incremental usage accumulator for a streaming import. `seed` takes the responses already stored (from an
 * earlier import), so a later line of the same response, or a resumed session's replay, is recognised.
 */
export function createUsageAccumulator(seed: Iterable<ResponseUsage> = []): UsageAccumulator {
  const entries = new Map<string, ResponseUsage>()
  for (const e of seed) entries.set(e.key, e)
  // lines with neither message.id nor uuid cannot be matched with anything: each is its own response
  let anonymous = 0
  return {
    add(r) {
      if (!countsUsage(r) || r.usage === null) return null
      const key = responseKey(r) ?? `line:${++anonymous}`
      const entry: ResponseUsage = {
        key,
        messageId: r.messageId,
        requestId: r.requestId,
        uuid: r.uuid,
        sessionId: r.sessionId,
        agentId: r.agentId,
        isSidechain: r.isSidechain,
        model: r.model,
        timestamp: r.timestamp,
        usage: r.usage,
        total: usageTotal(r.usage),
      }
      const current = entries.get(key)
      // ties keep the first line: a replay in a resumed session leaves the usage with the original session
      if (current && entry.total <= current.total) return null
      entries.set(key, entry)
      return { entry, replaced: current ?? null }
    },
    get: (key) => entries.get(key),
    responses: () => [...entries.values()],
    get size() {
      return entries.size
    },
  }
}

export type TokenTotals = {
  inputTokens: number
  outputTokens: number
  cacheCreationTokens: number
  cacheReadTokens: number
  cacheCreation1hTokens: number
  /** API responses counted */
  responses: number
  /** USD, when a pricing was given (0 otherwise) */
  costUsd: number
}

const emptyTotals = (): TokenTotals => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationTokens: 0,
  cacheReadTokens: 0,
  cacheCreation1hTokens: 0,
  responses: 0,
  costUsd: 0,
})

function addTo(t: TokenTotals, e: ResponseUsage, pricing: Pricing | undefined) {
  t.inputTokens += e.usage.inputTokens
  t.outputTokens += e.usage.outputTokens
  t.cacheCreationTokens += e.usage.cacheCreationTokens
  t.cacheReadTokens += e.usage.cacheReadTokens
  t.cacheCreation1hTokens += e.usage.cacheCreation1hTokens ?? 0
  t.responses++
  if (pricing) t.costUsd += pricing.costOf(e.model, e.usage)
}

/** Sums responses; with a pricing, each response is priced on its own (the long-context rate is per request). */
export function sumUsage(entries: Iterable<ResponseUsage>, pricing?: Pricing): TokenTotals {
  const t = emptyTotals()
  for (const e of entries) addTo(t, e, pricing)
  return t
}

/** Totals grouped by a key of each response; insertion order follows the responses. */
export function groupUsage<K>(
  entries: Iterable<ResponseUsage>,
  keyOf: (e: ResponseUsage) => K,
  pricing?: Pricing,
): Map<K, TokenTotals> {
  const groups = new Map<K, TokenTotals>()
  for (const e of entries) {
    const k = keyOf(e)
    let t = groups.get(k)
    if (!t) {
      t = emptyTotals()
      groups.set(k, t)
    }
    addTo(t, e, pricing)
  }
  return groups
}

const dayFormats = new Map<string, Intl.DateTimeFormat>()

/** The calendar day (YYYY-MM-DD) of an epoch-ms instant in an IANA time zone. Throws RangeError for an unknown zone. */
export function dayOf(ms: number, timeZone = 'UTC'): string {
  let f = dayFormats.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    dayFormats.set(timeZone, f)
  }
  const parts = f.formatToParts(ms)
  const part = (type: string) => parts.find((p) => p.type === type)?.value
  return `${part('year')}-${part('month')}-${part('day')}`
}

/** Totals per local day of each response's timestamp (null: responses without a timestamp). */
export function usageByDay(
  entries: Iterable<ResponseUsage>,
  options: { timeZone?: string; pricing?: Pricing } = {},
): Map<string | null, TokenTotals> {
  const timeZone = options.timeZone ?? 'UTC'
  return groupUsage(entries, (e) => (e.timestamp === null ? null : dayOf(e.timestamp, timeZone)), options.pricing)
}

/** Totals per sessionId (a subagent's lines carry its parent's sessionId, so they count for the parent session). */
export function usageBySession(
  entries: Iterable<ResponseUsage>,
  options: { pricing?: Pricing } = {},
): Map<string | null, TokenTotals> {
  return groupUsage(entries, (e) => e.sessionId, options.pricing)
}
