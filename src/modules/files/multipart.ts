/**
 * A streaming multipart/form-data reader (RFC 7578 over RFC 2046): parts come out one at a time, each body as the
 * chunks that arrive, so an upload of any size goes through a small, bounded buffer.
 */

export class MultipartError extends Error {}

export type MultipartLimits = {
  /** bytes of one part's header block */
  maxHeaderBytes: number
  /** bytes before the first boundary (clients send none; RFC 2046 allows a preamble) */
  maxPreambleBytes: number
}

const DEFAULT_LIMITS: MultipartLimits = { maxHeaderBytes: 16 * 1024, maxPreambleBytes: 16 * 1024 }

export type MultipartPart = {
  /** header names in lower case */
  headers: Record<string, string>
  /** the `name` of the Content-Disposition header */
  name: string | undefined
  /** the `filename` of the Content-Disposition header, as sent (present, perhaps empty, for a file part) */
  filename: string | undefined
  /** the part's bytes as they arrive; read it (or leave it) before asking for the next part */
  body: AsyncIterable<Uint8Array>
}

const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')
const EMPTY = Buffer.alloc(0)
// RFC 2046: 1 to 70 characters, from a restricted set, not ending with a space
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/

/** The boundary of a `multipart/form-data` Content-Type, or undefined when it is not one or names none. */
export function boundaryOf(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined
  const [type, ...params] = contentType.split(';')
  if (type?.trim().toLowerCase() !== 'multipart/form-data') return undefined
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue
    let value = param.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    return BOUNDARY.test(value) ? value : undefined
  }
  return undefined
}

/** Parameters of a Content-Disposition value (`form-data; name="file"; filename="a.jsonl"`), names in lower case. */
export function dispositionParams(value: string): Record<string, string> {
  const params: Record<string, string> = {}
  // browsers percent-encode `"` in quoted values rather than escaping it, so a quoted value ends at the next quote
  const param = /;\s*([^\s=;]+)\s*=\s*(?:"([^"]*)"|([^;]*))/g
  for (let m = param.exec(value); m; m = param.exec(value)) {
    const key = (m[1] as string).toLowerCase()
    if (!(key in params)) params[key] = m[2] ?? (m[3] as string).trim()
  }
  return params
}

function parseHeaders(block: Uint8Array) {
  const headers: Record<string, string> = {}
  for (const line of new TextDecoder().decode(block).split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) {
      if (line.trim() !== '') throw new MultipartError('a part header line has no name')
      continue
    }
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return headers
}

/**
 * Reads a multipart body. Each part's body must be consumed, or left, before the next part is asked for: what is
 * left is skipped. Reading stops at the closing boundary (the epilogue is never read), and the stream is cancelled
 * whenever the caller stops early, so an abandoned upload is not read further. Throws MultipartError on a malformed
 * or truncated body.
 */
export async function* parseMultipart(
  stream: ReadableStream<Uint8Array> | null,
  boundary: string,
  limits: Partial<MultipartLimits> = {},
): AsyncGenerator<MultipartPart> {
  const { maxHeaderBytes, maxPreambleBytes } = { ...DEFAULT_LIMITS, ...limits }
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  const reader = stream?.getReader()
  // the first delimiter may open the body without the CRLF that precedes the others
  let buf: Buffer = Buffer.from(CRLF)
  let ended = !reader
  /** whether the current part's closing delimiter has been consumed */
  let partDone = true

  /** Appends the next chunk; false once the stream has ended. */
  const more = async () => {
    if (ended || !reader) return false
    let next: Awaited<ReturnType<typeof reader.read>>
    try {
      next = await reader.read()
    } catch {
      ended = true
      throw new MultipartError('the request body could not be read to its end')
    }
    if (next.done) {
      ended = true
      return false
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    return true
  }
  const need = async (n: number, what: string) => {
    while (buf.length < n) if (!(await more())) throw new MultipartError(`the body ended ${what}`)
  }

  /** The current part's bytes up to the next delimiter, which is consumed too. */
  async function* partBody(): AsyncGenerator<Uint8Array> {
    while (true) {
      const at = buf.indexOf(delimiter)
      if (at !== -1) {
        const last = buf.subarray(0, at)
        buf = buf.subarray(at + delimiter.length)
        partDone = true
        if (last.length > 0) yield last
        return
      }
      // keep what could be the start of a delimiter split across chunks
      const keep = Math.min(buf.length, delimiter.length - 1)
      const ready = buf.subarray(0, buf.length - keep)
      buf = buf.subarray(buf.length - keep)
      if (ready.length > 0) yield ready
      if (!(await more())) throw new MultipartError('the body ended inside a part (no closing boundary)')
    }
  }

  try {
    let preamble = 0
    while (true) {
      const at = buf.indexOf(delimiter)
      if (at !== -1) {
        buf = buf.subarray(at + delimiter.length)
        break
      }
      const keep = Math.min(buf.length, delimiter.length - 1)
      preamble += buf.length - keep
      buf = buf.subarray(buf.length - keep)
      if (preamble > maxPreambleBytes) throw new MultipartError('no opening boundary at the start of the body')
      if (!(await more())) throw new MultipartError('the body has no opening boundary')
    }

    while (true) {
      // after a delimiter: `--` closes the body; otherwise optional padding, then CRLF and the part's headers
      await need(2, 'after a boundary')
      if (buf[0] === 0x2d && buf[1] === 0x2d) return
      let lineEnd = buf.indexOf(CRLF)
      while (lineEnd === -1 && buf.length <= maxHeaderBytes && (await more())) lineEnd = buf.indexOf(CRLF)
      if (lineEnd === -1) throw new MultipartError('the body ended after a boundary')
      if (buf.subarray(0, lineEnd).some((b) => b !== 0x20 && b !== 0x09))
        throw new MultipartError('a boundary line has text after the boundary')
      let headerEnd = buf.indexOf(HEADER_END, lineEnd)
      while (headerEnd === -1) {
        if (buf.length - lineEnd > maxHeaderBytes)
          throw new MultipartError(`a part's headers are longer than ${maxHeaderBytes} bytes`)
        if (!(await more())) throw new MultipartError("the body ended inside a part's headers")
        headerEnd = buf.indexOf(HEADER_END, lineEnd)
      }
      if (headerEnd - lineEnd > maxHeaderBytes)
        throw new MultipartError(`a part's headers are longer than ${maxHeaderBytes} bytes`)
      const headers = parseHeaders(headerEnd > lineEnd ? buf.subarray(lineEnd + 2, headerEnd) : EMPTY)
      buf = buf.subarray(headerEnd + HEADER_END.length)

      const disposition = headers['content-disposition']
      const params = disposition ? dispositionParams(disposition) : {}
      partDone = false
      yield { headers, name: params.name, filename: params.filename, body: partBody() }
      // whatever the caller left of this part is skipped
      if (!partDone) for await (const skipped of partBody()) void skipped
    }
  } finally {
    // stop reading: nothing after the closing boundary, nor the rest of an abandoned body, is wanted
    if (reader && !ended) await reader.cancel().catch(() => undefined)
    reader?.releaseLock()
  }
}
