import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type JsonlLine, type JsonlOptions, type JsonlSource, readJsonl } from '../src/modules/ingest/jsonl'
import { normalizeRecord } from '../src/modules/ingest/records'

// Real transcripts, copied byte for byte from ../shared/fixtures (MIT; licences and SOURCES.md beside them).
const FIXTURES = join(import.meta.dir, 'fixtures', 'claude-code')

function fixtureFiles(dir = FIXTURES): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? fixtureFiles(join(dir, e.name)) : e.name.endsWith('.jsonl') ? [join(dir, e.name)] : [],
    )
    .sort()
}

const enc = new TextEncoder()
const bytesOf = (...parts: (string | Uint8Array)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p)))

/** The source cut into chunks of `size` bytes, so lines, BOMs, CRLFs and UTF-8 sequences straddle chunk edges. */
function* chunks(bytes: Uint8Array, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size)
}

async function read(source: JsonlSource, options?: JsonlOptions) {
  const reader = readJsonl(source, options)
  const lines: JsonlLine[] = []
  for await (const line of reader) lines.push(line)
  if (!reader.summary) throw new Error('no summary after a complete iteration')
  return { lines, summary: reader.summary }
}

/** The bytes a line stood for, rebuilt from what the reader yielded. */
function rebuild(line: JsonlLine): Uint8Array {
  if (line.kind === 'error' && line.bytes) return bytesOf(line.bytes, line.terminator)
  if (line.text === null) throw new Error(`line ${line.line} was not kept (${line.kind})`)
  return bytesOf(line.bom ? '\uFEFF' : '', line.text, line.terminator)
}

const CHUNK_SIZES = [1, 2, 3, 5, 7, 64, 1 << 20]

describe('readJsonl: bad lines', () => {
  // Each part is one line with its terminator; offsets are the running byte sums, computed here independently.
  const parts: (string | Uint8Array)[] = [
    '{"type":"user","n":1}\n',
    '{"type": "user", "broken": \n',
    '[1,2,3]\n',
    '"just a string"\n',
    bytesOf('{"text":"caf', new Uint8Array([0xc3, 0x28]), '"}\n'),
    `{"big":"${'x'.repeat(100)}"}\r\n`,
    'null\n',
    '\n',
    '   \t \r\n',
    '{"type":"assistant","n":2,"text":"né 🚀"}\r\n',
    '{"last":true}',
  ]
  const file = bytesOf(...parts)
  const offsets = parts.map((_, i) => bytesOf(...parts.slice(0, i)).length)

  for (const size of CHUNK_SIZES) {
    it(`reports every bad line with its number and byte offset (chunks of ${size} bytes)`, async () => {
      const { lines, summary } = await read(chunks(file, size), { maxLineBytes: 64 })
      expect(lines.map((l): unknown[] => [l.line, l.offset, l.kind === 'error' ? l.error.reason : l.kind])).toEqual([
        [1, offsets[0], 'record'],
        [2, offsets[1], 'invalid_json'],
        [3, offsets[2], 'not_object'],
        [4, offsets[3], 'not_object'],
        [5, offsets[4], 'invalid_utf8'],
        [6, offsets[5], 'line_too_long'],
        [7, offsets[6], 'not_object'],
        [8, offsets[7], 'blank'],
        [9, offsets[8], 'blank'],
        [10, offsets[9], 'record'],
        [11, offsets[10], 'record'],
      ])
      for (const l of lines) if (l.kind === 'error') expect([l.error.line, l.error.offset]).toEqual([l.line, l.offset])
      expect(summary).toEqual({
        endOffset: file.length,
        nextLine: 12,
        bytesRead: file.length,
        records: 3,
        blanks: 2,
        errors: 6,
        tail: null,
      })
      const tooLong = lines[5] as Extract<JsonlLine, { kind: 'error' }>
      expect(tooLong.text).toBeNull()
      expect(tooLong.terminator).toBe('\r\n')
      expect(tooLong.length).toBe(enc.encode(parts[5] as string).length - 2)
      const utf8 = lines[4] as Extract<JsonlLine, { kind: 'error' }>
      expect(utf8.bytes).toEqual((parts[4] as Uint8Array).subarray(0, -1))
      expect(lines[9]?.kind === 'record' && lines[9].value).toEqual({ type: 'assistant', n: 2, text: 'né 🚀' })
      expect(lines[10]?.terminator).toBe('')
      // every line but the skipped one rebuilds its bytes exactly
      for (const [i, l] of lines.entries()) if (i !== 5) expect(rebuild(l)).toEqual(bytesOf(parts[i] as string))
    })
  }

  it('accepts a line of exactly the limit and rejects one byte more, CR not counted', async () => {
    const at = `{"a":"${'y'.repeat(12)}"}` // 20 bytes
    const over = `{"a":"${'y'.repeat(13)}"}` // 21 bytes
    const { lines } = await read([bytesOf(`${at}\r\n${over}\r\n${at}\n`)], { maxLineBytes: 20 })
    expect(lines.map((l) => (l.kind === 'error' ? l.error.reason : l.kind))).toEqual([
      'record',
      'line_too_long',
      'record',
    ])
    expect(lines.map((l) => l.offset)).toEqual([0, 22, 45])
    expect(lines[1]?.length).toBe(21)
  })

  it('skips an over-long line without buffering it, even across many chunks', async () => {
    const huge = `{"image":"${'A'.repeat(200_000)}"}`
    const file = bytesOf('{"a":1}\n', huge, '\n{"b":2}\n')
    const { lines } = await read(chunks(file, 1000), { maxLineBytes: 1024 })
    expect(lines.map((l): unknown[] => [l.line, l.offset, l.length])).toEqual([
      [1, 0, 7],
      [2, 8, huge.length],
      [3, 9 + huge.length, 7],
    ])
  })
})

describe('readJsonl: framing', () => {
  for (const size of CHUNK_SIZES) {
    it(`strips a UTF-8 BOM from the first line only and remembers it (chunks of ${size})`, async () => {
      const file = bytesOf('\uFEFF{"a":1}\r\n{"b":2}\n')
      const { lines } = await read(chunks(file, size))
      expect(lines.map((l): unknown[] => [l.kind, l.offset, l.length, l.bom, l.terminator])).toEqual([
        ['record', 0, 10, true, '\r\n'],
        ['record', 12, 7, false, '\n'],
      ])
      expect(lines[0]?.kind === 'record' && lines[0].text).toBe('{"a":1}')
      expect(Buffer.concat(lines.map(rebuild))).toEqual(file)
    })
  }

  it('keeps a BOM-like sequence that is not at offset 0 as content (then it is not JSON)', async () => {
    const { lines } = await read([bytesOf('{"a":1}\n\uFEFF{"b":2}\n')])
    expect(lines[1]?.kind === 'error' && lines[1].error.reason).toBe('invalid_json')
    expect(lines[1]?.bom).toBe(false)
  })

  it('reads a final line without a newline as a normal line', async () => {
    const file = bytesOf('{"a":1}\n{"b":2}')
    const { lines, summary } = await read([file])
    expect(lines.map((l) => l.kind)).toEqual(['record', 'record'])
    expect(summary.endOffset).toBe(file.length)
    expect(summary.nextLine).toBe(3)
    expect(summary.tail).toBeNull()
  })

  it('reads an empty source and a source of blank lines', async () => {
    expect((await read([])).summary).toMatchObject({ endOffset: 0, nextLine: 1, records: 0, tail: null })
    const { lines, summary } = await read([bytesOf('\n\r\n  \n')])
    expect(lines.map((l): unknown[] => [l.kind, l.offset, l.terminator])).toEqual([
      ['blank', 0, '\n'],
      ['blank', 1, '\r\n'],
      ['blank', 3, '\n'],
    ])
    expect(summary).toMatchObject({ endOffset: 6, nextLine: 4, blanks: 3, errors: 0 })
  })

  it('treats an unterminated last line that does not parse as a truncated tail, not an error', async () => {
    const head = '{"a":1}\n{"b":2}\r\n'
    const file = bytesOf(head, '{"c":"half writ')
    for (const size of CHUNK_SIZES) {
      const { lines, summary } = await read(chunks(file, size))
      expect(lines.map((l) => l.kind)).toEqual(['record', 'record'])
      expect(summary).toEqual({
        endOffset: head.length,
        nextLine: 3,
        bytesRead: file.length,
        records: 2,
        blanks: 0,
        errors: 0,
        tail: { line: 3, offset: head.length, length: file.length - head.length, reason: 'invalid_json' },
      })
    }
  })

  it('treats a tail cut inside a UTF-8 sequence or over the limit as truncated too', async () => {
    const cut = bytesOf('{"a":1}\n', enc.encode('{"t":"é"}').subarray(0, 7)) // the first byte of "é" only
    expect((await read([cut])).summary.tail).toEqual({ line: 2, offset: 8, length: 7, reason: 'invalid_utf8' })
    const long = bytesOf('{"a":1}\n', `{"t":"${'z'.repeat(100)}`)
    expect((await read(chunks(long, 16), { maxLineBytes: 50 })).summary.tail).toMatchObject({
      line: 2,
      offset: 8,
      reason: 'line_too_long',
    })
  })

  it('reports an unfinished last line of a source that will not grow as a bad line, not a tail', async () => {
    const head = '{"a":1}\n'
    const cut = bytesOf(head, '{"c":"half writ')
    const { lines, summary } = await read([cut], { complete: true })
    expect(lines[1]?.kind === 'error' && lines[1].error).toMatchObject({ line: 2, offset: 8, reason: 'invalid_json' })
    expect(summary).toMatchObject({ endOffset: cut.length, nextLine: 3, errors: 1, tail: null })
    const long = bytesOf(head, `{"t":"${'z'.repeat(100)}`)
    const tooLong = await read(chunks(long, 16), { maxLineBytes: 50, complete: true })
    expect(tooLong.lines[1]?.kind === 'error' && tooLong.lines[1].error).toMatchObject({
      line: 2,
      offset: 8,
      reason: 'line_too_long',
    })
    expect(tooLong.summary).toMatchObject({ endOffset: long.length, nextLine: 3, errors: 1, tail: null })
  })

  it('reports an unterminated line that parses to a non-object as an error, not a tail', async () => {
    const { lines, summary } = await read([bytesOf('{"a":1}\n42')])
    expect(lines[1]?.kind === 'error' && lines[1].error).toMatchObject({ line: 2, offset: 8, reason: 'not_object' })
    expect(summary).toMatchObject({ endOffset: 10, nextLine: 3, tail: null })
  })

  it('resumes from the offset and line where a truncated import stopped', async () => {
    const complete = bytesOf('{"a":1}\n{"b":"é"}\n{"c":3}\n')
    const partial = complete.subarray(0, 14) // inside line 2
    const first = await read([partial])
    expect(first.summary).toMatchObject({ endOffset: 8, nextLine: 2, tail: { line: 2, offset: 8 } })
    // the file has grown; the next import reads from where complete data ended
    const { endOffset, nextLine } = first.summary
    const second = await read(chunks(complete.subarray(endOffset), 3), { offset: endOffset, line: nextLine })
    expect(second.lines.map((l): unknown[] => [l.line, l.offset, l.kind === 'record' && l.value])).toEqual([
      [2, 8, { b: 'é' }],
      [3, 8 + Buffer.byteLength('{"b":"é"}\n'), { c: 3 }],
    ])
    expect(second.summary).toMatchObject({ endOffset: complete.length, nextLine: 4, bytesRead: complete.length - 8 })
  })

  it('reads a ReadableStream, an async iterable and an iterable alike, and can be stopped early', async () => {
    const file = bytesOf('{"a":1}\n{"b":2}\n')
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks(file, 5)) c.enqueue(chunk)
        c.close()
      },
    })
    async function* asyncChunks() {
      yield* chunks(file, 4)
    }
    const a = await read(stream)
    const b = await read(asyncChunks())
    const c = await read([file])
    expect(a.lines).toEqual(b.lines)
    expect(b.lines).toEqual(c.lines)

    const reader = readJsonl(Bun.file(join(FIXTURES, 'spotter', 'subagent.jsonl')).stream())
    let seen = 0
    for await (const _ of reader) if (++seen === 3) break
    expect(seen).toBe(3)
    expect(reader.summary).toBeNull()
    expect(() => reader[Symbol.asyncIterator]()).toThrow('only be iterated once')
  })
})

describe('readJsonl: the fixtures', () => {
  const files = fixtureFiles()

  it('finds every fixture', () => {
    expect(files.map((f) => relative(FIXTURES, f))).toEqual([
      'ccusage/chat.jsonl',
      'claude-code-log/edge_cases.jsonl',
      'sniffly/fed8ce56-bc79-401f-a83e-af084253362f.jsonl',
      'sniffly/ff71dbed-a4f2-4284-a4fc-fe2fb90de929.jsonl',
      'spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl',
      'spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-aac57f5.jsonl',
      'spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-acompact-946d2b.jsonl',
      'spotter/short.jsonl',
      'spotter/subagent.jsonl',
      'spotter/tool_heavy.jsonl',
    ])
  })

  for (const file of files) {
    const name = relative(FIXTURES, file)

    it(`${name}: rebuilds the file byte for byte and counts what a plain split counts`, async () => {
      const bytes = new Uint8Array(readFileSync(file))
      // the independent reading: split the text on "\n" and parse each piece
      const pieces = Buffer.from(bytes).toString('utf8').split('\n')
      if (pieces.at(-1) === '') pieces.pop()
      let next = 0
      const expected = pieces.map((text, i): unknown[] => {
        const offset = next
        next += Buffer.byteLength(text) + 1
        if (!text.trim()) return [i + 1, offset, 'blank']
        try {
          const v = JSON.parse(text)
          return [i + 1, offset, typeof v === 'object' && v !== null && !Array.isArray(v) ? 'record' : 'not_object']
        } catch {
          return [i + 1, offset, 'invalid_json']
        }
      })

      const size = bytes.length > 100_000 ? 4093 : 7
      const { lines, summary } = await read(chunks(bytes, size))
      expect(lines.map((l): unknown[] => [l.line, l.offset, l.kind === 'error' ? l.error.reason : l.kind])).toEqual(
        expected,
      )
      expect(Buffer.concat(lines.map(rebuild))).toEqual(Buffer.from(bytes))
      expect(summary.endOffset).toBe(bytes.length)
      expect(summary.tail).toBeNull()

      // and the same through a file stream, in one pass
      const streamed = await read(Bun.file(file).stream())
      expect(streamed.lines).toEqual(lines)
    })
  }

  it('edge_cases.jsonl: three non-object lines, a line with no type, no final newline', async () => {
    const file = join(FIXTURES, 'claude-code-log', 'edge_cases.jsonl')
    const text = readFileSync(file, 'utf8')
    const lineStarts = [0]
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
      lineStarts.push(Buffer.byteLength(text.slice(0, i + 1)))
    const { lines, summary } = await read(Bun.file(file).stream())
    const errors = lines.flatMap((l) => (l.kind === 'error' ? [l.error] : []))
    expect(errors.map((e): unknown[] => [e.line, e.offset, e.reason])).toEqual([
      [13, lineStarts[12], 'not_object'],
      [15, lineStarts[14], 'not_object'],
      [16, lineStarts[15], 'not_object'],
    ])
    expect(text.endsWith('\n')).toBe(false)
    expect(lines.at(-1)).toMatchObject({ line: 19, kind: 'record', terminator: '' })
    expect(summary).toMatchObject({ records: 16, errors: 3, nextLine: 20 })
    const noType = lines.find((l) => l.line === 14)
    expect(noType?.kind === 'record' && normalizeRecord(noType.value)).toMatchObject({
      type: 'unknown',
      kind: 'unknown',
      role: null,
    })
  })

  it('the 2.7 MB session read in two imports, cut mid-line, equals one import', async () => {
    const file = join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl')
    const bytes = new Uint8Array(readFileSync(file))
    const whole = await read([bytes])
    const cut = Math.floor(bytes.length / 2)
    const first = await read(chunks(bytes.subarray(0, cut), 65536))
    expect(first.summary.tail).not.toBeNull()
    expect(first.summary.endOffset).toBeLessThan(cut)
    expect(bytes[first.summary.endOffset - 1]).toBe(0x0a)
    const { endOffset, nextLine } = first.summary
    const rest = Bun.file(file).slice(endOffset).stream()
    const second = await read(rest, { offset: endOffset, line: nextLine })
    expect([...first.lines, ...second.lines]).toEqual(whole.lines)
    expect(second.summary.endOffset).toBe(bytes.length)
  })
})

/** The fixture's lines parsed plainly (split on "\n", JSON.parse), objects only. */
function plainObjects(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text) => {
      try {
        const v = JSON.parse(text)
        return typeof v === 'object' && v !== null && !Array.isArray(v) ? [v] : []
      } catch {
        return []
      }
    })
}

describe('normalizeRecord', () => {
  const fixture = (...p: string[]) => plainObjects(join(FIXTURES, ...p))

  it('maps every fixture line without throwing, keeping its type and ids', () => {
    for (const file of fixtureFiles()) {
      for (const line of plainObjects(file)) {
        const r = normalizeRecord(line)
        expect(r.type).toBe(typeof line.type === 'string' ? line.type : 'unknown')
        expect(r.uuid).toBe(typeof line.uuid === 'string' ? line.uuid : null)
        expect(r.sessionId).toBe(typeof line.sessionId === 'string' ? line.sessionId : null)
      }
    }
  })

  it('finds every tool_use and tool_result block a plain scan finds, with is_error', () => {
    for (const file of fixtureFiles()) {
      const lines = plainObjects(file)
      const blocks = lines.flatMap((l) => {
        const content = (l.message as { content?: unknown } | undefined)?.content
        return Array.isArray(content) ? (content as { type?: string; is_error?: boolean; id?: string }[]) : []
      })
      const records = lines.map((l) => normalizeRecord(l))
      const uses = records.flatMap((r) => r.toolUses)
      const results = records.flatMap((r) => r.toolResults)
      expect(uses.map((u) => u.id)).toEqual(blocks.filter((b) => b.type === 'tool_use').map((b) => b.id as string))
      expect(results.length).toBe(blocks.filter((b) => b.type === 'tool_result').length)
      expect(results.filter((r) => r.isError).length).toBe(
        blocks.filter((b) => b.type === 'tool_result' && b.is_error === true).length,
      )
    }
  })

  it('reads a split assistant response line: ids, model, usage with the 1-hour cache share', () => {
    const lines = fixture('spotter', 'short.jsonl')
    type Assistant = {
      uuid: string
      parentUuid: string
      requestId: string
      timestamp: string
      message: {
        id: string
        content: unknown
        usage: Record<string, number> & { cache_creation: Record<string, number> }
      }
    }
    const raw = lines.find((l) => l.type === 'assistant') as Record<string, unknown>
    const r = normalizeRecord(raw)
    const line = raw as Assistant
    const u = line.message.usage
    expect(r).toMatchObject({
      kind: 'assistant',
      role: 'assistant',
      uuid: line.uuid,
      parentUuid: line.parentUuid,
      messageId: line.message.id,
      requestId: line.requestId,
      model: 'claude-opus-4-6',
      cwd: '/home/marco/projects/spotter',
      gitBranch: 'master',
      version: '2.1.38',
      timestamp: Date.parse(line.timestamp),
      isSidechain: false,
      usage: {
        inputTokens: u.input_tokens,
        outputTokens: u.output_tokens,
        cacheCreationTokens: u.cache_creation_input_tokens,
        cacheReadTokens: u.cache_read_input_tokens,
        cacheCreation1hTokens: u.cache_creation.ephemeral_1h_input_tokens,
      },
    })
    expect(r.content).toBe(line.message.content)
  })

  it('reads tool results, interruptions as errors, with a bounded excerpt', () => {
    const lines = fixture('spotter', 'short.jsonl')
    const rejected = lines
      .map((l) => normalizeRecord(l))
      .flatMap((r) => r.toolResults)
      .filter((t) => t.isError)
    expect(rejected.map((t) => t.toolUseId)).toEqual([
      'toolu_0116Hyi5v8ut7Ffb7d8qV1Sc',
      'toolu_01FdQ8qTyVyZjE3Kw4dguQGx',
    ])
    expect(rejected[0]?.excerpt).toStartWith("The user doesn't want to proceed with this tool use.")
    const short = normalizeRecord(
      { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 't1', content: 'x'.repeat(50) }] } },
      { excerptChars: 10 },
    )
    expect(short.toolResults).toEqual([{ toolUseId: 't1', excerpt: 'x'.repeat(10), isError: false }])
  })

  it('reads compaction: the boundary with its logical parent, then the summary', () => {
    const lines = fixture('spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl').map((l) => normalizeRecord(l))
    const boundary = lines.find((r) => r.subtype === 'compact_boundary')
    expect(boundary).toMatchObject({
      kind: 'system',
      role: 'system',
      parentUuid: null,
      logicalParentUuid: '23b73f9a-2123-4b8e-81a2-b98378c7498f',
      content: 'Conversation compacted',
      text: 'Conversation compacted',
    })
    const summary = lines.filter((r) => r.isCompactSummary)
    expect(summary).toHaveLength(1)
    expect(summary[0]?.parentUuid).toBe(boundary?.uuid as string)
  })

  it('gives progress, snapshot and queue lines no role, no usage, and the progress kind as subtype', () => {
    const lines = fixture('spotter', 'subagent.jsonl')
    const agentProgress = lines.filter(
      (l) => l.type === 'progress' && (l.data as { type?: string }).type === 'agent_progress',
    )
    expect(agentProgress.length).toBeGreaterThan(0)
    for (const l of agentProgress)
      expect(normalizeRecord(l)).toMatchObject({ role: null, usage: null, subtype: 'agent_progress', text: '' })
    const queue = fixture('spotter', 'tool_heavy.jsonl').filter((l) => l.type === 'queue-operation')
    expect(queue.map((l) => normalizeRecord(l)).map((r) => [r.kind, r.role, r.uuid])).toEqual([
      ['queue-operation', null, null],
      ['queue-operation', null, null],
    ])
  })

  it('reads titles: summary with leafUuid, ai-title, custom-title', () => {
    const [summary] = fixture('sniffly', 'ff71dbed-a4f2-4284-a4fc-fe2fb90de929.jsonl')
    expect(normalizeRecord(summary as Record<string, unknown>)).toMatchObject({
      kind: 'summary',
      role: null,
      uuid: null,
      title: {
        kind: 'summary',
        title: 'AI Music Generation from Word Embeddings',
        leafUuid: '4c7d4d5a-7dd4-428c-bd81-077617558182',
      },
    })
    expect(normalizeRecord({ type: 'ai-title', aiTitle: 'Fix the parser', sessionId: 's' }).title).toEqual({
      kind: 'ai-title',
      title: 'Fix the parser',
      leafUuid: null,
    })
    expect(normalizeRecord({ type: 'custom-title', customTitle: 'Mine' }).title?.title).toBe('Mine')
    expect(normalizeRecord({ type: 'custom-title' }).title).toBeNull()
  })

  it('survives the hand-made edge cases: no type, misspelt keys, a string message', () => {
    const lines = fixture('claude-code-log', 'edge_cases.jsonl')
    const misspelt = normalizeRecord(
      lines.find((l) => (l.message as { contenst?: unknown } | undefined)?.contenst) as Record<string, unknown>,
    )
    expect(misspelt).toMatchObject({ kind: 'user', role: 'user', content: null, text: '', uuid: 'edge_010' })
    const noTimestamp = normalizeRecord(lines.find((l) => 'timesstamp' in l) as Record<string, unknown>)
    expect(noTimestamp).toMatchObject({ timestamp: null, content: null, role: 'user', uuid: 'edge_011' })
    const untyped = normalizeRecord(lines.find((l) => l.type === undefined) as Record<string, unknown>)
    expect(untyped).toMatchObject({ type: 'unknown', kind: 'unknown', role: null, uuid: null, content: null })
    const unicode = normalizeRecord(lines.find((l) => JSON.stringify(l).includes('café')) as Record<string, unknown>)
    expect(unicode.text).toContain('中文, العربية, русский, 🎉')
  })

  it('never throws on odd values, and keeps unknown line types', () => {
    const odd = [
      {},
      { type: 42, message: [], uuid: {}, timestamp: 'not a date', isSidechain: 'yes' },
      { type: 'assistant', message: { content: 'plain', usage: { input_tokens: -5, output_tokens: 'x' } } },
      { type: 'user', message: { content: [null, 1, 'a', { type: 'tool_use' }, { type: 'tool_result' }] } },
      { type: 'progress', data: 'nope' },
      { type: 'mode', mode: 'plan', sessionId: 's' },
      { type: 'attachment', attachment: { type: 'file' }, uuid: 'u' },
    ]
    const rs = odd.map((l) => normalizeRecord(l))
    expect(rs.map((r) => r.type)).toEqual(['unknown', 'unknown', 'assistant', 'user', 'progress', 'mode', 'attachment'])
    expect(rs.map((r) => r.kind)).toEqual([
      'unknown',
      'unknown',
      'assistant',
      'user',
      'progress',
      'unknown',
      'attachment',
    ])
    expect(rs[1]).toMatchObject({ uuid: null, timestamp: null, isSidechain: false, content: null })
    expect(rs[2]?.usage).toEqual({ inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 })
    expect(rs[2]?.text).toBe('plain')
    expect(rs[3]).toMatchObject({ toolUses: [], toolResults: [] })
    // numbers made whole, and no time before 1970
    const fractional = normalizeRecord({
      type: 'assistant',
      timestamp: 1_767_225_600_000.6,
      message: { usage: { input_tokens: 10.4, output_tokens: 2.5, cache_read_input_tokens: 0.2 } },
    })
    expect([fractional.timestamp, fractional.usage]).toEqual([
      1_767_225_600_001,
      { inputTokens: 10, outputTokens: 3, cacheCreationTokens: 0, cacheReadTokens: 0 },
    ])
    expect(normalizeRecord({ type: 'user', timestamp: '1969-12-31T23:00:00Z' }).timestamp).toBeNull()
  })

  it('treats a typeless line with an assistant message as an assistant message (old usage-only lines)', () => {
    const [line] = fixture('ccusage', 'chat.jsonl')
    expect(normalizeRecord(line as Record<string, unknown>)).toMatchObject({
      type: 'unknown',
      role: 'assistant',
      messageId: 'msg-alpha-1',
      requestId: 'req-alpha-1',
      costUsd: 0.12,
      usage: { inputTokens: 100, outputTokens: 50, cacheCreationTokens: 25, cacheReadTokens: 10 },
    })
  })
})
