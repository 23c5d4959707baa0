import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPricing } from '../src/lib/pricing'
import { readJsonl } from '../src/modules/ingest/jsonl'
import { normalizeRecord } from '../src/modules/ingest/records'
import {
  createUsageAccumulator,
  dayOf,
  responseKey,
  sumUsage,
  type TokenTotals,
  usageByDay,
  usageBySession,
} from '../src/modules/ingest/usage'
import { expectedBy, expectedResponses, FIXTURES, fixtureFiles } from './fixture-expectations'

const four = (t: TokenTotals) => [t.inputTokens, t.outputTokens, t.cacheCreationTokens, t.cacheReadTokens, t.responses]

async function accumulate(files: string[]) {
  const acc = createUsageAccumulator()
  for (const file of files)
    for await (const line of readJsonl(Bun.file(file).stream()))
      if (line.kind === 'record') acc.add(normalizeRecord(line.value))
  return acc
}

// ---- synthetic lines

let n = 0
function assistant(
  messageId: string,
  usage: { in?: number; out?: number; write?: number; read?: number },
  extra: Record<string, unknown> = {},
) {
  return normalizeRecord({
    type: 'assistant',
    uuid: `u${++n}`,
    sessionId: 's1',
    requestId: `req-${messageId}`,
    timestamp: '2026-02-10T22:30:00.000Z',
    message: {
      id: messageId,
      role: 'assistant',
      model: 'claude-opus-4-6',
      content: [],
      usage: {
        input_tokens: usage.in ?? 0,
        output_tokens: usage.out ?? 0,
        cache_creation_input_tokens: usage.write ?? 0,
        cache_read_input_tokens: usage.read ?? 0,
      },
    },
    ...extra,
  })
}

describe('usage accumulator', () => {
  it('counts a split response once, from its line with the largest total, and says which line carries it', () => {
    const acc = createUsageAccumulator()
    const thinking = assistant('m1', { in: 3, out: 1, write: 500, read: 10_000 })
    const text = assistant('m1', { in: 3, out: 1, write: 500, read: 10_000 })
    const toolUse = assistant('m1', { in: 3, out: 240, write: 500, read: 10_000 })
    const first = acc.add(thinking)
    expect(first?.entry.uuid).toBe(thinking.uuid as string)
    expect(first?.replaced).toBeNull()
    expect(acc.add(text)).toBeNull() // a tie keeps the first line
    const last = acc.add(toolUse)
    expect(last?.entry.uuid).toBe(toolUse.uuid as string)
    expect(last?.replaced?.uuid).toBe(thinking.uuid as string)
    expect(acc.size).toBe(1)
    expect(sumUsage(acc.responses())).toMatchObject({
      inputTokens: 3,
      outputTokens: 240,
      cacheCreationTokens: 500,
      cacheReadTokens: 10_000,
      responses: 1,
    })
  })

  it('keeps the larger line when it comes first', () => {
    const acc = createUsageAccumulator()
    acc.add(assistant('m2', { in: 5, out: 300 }))
    expect(acc.add(assistant('m2', { in: 5, out: 1 }))).toBeNull()
    expect(sumUsage(acc.responses()).outputTokens).toBe(300)
  })

  it('skips <synthetic> lines, progress copies and Task result aggregates', () => {
    const acc = createUsageAccumulator()
    const synthetic = normalizeRecord({
      type: 'assistant',
      uuid: 'x1',
      isApiErrorMessage: true,
      message: { id: 'e1', model: '<synthetic>', role: 'assistant', usage: { input_tokens: 0, output_tokens: 0 } },
    })
    const progress = normalizeRecord({
      type: 'progress',
      uuid: 'x2',
      data: {
        type: 'agent_progress',
        message: { type: 'assistant', message: { id: 'm9', usage: { input_tokens: 9 } } },
      },
      // even a progress line that had a top-level message would not count
      message: { id: 'm9', role: 'assistant', model: 'claude-haiku-4-5', usage: { input_tokens: 9 } },
    })
    const taskResult = normalizeRecord({
      type: 'user',
      uuid: 'x3',
      message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'done' }] },
      toolUseResult: { totalTokens: 12345, usage: { input_tokens: 12000, output_tokens: 345 } },
    })
    for (const r of [synthetic, progress, taskResult]) {
      expect(responseKey(r)).toBeNull()
      expect(acc.add(r)).toBeNull()
    }
    expect(acc.size).toBe(0)
  })

  it("counts a response replayed into a resumed session's file once, for the original session", () => {
    const acc = createUsageAccumulator()
    acc.add(assistant('m3', { in: 10, out: 20 }))
    expect(acc.add(assistant('m3', { in: 10, out: 20 }, { sessionId: 's2', uuid: 'replayed' }))).toBeNull()
    acc.add(assistant('m4', { in: 1, out: 2 }, { sessionId: 's2' }))
    const bySession = usageBySession(acc.responses())
    expect([...bySession.keys()]).toEqual(['s1', 's2'])
    expect(four(bySession.get('s1') as TokenTotals)).toEqual([10, 20, 0, 0, 1])
    expect(four(bySession.get('s2') as TokenTotals)).toEqual([1, 2, 0, 0, 1])
  })

  it('continues from the responses an earlier import stored', () => {
    const earlier = createUsageAccumulator()
    earlier.add(assistant('m5', { in: 4, out: 1 }))
    const acc = createUsageAccumulator(earlier.responses())
    const later = acc.add(assistant('m5', { in: 4, out: 90 }))
    expect(later?.replaced?.usage.outputTokens).toBe(1)
    expect(acc.add(assistant('m5', { in: 4, out: 2 }))).toBeNull()
  })

  it('matches lines without message.id by uuid, and counts lines with neither on their own', () => {
    const acc = createUsageAccumulator()
    const noId = (uuid?: string) =>
      normalizeRecord({
        type: 'assistant',
        uuid,
        message: { role: 'assistant', model: 'm', usage: { input_tokens: 7 } },
      })
    expect(acc.add(noId('a'))?.entry.key).toBe('uuid:a')
    expect(acc.add(noId('a'))).toBeNull()
    acc.add(noId())
    acc.add(noId())
    expect(sumUsage(acc.responses())).toMatchObject({ inputTokens: 21, responses: 3 })
  })

  it('groups by local day in an IANA time zone', () => {
    const acc = createUsageAccumulator()
    acc.add(assistant('m6', { in: 1 })) // 2026-02-10T22:30Z
    acc.add(assistant('m7', { in: 2 }, { timestamp: '2026-02-11T03:00:00Z' }))
    acc.add(assistant('m8', { in: 4 }, { timestamp: 'garbage' }))
    const days = (tz?: string) =>
      Object.fromEntries([...usageByDay(acc.responses(), { timeZone: tz })].map(([d, t]) => [d, t.inputTokens]))
    expect(days()).toEqual({ '2026-02-10': 1, '2026-02-11': 2, null: 4 })
    expect(days('Asia/Kolkata')).toEqual({ '2026-02-11': 3, null: 4 })
    expect(days('America/Los_Angeles')).toEqual({ '2026-02-10': 3, null: 4 })
    expect(dayOf(Date.parse('2026-03-08T09:59:00Z'), 'America/New_York')).toBe('2026-03-08')
    expect(() => dayOf(0, 'Mars/Olympus')).toThrow(RangeError)
  })
})

describe('usage of the fixtures', () => {
  const files = fixtureFiles()
  const expected = expectedResponses(files)

  it('per day (UTC), per session and in total, equals the longhand computation', async () => {
    const acc = await accumulate(files)
    const days = Object.fromEntries([...usageByDay(acc.responses())].map(([d, t]) => [d, four(t)]))
    expect(days).toEqual(expectedBy(expected.values(), (p) => p.day))
    const sessions = Object.fromEntries([...usageBySession(acc.responses())].map(([s, t]) => [s, four(t)]))
    expect(sessions).toEqual(expectedBy(expected.values(), (p) => p.sessionId))
    expect(acc.size).toBe(expected.size)
    // the shape of the data, so a silently empty computation cannot pass: 6 days, 8 sessions
    expect(Object.keys(days)).toHaveLength(6)
    expect(Object.keys(sessions)).toHaveLength(8)
  })

  it('per day in another time zone', async () => {
    const acc = await accumulate(files)
    const kolkata = (ms: number) => new Date(ms + 5.5 * 3600_000).toISOString().slice(0, 10) // UTC+05:30, no DST
    const days = Object.fromEntries(
      [...usageByDay(acc.responses(), { timeZone: 'Asia/Kolkata' })].map(([d, t]) => [d, four(t)]),
    )
    expect(days).toEqual(expectedBy(expected.values(), (p) => kolkata(p.ms)))
  })

  it('a subagent file counts for its parent session; agent_progress copies in the parent do not count twice', async () => {
    const main = join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl')
    const sub = join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04', 'subagents', 'agent-aac57f5.jsonl')
    const alone = sumUsage((await accumulate([main])).responses())
    const withSub = sumUsage((await accumulate([main, sub])).responses())
    const subOnly = sumUsage((await accumulate([sub])).responses())
    expect(withSub.inputTokens).toBe(alone.inputTokens + subOnly.inputTokens)
    expect(withSub.responses).toBe(alone.responses + subOnly.responses)
    expect(subOnly.responses).toBeGreaterThan(0)
  })

  it('is not the naive sum of every line, nor the first line of each response', async () => {
    const file = join(FIXTURES, 'sniffly', 'fed8ce56-bc79-401f-a83e-af084253362f.jsonl')
    const ours = sumUsage((await accumulate([file])).responses())
    let naiveRead = 0
    const firstOutput = new Map<string, number>()
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (!text) continue
      const line = JSON.parse(text)
      if (line.type !== 'assistant') continue
      naiveRead += line.message.usage.cache_read_input_tokens
      const key = `${line.message.id} ${line.requestId}`
      if (!firstOutput.has(key)) firstOutput.set(key, line.message.usage.output_tokens)
    }
    const firstSum = [...firstOutput.values()].reduce((a, b) => a + b, 0)
    expect(naiveRead).toBeGreaterThan(ours.cacheReadTokens)
    expect(firstSum).toBeLessThan(ours.outputTokens)
  })

  it('prices each response at the published per-model rates', async () => {
    // USD per million tokens (Anthropic's price list): input, output; writes 1.25x (5 min) / 2x (1 h), reads 0.1x
    const rates: Record<string, [number, number]> = {
      'claude-opus-4-6': [5, 25],
      'claude-haiku-4-5-20251001': [1, 5],
      'claude-sonnet-4-5-20250929': [3, 15],
      'claude-sonnet-4-20250514': [3, 15],
    }
    const spotterAndSniffly = files.filter((f) => f.includes('/spotter/') || f.includes('/sniffly/'))
    let cost = 0
    for (const p of expectedResponses(spotterAndSniffly).values()) {
      const [inRate, outRate] = rates[p.model] as [number, number]
      expect(p.input + p.write + p.read).toBeLessThanOrEqual(200_000) // no long-context rate in these files
      cost +=
        (p.input * inRate +
          p.output * outRate +
          (p.write - p.write1h) * inRate * 1.25 +
          p.write1h * inRate * 2 +
          p.read * inRate * 0.1) /
        1e6
    }
    const acc = await accumulate(spotterAndSniffly)
    expect(sumUsage(acc.responses(), createPricing()).costUsd).toBeCloseTo(cost, 9)
    expect(cost).toBeGreaterThan(7)
  })
})
