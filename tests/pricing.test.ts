import { describe, expect, it } from 'bun:test'
import { createPricing } from '../src/lib/pricing'

const usage = (inputTokens: number, outputTokens: number, cacheCreationTokens = 0, cacheReadTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheCreationTokens,
  cacheReadTokens,
})

describe('pricing', () => {
  const pricing = createPricing()

  it('finds a dated model id by its family prefix, the longest first', () => {
    expect(pricing.priceOf('claude-opus-4-1-20250805')?.input).toBe(15)
    expect(pricing.priceOf('claude-opus-4-6')?.input).toBe(5)
    expect(pricing.priceOf('claude-opus-4-20250514')?.input).toBe(15)
    expect(pricing.priceOf('claude-sonnet-4-5-20250929')?.output).toBe(15)
    expect(pricing.priceOf('<synthetic>')).toBeUndefined()
    expect(pricing.priceOf('claude-opus-40')).toBeUndefined()
  })

  it('prices each token kind separately, 1-hour cache writes at twice the input rate', () => {
    // Opus 4.1: $15 in, $75 out, $18.75 5m write, $30 1h write, $1.50 read, per million.
    const cost = pricing.costOf('claude-opus-4-1-20250805', {
      ...usage(1000, 2000, 3000, 4000),
      cacheCreation1hTokens: 1000,
    })
    expect(cost).toBeCloseTo((1000 * 15 + 2000 * 75 + 2000 * 18.75 + 1000 * 30 + 4000 * 1.5) / 1e6, 12)
  })

  it('applies the long-context rate when the prompt exceeds 200k tokens', () => {
    const at = pricing.costOf('claude-sonnet-4-5', usage(200_000, 1000))
    const above = pricing.costOf('claude-sonnet-4-5', usage(150_000, 1000, 0, 50_001))
    expect(at).toBeCloseTo((200_000 * 3 + 1000 * 15) / 1e6, 12)
    expect(above).toBeCloseTo((150_000 * 6 + 1000 * 22.5 + 50_001 * 0.6) / 1e6, 12)
  })

  it('costs nothing for an unknown or missing model, and honours overrides', () => {
    expect(pricing.costOf('mystery-model', usage(1000, 1000))).toBe(0)
    expect(pricing.costOf(null, usage(1000, 1000))).toBe(0)
    const custom = createPricing({
      'mystery-model': { input: 1, output: 2, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 },
    })
    expect(custom.costOf('mystery-model-v2', usage(1_000_000, 1_000_000))).toBe(3)
  })
})
