import { expect } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Expected figures for the fixture transcripts, computed independently of the program: a plain split and
 * JSON.parse, with the rules of CLAUDE_CODE_DATA.md ("Token usage") written out longhand.
 */

// Real transcripts, copied byte for byte from ../shared/fixtures (MIT; licences and SOURCES.md beside them).
export const FIXTURES = join(import.meta.dir, 'fixtures', 'claude-code')

export function fixtureFiles(dir = FIXTURES): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? fixtureFiles(join(dir, e.name)) : e.name.endsWith('.jsonl') ? [join(dir, e.name)] : [],
    )
    .sort()
}

// ---- the independent computation: plain split + JSON.parse, the rules of CLAUDE_CODE_DATA.md written out longhand

export type Plain = {
  model: string
  day: string
  ms: number
  sessionId: string
  input: number
  output: number
  write: number
  write1h: number
  read: number
}

type PlainLine = {
  type?: string
  requestId?: string
  timestamp: string
  sessionId: string
  message?: {
    id?: string
    role?: string
    model: string
    usage?: Partial<
      Record<'input_tokens' | 'output_tokens' | 'cache_creation_input_tokens' | 'cache_read_input_tokens', number>
    > & {
      cache_creation?: { ephemeral_1h_input_tokens?: number }
    }
  }
}

export function expectedResponses(files: string[]): Map<string, Plain> {
  const responses = new Map<string, Plain>()
  for (const file of files) {
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        continue
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue
      const line = parsed as PlainLine
      if (line.type === 'progress') continue // copies of subagent lines: the subagent's own file counts them
      const m = line.message
      if (typeof m !== 'object' || m === null || typeof m.usage !== 'object' || m.usage === null) continue
      if (!(line.type === 'assistant' || (line.type === undefined && m.role === 'assistant'))) continue
      if (m.model === '<synthetic>') continue
      // every usage line in these fixtures names its response
      expect(typeof m.id).toBe('string')
      expect(typeof line.requestId).toBe('string')
      const u = m.usage
      const r: Plain = {
        model: m.model,
        day: line.timestamp.slice(0, 10), // ISO-8601 in UTC: the UTC day
        ms: Date.parse(line.timestamp),
        sessionId: line.sessionId,
        input: u.input_tokens ?? 0,
        output: u.output_tokens ?? 0,
        write: u.cache_creation_input_tokens ?? 0,
        write1h: u.cache_creation?.ephemeral_1h_input_tokens ?? 0,
        read: u.cache_read_input_tokens ?? 0,
      }
      const key = `${m.id} ${line.requestId}`
      const total = (p: Plain) => p.input + p.output + p.write + p.read
      const seen = responses.get(key)
      if (!seen || total(r) > total(seen)) responses.set(key, r)
    }
  }
  return responses
}

export function expectedBy(responses: Iterable<Plain>, keyOf: (p: Plain) => string) {
  const out = new Map<string, number[]>()
  for (const p of responses) {
    const k = keyOf(p)
    const t = out.get(k) ?? [0, 0, 0, 0, 0]
    out.set(k, [
      (t[0] as number) + p.input,
      (t[1] as number) + p.output,
      (t[2] as number) + p.write,
      (t[3] as number) + p.read,
      (t[4] as number) + 1,
    ])
  }
  return Object.fromEntries(out)
}
