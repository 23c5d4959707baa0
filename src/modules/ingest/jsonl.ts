/**
 * Streaming JSONL reader for Claude Code transcripts. It works on bytes (searching chunks for "\n"), decodes one line
 * at a time, holds at most one line in memory (a line over the size limit is skipped without being buffered), and
 * never fails the file for a bad line: each one is reported with its line number and byte offset.
 *
 * Every line comes back with its exact text and terminator, so `(bom ? '\uFEFF' : '') + text + terminator` over the
 * yielded lines rebuilds the source byte for byte (except lines too long to keep, and invalid UTF-8, given as bytes).
 */

/** Default for the longest line accepted (MAX_LINE_MB): a line with pasted images can be several megabytes. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024

export type LineTerminator = '\n' | '\r\n' | ''

export type JsonlErrorReason = 'invalid_json' | 'not_object' | 'invalid_utf8' | 'line_too_long'

/** A line that could not be read as a JSON object. `offset` is the byte offset of the line's first byte. */
export type JsonlError = { line: number; offset: number; reason: JsonlErrorReason; message: string }

type LineInfo = {
  /** 1-based line number */
  line: number
  /** byte offset of the line's first byte in the file (of its BOM, when it has one) */
  offset: number
  /** bytes of the line, BOM included, terminator excluded */
  length: number
  terminator: LineTerminator
  /** the line starts with a UTF-8 byte order mark (only possible at offset 0); `text` does not include it */
  bom: boolean
  /**
   * With `keepRaw`: the line's exact bytes, BOM and terminator included (a copy, safe to keep); null for a line too
   * long to keep. Absent without the option.
   */
  raw?: Uint8Array | null
}

export type JsonlRecordLine = LineInfo & { kind: 'record'; text: string; value: Record<string, unknown> }
/** An empty or whitespace-only line: skipped by importers, yielded so the file can be rebuilt exactly. */
export type JsonlBlankLine = LineInfo & { kind: 'blank'; text: string }
export type JsonlBadLine = LineInfo & {
  kind: 'error'
  error: JsonlError
  /** the line's text; null for invalid UTF-8 (see `bytes`) and for a line too long to keep */
  text: string | null
  /** the raw bytes of an invalid UTF-8 line; null otherwise */
  bytes: Uint8Array | null
}
export type JsonlLine = JsonlRecordLine | JsonlBlankLine | JsonlBadLine

export type JsonlSummary = {
  /** where complete data ends: the byte offset the next (incremental) import starts from */
  endOffset: number
  /** the line number of the line that starts at `endOffset` */
  nextLine: number
  /** bytes read from the source, the unfinished tail included */
  bytesRead: number
  records: number
  blanks: number
  errors: number
  /**
   * An unterminated last line that does not parse: the writer is most likely still writing it. It is not an error and
   * is not yielded; `endOffset` stops before it so the next import reads it again, complete.
   */
  tail: { line: number; offset: number; length: number; reason: JsonlErrorReason } | null
}

export type JsonlOptions = {
  /** absolute byte offset in the file of the source's first byte (default 0); a BOM is only recognised at 0 */
  offset?: number
  /** line number of the source's first line (default 1) */
  line?: number
  /** longest line accepted, in bytes without its terminator (default DEFAULT_MAX_LINE_BYTES) */
  maxLineBytes?: number
  /** also yield each line's exact bytes as `raw`, so a caller storing them need not encode the text again */
  keepRaw?: boolean
  /**
   * the source will not grow (a one-off upload): an unterminated last line that does not parse is a bad line, since
   * no later import could complete it, not a tail left for the next import
   */
  complete?: boolean
}

export type JsonlSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/** The lines of a source, read once; `summary` is set when the iteration has run to the end. */
export type JsonlReader = AsyncIterable<JsonlLine> & { readonly summary: JsonlSummary | null }

const LF = 0x0a
const CR = 0x0d

const isBlank = (bytes: Uint8Array, from: number) => {
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false
  }
  return true
}

/** A copy of the bytes (a Buffer's `slice` would share them). */
const copy = (bytes: Uint8Array) => new Uint8Array(bytes)

const hasBom = (bytes: Uint8Array) => bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

async function* chunksOf(source: JsonlSource): AsyncGenerator<Uint8Array> {
  if ('getReader' in source) {
    const reader = source.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        if (value.length) yield value
      }
    } finally {
      await reader.cancel().catch(() => {})
      reader.releaseLock()
    }
  } else {
    for await (const chunk of source) if (chunk.length) yield chunk
  }
}

const describe = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`)

/**
 * Reads JSONL from a byte stream without holding the whole file in memory. Start mid-file for an incremental import
 * by passing a source that begins at `offset` (e.g. `Bun.file(path).slice(offset).stream()`) and the line number
 * found there (`summary.endOffset` and `summary.nextLine` of the previous import).
 */
export function readJsonl(source: JsonlSource, options: JsonlOptions = {}): JsonlReader {
  let summary: JsonlSummary | null = null
  let started = false
  return {
    get summary() {
      return summary
    },
    [Symbol.asyncIterator]() {
      if (started) throw new Error('readJsonl: a reader can only be iterated once')
      started = true
      return lines(source, options, (s) => {
        summary = s
      })
    },
  }
}

async function* lines(
  source: JsonlSource,
  options: JsonlOptions,
  done: (summary: JsonlSummary) => void,
): AsyncGenerator<JsonlLine> {
  const start = options.offset ?? 0
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  const keepRaw = options.keepRaw === true
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  let lineNo = options.line ?? 1
  let lineStart = start
  let chunkStart = start
  let records = 0
  let blanks = 0
  let errors = 0

  // The line being assembled across chunks, or, once over the limit, only its length and last byte.
  let pending: Uint8Array[] = []
  let pendingLength = 0
  let skipping = false
  let skippedLength = 0
  let lastByte = -1

  const bad = (
    info: LineInfo,
    reason: JsonlErrorReason,
    message: string,
    text: string | null,
    bytes: Uint8Array | null,
  ): JsonlBadLine => ({
    kind: 'error',
    ...info,
    error: { line: info.line, offset: info.offset, reason, message },
    text,
    bytes,
  })

  const tooLong = (info: LineInfo) => {
    if (keepRaw) info.raw = null
    return bad(info, 'line_too_long', `the line is ${info.length} bytes, over the ${limit}-byte limit`, null, null)
  }

  /** Classifies one complete line; `full` is its bytes with the terminator, `bytes` without it. */
  const classify = (full: Uint8Array, bytes: Uint8Array, terminator: LineTerminator, fresh: boolean): JsonlLine => {
    const bom = lineStart === 0 && hasBom(bytes)
    const info: LineInfo = { line: lineNo, offset: lineStart, length: bytes.length, terminator, bom }
    if (bytes.length > limit) return tooLong(info)
    if (keepRaw) info.raw = fresh ? full : copy(full)
    const from = bom ? 3 : 0
    if (isBlank(bytes, from)) {
      const text = from === bytes.length ? '' : decoder.decode(bytes.subarray(from))
      return { kind: 'blank', ...info, text }
    }
    let text: string
    try {
      text = decoder.decode(bytes.subarray(from))
    } catch {
      return bad(info, 'invalid_utf8', 'the line is not valid UTF-8', null, copy(bytes))
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (e) {
      return bad(info, 'invalid_json', (e as Error).message, text, null)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return bad(info, 'not_object', `the line holds ${describe(value)}, not a JSON object`, text, null)
    return { kind: 'record', ...info, text, value: value as Record<string, unknown> }
  }

  const count = (line: JsonlLine) => {
    if (line.kind === 'record') records++
    else if (line.kind === 'blank') blanks++
    else errors++
    return line
  }

  for await (const chunk of chunksOf(source)) {
    let from = 0
    while (from < chunk.length) {
      const nl = chunk.indexOf(LF, from)
      const end = nl === -1 ? chunk.length : nl
      const size = end - from
      if (skipping) {
        skippedLength += size
        if (size) lastByte = chunk[end - 1] as number
      } else if (pendingLength + size > limit + 1) {
        // +1: the line may still turn out to end in "\r", which is its terminator, not its content
        skipping = true
        skippedLength = pendingLength + size
        lastByte = chunk[end - 1] as number // size > 0 here: the pending part alone was within the limit
        pending = []
        pendingLength = 0
      } else if (nl === -1) {
        pending.push(copy(chunk.subarray(from, end)))
        pendingLength += size
      }
      if (nl === -1) break

      const next = chunkStart + nl + 1
      if (skipping) {
        const cr = lastByte === CR
        const length = skippedLength - (cr ? 1 : 0)
        const terminator = cr ? '\r\n' : '\n'
        // skipping began past limit + 1 bytes, so even without its "\r" the line is over the limit
        const info: LineInfo = { line: lineNo, offset: lineStart, length, terminator, bom: false }
        yield count(tooLong(info))
        skipping = false
        skippedLength = 0
      } else {
        const fresh = pendingLength > 0
        const full = fresh
          ? concat([...pending, chunk.subarray(from, nl + 1)], pendingLength + size + 1)
          : chunk.subarray(from, nl + 1)
        pending = []
        pendingLength = 0
        const cr = full.length > 1 && full[full.length - 2] === CR
        yield count(classify(full, full.subarray(0, full.length - (cr ? 2 : 1)), cr ? '\r\n' : '\n', fresh))
      }
      lineNo++
      lineStart = next
      from = nl + 1
    }
    chunkStart += chunk.length
  }

  // An unterminated last line: a normal line when it reads, else a truncated tail left for the next import (of a
  // complete source, a bad line).
  let tail: JsonlSummary['tail'] = null
  if (skipping && !options.complete) {
    tail = { line: lineNo, offset: lineStart, length: skippedLength, reason: 'line_too_long' }
  } else if (skipping) {
    yield count(tooLong({ line: lineNo, offset: lineStart, length: skippedLength, terminator: '', bom: false }))
    lineNo++
    lineStart = chunkStart
  } else if (pendingLength) {
    const last = concat(pending, pendingLength)
    const line = classify(last, last, '', true) // the pending parts are copies
    if (line.kind === 'error' && line.error.reason !== 'not_object' && !options.complete) {
      tail = { line: lineNo, offset: lineStart, length: line.length, reason: line.error.reason }
    } else {
      yield count(line)
      lineNo++
      lineStart = chunkStart
    }
  }
  done({ endOffset: lineStart, nextLine: lineNo, bytesRead: chunkStart - start, records, blanks, errors, tail })
}
