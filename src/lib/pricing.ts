import { readFileSync } from 'node:fs'
import { Type as t } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/** USD per million tokens for each kind; `above200k` applies to requests whose prompt exceeds 200k tokens. */
export type ModelPrice = {
  input: number
  output: number
  cacheWrite5m: number
  cacheWrite1h: number
  cacheRead: number
  above200k?: Omit<ModelPrice, 'above200k'>
}

export type Usage = {
  inputTokens: number
  outputTokens: number
  cacheCreationTokens: number
  cacheReadTokens: number
  /** part of cacheCreationTokens written with the 1-hour TTL (priced higher); the rest is 5-minute */
  cacheCreation1hTokens?: number
}

const tier = (input: number, output: number): Omit<ModelPrice, 'above200k'> => ({
  input,
  output,
  cacheWrite5m: input * 1.25,
  cacheWrite1h: input * 2,
  cacheRead: input * 0.1,
})

/**
 * Anthropic's published list prices (https://docs.anthropic.com/en/docs/about-claude/pricing), keyed by model-id
 * prefix; the longest matching prefix wins, so dated ids (claude-sonnet-4-5-20250929) find their family.
 * Cache writes cost 1.25x input (5-minute TTL) or 2x (1-hour), cache reads 0.1x.
 */
export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  'claude-opus-4-6': tier(5, 25),
  'claude-opus-4-5': tier(5, 25),
  'claude-opus-4-1': tier(15, 75),
  'claude-opus-4': tier(15, 75),
  'claude-3-opus': tier(15, 75),
  'claude-sonnet-4-6': { ...tier(3, 15), above200k: tier(6, 22.5) },
  'claude-sonnet-4-5': { ...tier(3, 15), above200k: tier(6, 22.5) },
  'claude-sonnet-4': { ...tier(3, 15), above200k: tier(6, 22.5) },
  'claude-3-7-sonnet': tier(3, 15),
  'claude-3-5-sonnet': tier(3, 15),
  'claude-3-sonnet': tier(3, 15),
  'claude-haiku-4-5': tier(1, 5),
  'claude-3-5-haiku': tier(0.8, 4),
  'claude-3-haiku': tier(0.25, 1.25),
}

export type Pricing = {
  /** the price entry for a model id, or undefined when the model is unknown (its cost is then 0) */
  priceOf(model: string): ModelPrice | undefined
  /** cost in USD of one API response's usage */
  costOf(model: string | null | undefined, usage: Usage): number
}

/** Builds the price table: the defaults, overlaid by a JSON file of the same shape when one is given. */
export function createPricing(overrides: Record<string, ModelPrice> = {}): Pricing {
  const table = { ...DEFAULT_PRICES, ...overrides }
  const prefixes = Object.keys(table).sort((a, b) => b.length - a.length)
  const cache = new Map<string, ModelPrice | undefined>()
  const priceOf = (model: string) => {
    if (!cache.has(model)) {
      const id = model.replace(/^anthropic[./]/, '')
      const prefix = prefixes.find((p) => id === p || id.startsWith(`${p}-`) || id.startsWith(`${p}@`))
      cache.set(model, prefix ? table[prefix] : undefined)
    }
    return cache.get(model)
  }
  return {
    priceOf,
    costOf(model, u) {
      const price = model ? priceOf(model) : undefined
      if (!price) return 0
      const prompt = u.inputTokens + u.cacheCreationTokens + u.cacheReadTokens
      const p = price.above200k && prompt > 200_000 ? price.above200k : price
      const write1h = Math.min(u.cacheCreation1hTokens ?? 0, u.cacheCreationTokens)
      const micro =
        u.inputTokens * p.input +
        u.outputTokens * p.output +
        (u.cacheCreationTokens - write1h) * p.cacheWrite5m +
        write1h * p.cacheWrite1h +
        u.cacheReadTokens * p.cacheRead
      return micro / 1_000_000
    },
  }
}

const Rate = t.Number({ minimum: 0 })
const Tier = { input: Rate, output: Rate, cacheWrite5m: Rate, cacheWrite1h: Rate, cacheRead: Rate }
const PriceFile = t.Record(
  t.String({ minLength: 1 }),
  t.Object(
    { ...Tier, above200k: t.Optional(t.Object(Tier, { additionalProperties: false })) },
    { additionalProperties: false },
  ),
)

/**
 * Reads a price override file: `{ "<model-id prefix>": { input, output, cacheWrite5m, cacheWrite1h, cacheRead,
 * above200k? } }` in USD per million tokens. Throws naming the first entry that does not fit.
 */
export function loadPriceOverrides(path: string): Record<string, ModelPrice> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
  const first = Value.Errors(PriceFile, parsed).First()
  if (first) throw new Error(`${first.path || '/'}: ${first.message}`)
  return parsed as Record<string, ModelPrice>
}

/** A cost as served, to the nano-dollar: sums of float costs carry noise below it (0.07779720000000001). */
export const usd = (cost: number) => Math.round(cost * 1e9) / 1e9 + 0 // (+ 0: never -0)
