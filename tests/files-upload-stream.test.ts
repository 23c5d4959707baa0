import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { createClient } from '../src/client'
import { boundaryOf, dispositionParams, MultipartError, parseMultipart } from '../src/modules/files/multipart'
import { createJsonlSniffer } from '../src/modules/ingest/sniff'
import { countRows, errorOf, makeApp } from './helpers'
import { type ServerProcess, startServer } from './server-process'

const enc = new TextEncoder()

type FormPart = { name: string; filename?: string; content: Uint8Array | string; type?: string }

/** A multipart/form-data body written out by hand, so tests control every byte (and the boundary). */
function multipart(boundary: string, parts: FormPart[], { preamble = '', epilogue = '' } = {}) {
  const out: Uint8Array[] = [enc.encode(preamble ? `${preamble}\r\n` : '')]
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`
    if (p.filename !== undefined) head += `; filename="${p.filename}"`
    head += `\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`
    out.push(enc.encode(head), typeof p.content === 'string' ? enc.encode(p.content) : p.content, enc.encode('\r\n'))
  }
  out.push(enc.encode(`--${boundary}--\r\n${epilogue}`))
  return Buffer.concat(out)
}

/**
 * A body that hands out `bytes` in chunks of the given sizes (cycled), only when read (pausing `sleepMs` every
 * `sleepEvery` chunks), and records how much was read and whether the reader cancelled.
 */
function streamOf(bytes: Uint8Array, sizes: number | number[], { sleepMs = 0, sleepEvery = 1 } = {}) {
  const state = { pulled: 0, cancelled: false }
  const cycle = typeof sizes === 'number' ? [sizes] : sizes
  let offset = 0
  let i = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (offset >= bytes.length) return controller.close()
        const size = cycle[i++ % cycle.length] as number
        const chunk = bytes.slice(offset, offset + size)
        offset += chunk.length
        state.pulled += chunk.length
        if (sleepMs && i % sleepEvery === 0) await Bun.sleep(sleepMs)
        controller.enqueue(chunk)
      },
      cancel() {
        state.cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, state }
}

/** Every part with its whole content, read through the streaming parser. */
async function collect(stream: ReadableStream<Uint8Array>, boundary: string) {
  const parts: { name?: string; filename?: string; headers: Record<string, string>; content: Buffer }[] = []
  for await (const part of parseMultipart(stream, boundary)) {
    const chunks: Uint8Array[] = []
    for await (const chunk of part.body) chunks.push(chunk)
    parts.push({ name: part.name, filename: part.filename, headers: part.headers, content: Buffer.concat(chunks) })
  }
  return parts
}

/** Bytes that look like a transcript at first and then hold CRLFs, dashes and near-miss boundaries. */
function awkwardTranscript(boundary: string, extraBytes: number) {
  const noise = Buffer.alloc(extraBytes)
  let seed = 7
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    noise[i] = seed >> 16
  }
  const file = Buffer.concat([
    enc.encode(`{"type":"user","text":"héllo 🦀"}\r\n--${boundary.slice(0, -1)}\r\n\r\n--\r\n`),
    noise,
    enc.encode(`\n{"type":"user","text":"last"}\n`),
  ])
  expect(file.includes(`\r\n--${boundary}`)).toBe(false)
  return file
}

const B = 'obsBoundary7Kq'
const headers = (token?: string) => ({
  'content-type': `multipart/form-data; boundary=${B}`,
  ...(token && { authorization: `Bearer ${token}` }),
})

describe('parseMultipart', () => {
  it('reads what a FormData serialises: names, file names, exact bytes', async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256)
    const form = new FormData()
    form.append('file', new File([bytes], 'a b.jsonl'))
    form.append('source_key', 'projects/x.jsonl')
    const request = new Request('http://x/', { method: 'POST', body: form })
    const boundary = boundaryOf(request.headers.get('content-type'))
    expect(boundary).toBeString()
    const parts = await collect(request.body as ReadableStream<Uint8Array>, boundary as string)
    expect(parts.map((p) => [p.name, p.filename])).toEqual([
      ['file', 'a b.jsonl'],
      ['source_key', undefined],
    ])
    expect(parts[0]?.content.equals(bytes)).toBe(true)
    expect(parts[1]?.content.toString()).toBe('projects/x.jsonl')
  })

  it('finds every boundary however the body is cut into chunks', async () => {
    const boundary = 'b-1'
    const body = multipart(boundary, [
      { name: 'file', filename: 'f.jsonl', content: '{"a":1}\r\n--b-\r\n--b\r\n-' },
      { name: 'empty', content: '' },
      { name: 'source_key', content: 'k' },
    ])
    const expected = await collect(streamOf(body, body.length).stream, boundary)
    expect(expected.map((p) => p.content.toString())).toEqual(['{"a":1}\r\n--b-\r\n--b\r\n-', '', 'k'])
    // every place a single cut can fall, delimiters and headers included
    for (let cut = 1; cut < body.length; cut++) {
      const got = await collect(streamOf(body, [cut, body.length]).stream, boundary)
      expect({ cut, parts: got }).toEqual({ cut, parts: expected })
    }
    expect(await collect(streamOf(body, 1).stream, boundary)).toEqual(expected)
  })

  it('gives back any parts and bytes under any chunking (property)', async () => {
    const boundaryChar = fc.constantFrom(...'aZ09-_.=+'.split(''))
    const piece = (boundary: string) =>
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom('\r\n', '--', '\r\n--', '\r', '\n').map((s) => enc.encode(s)),
        fc.nat({ max: boundary.length }).map((n) => enc.encode(`\r\n--${boundary.slice(0, n)}`)),
      )
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: boundaryChar, minLength: 1, maxLength: 70 }).chain((boundary) =>
          fc.tuple(
            fc.constant(boundary),
            fc.array(
              fc.record({
                name: fc.string({ unit: fc.constantFrom(...'abc_xyz'.split('')), minLength: 1, maxLength: 8 }),
                content: fc.array(piece(boundary), { maxLength: 8 }).map((ps) => Buffer.concat(ps)),
              }),
              { minLength: 1, maxLength: 4 },
            ),
            fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
          ),
        ),
        async ([boundary, parts, sizes]) => {
          fc.pre(parts.every((p) => !p.content.includes(`\r\n--${boundary}`)))
          const body = multipart(boundary, parts)
          const got = await collect(streamOf(body, sizes).stream, boundary)
          expect(got.map((p) => [p.name, p.content.toString('hex')])).toEqual(
            parts.map((p) => [p.name, p.content.toString('hex')]),
          )
        },
      ),
      { numRuns: 300 },
    )
  })

  it("hands out a part's bytes before the rest of the body has arrived", async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c
      },
    })
    controller.enqueue(enc.encode(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n`))
    controller.enqueue(new Uint8Array(100_000).fill(0x61))
    const parts = parseMultipart(stream, B)
    const part = (await parts.next()).value
    const body = part?.body[Symbol.asyncIterator]()
    const first = await body?.next()
    // most of the 100 kB is out although the part (and the body) has not ended yet
    expect(first?.value?.length).toBeGreaterThan(90_000)
    controller.enqueue(enc.encode(`bcd\r\n--${B}--\r\n`))
    controller.close()
    const rest: Uint8Array[] = []
    for (let r = await body?.next(); r && !r.done; r = await body?.next()) rest.push(r.value)
    expect(Buffer.concat(rest).toString().endsWith('abcd')).toBe(true)
    expect((await parts.next()).done).toBe(true)
  })

  it('skips a preamble and a part left unread, and never reads the epilogue', async () => {
    const body = multipart(
      B,
      [
        { name: 'skipped', content: 'x'.repeat(5000) },
        { name: 'kept', content: 'yes' },
      ],
      { preamble: 'This is a preamble.' },
    )
    const { stream, state } = streamOf(Buffer.concat([body, Buffer.alloc(1_000_000)]), 1000)
    const seen: [string | undefined, string][] = []
    for await (const part of parseMultipart(stream, B)) {
      if (part.name === 'skipped') continue
      const chunks: Uint8Array[] = []
      for await (const c of part.body) chunks.push(c)
      seen.push([part.name, Buffer.concat(chunks).toString()])
    }
    expect(seen).toEqual([['kept', 'yes']])
    expect(state.pulled).toBeLessThan(body.length + 2000)
    expect(state.cancelled).toBe(true)
  })

  it('refuses malformed and truncated bodies with a MultipartError', async () => {
    const good = multipart(B, [{ name: 'file', filename: 'f', content: '{}' }])
    const bad: [string, Uint8Array][] = [
      ['no opening boundary', enc.encode('hello')],
      ['preamble without end', Buffer.alloc(100_000, 0x20)],
      ['truncated inside a part', good.subarray(0, good.length - 12)],
      ['truncated in headers', good.subarray(0, 30)],
      ['no closing boundary', good.subarray(0, good.indexOf(`\r\n--${B}--`))],
      ['text after a boundary', enc.encode(`--${B}x\r\n\r\n\r\n--${B}--`)],
      ['headers too long', enc.encode(`--${B}\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n\r\n--${B}--`)],
      ['header without name', enc.encode(`--${B}\r\n: x\r\n\r\nv\r\n--${B}--`)],
    ]
    for (const [what, body] of bad) {
      const error = await collect(streamOf(body, 4096).stream, B).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect({ what, error: error instanceof MultipartError }).toEqual({ what, error: true })
    }
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(good.subarray(0, 60))
      },
      pull(c) {
        c.error(new Error('connection reset'))
      },
    })
    expect(collect(failing, B)).rejects.toBeInstanceOf(MultipartError)
    expect(collect(null as unknown as ReadableStream<Uint8Array>, B)).rejects.toBeInstanceOf(MultipartError)
  })

  it('reads the boundary and Content-Disposition parameters', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc')
    expect(boundaryOf('Multipart/Form-Data; charset=utf-8; BOUNDARY="a b:c"')).toBe('a b:c')
    expect(boundaryOf('multipart/form-data')).toBeUndefined()
    expect(boundaryOf('multipart/mixed; boundary=abc')).toBeUndefined()
    expect(boundaryOf('application/json')).toBeUndefined()
    expect(boundaryOf(`multipart/form-data; boundary=${'x'.repeat(71)}`)).toBeUndefined()
    expect(boundaryOf('multipart/form-data; boundary=a\r\nb')).toBeUndefined()
    expect(boundaryOf(null)).toBeUndefined()
    expect(dispositionParams('form-data; name="file"; filename="../a;b=c.jsonl"')).toEqual({
      name: 'file',
      filename: '../a;b=c.jsonl',
    })
    expect(dispositionParams('form-data; NAME=plain; filename=""')).toEqual({ name: 'plain', filename: '' })
  })
})

describe('createJsonlSniffer', () => {
  const verdictOf = (chunks: (string | Uint8Array)[]) => {
    const sniffer = createJsonlSniffer()
    for (const c of chunks) sniffer.push(typeof c === 'string' ? enc.encode(c) : c)
    return sniffer.finish()
  }
  const bytewise = (s: string) => [...enc.encode(s)].map((b) => new Uint8Array([b]))

  it('takes a first non-blank line that is a JSON object, however it arrives', () => {
    expect(verdictOf(['{"a":1}\n'])).toBe(true)
    expect(verdictOf(bytewise('\uFEFF\n  \r\n\t{"a": [1, "é"]}\r\nnot json\n'))).toBe(true)
    expect(verdictOf(['{"a":1}'])).toBe(true) // no final newline
    // a first line longer than the head: its opening brace is all that can be checked
    expect(verdictOf([`{"pad":"${'x'.repeat(100_000)}`])).toBe(true)
  })

  it('refuses nothing at all, blank lines only, or a first line that is not a JSON object', () => {
    expect(verdictOf([])).toBe(false)
    for (const text of ['\n\n \n', 'a,b,c\n{"a":1}\n', '[{"a":1}]\n', '{"a":1\n{"b":2}\n', '"{}"\n', '{"a":1} x'])
      expect(verdictOf([text])).toBe(false)
  })

  it('decides as soon as it can, before the rest of the file arrives', () => {
    expect(createJsonlSniffer().push(enc.encode('i'))).toBe(false)
    const ok = createJsonlSniffer()
    for (const b of bytewise('{"a":1')) expect(ok.push(b)).toBeUndefined()
    expect(ok.push(enc.encode('}\nanything at all'))).toBe(true)
    expect(ok.push(enc.encode('not json'))).toBe(true) // decided: the rest is not looked at
    const broken = createJsonlSniffer()
    expect(broken.push(enc.encode('{"a":'))).toBeUndefined()
    expect(broken.push(enc.encode('\n'))).toBe(false)
  })
})

describe('POST /api/files streams the upload to disk', () => {
  it("stores exactly the uploaded bytes as DATA_DIR/uploads/<id>, whatever the client's file name", async () => {
    const { app, db, config, alice } = await makeApp()
    const content = awkwardTranscript(B, 300_000)
    const names = ['../../etc/passwd', '/etc/passwd', 'a/b\\c\u0000d\u0007.jsonl', '..', '']
    const ids: string[] = []
    for (const filename of names) {
      const { stream } = streamOf(multipart(B, [{ name: 'file', filename, content }]), 8192)
      const r = await app.handle(
        new Request('http://localhost/api/files', {
          method: 'POST',
          headers: headers(alice.token),
          body: stream,
          duplex: 'half',
        } as RequestInit),
      )
      expect(r.status).toBe(202)
      const file = (await r.json()) as { id: string; name: string; size: number }
      ids.push(file.id)
      expect(file.size).toBe(content.length)
      // the name is metadata: kept as sent, less control characters
      const printable = [...filename].filter((c) => c >= ' ').join('')
      expect(file.name).toBe(printable || 'upload.jsonl')
      const row = db.$client.query('SELECT stored_path AS p FROM files WHERE id = ?').get(file.id) as { p: string }
      expect(row.p).toBe(join(config.dataDir, 'uploads', file.id))
      expect(readFileSync(row.p).equals(content)).toBe(true)
    }
    // nothing written anywhere else, no temporary file left behind
    expect(readdirSync(config.dataDir)).toEqual(['uploads'])
    expect(readdirSync(join(config.dataDir, 'uploads')).sort()).toEqual([...ids].sort())
    expect(existsSync('/etc/passwd') && readFileSync('/etc/passwd').equals(content)).toBe(false)
  })

  it('removes uploads a crash cut off when it starts, and keeps the complete ones', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'observatory-parts-'))
    mkdirSync(join(dataDir, 'uploads'))
    writeFileSync(join(dataDir, 'uploads', 'cut-off.part'), '{"half":')
    writeFileSync(join(dataDir, 'uploads', 'complete'), '{"a":1}\n')
    await makeApp({ DATA_DIR: dataDir })
    expect(readdirSync(join(dataDir, 'uploads'))).toEqual(['complete'])
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('takes source_key before or after the file, and the Eden client as before', async () => {
    const { app, db, alice, api } = await makeApp()
    const content = '{"a":1}\n'
    const body = multipart(B, [
      { name: 'source_key', content: 'my/key' },
      { name: 'file', filename: 'x.jsonl', content, type: 'application/x-ndjson' },
    ])
    const r = await app.handle(
      new Request('http://localhost/api/files', { method: 'POST', headers: headers(alice.token), body }),
    )
    expect(r.status).toBe(202)
    const viaEden = await api.api.files.post({ file: new File([content], 'y.jsonl'), source_key: 'other' })
    expect(viaEden.status).toBe(202)
    expect(viaEden.data?.name).toBe('y.jsonl')
    const keys = db.$client.query('SELECT source_key AS k FROM files ORDER BY id').all() as { k: string }[]
    expect(keys.map((k) => k.k)).toEqual(['upload:my/key', 'upload:other'])
  })

  it('refuses an upload over MAX_UPLOAD_MB as it streams: 413, nothing stored, the rest never read', async () => {
    const { app, db, config, alice } = await makeApp({ MAX_UPLOAD_MB: String(64 / 1024) })
    const line = `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n`
    const body = multipart(B, [{ name: 'file', filename: 'big.jsonl', content: line.repeat(8000) }])
    const { stream, state } = streamOf(body, 16 * 1024)
    // no Content-Length: only counting the bytes as they come can catch this one
    const r = await app.handle(
      new Request('http://localhost/api/files', {
        method: 'POST',
        headers: headers(alice.token),
        body: stream,
        duplex: 'half',
      } as RequestInit),
    )
    expect(r.status).toBe(413)
    const error = await errorOf(r)
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.error).toContain(String(64 * 1024))
    expect(state.pulled).toBeLessThan(128 * 1024)
    expect(state.cancelled).toBe(true)
    expect(countRows(db, 'files')).toBe(0)
    expect(countRows(db, 'jobs')).toBe(0)
    expect(readdirSync(join(config.dataDir, 'uploads'))).toEqual([])
  })

  it('refuses a file that is not JSONL after reading its head only, and an empty one, saying why', async () => {
    const { app, db, config, alice } = await makeApp()
    const send = async (content: Uint8Array | string) => {
      const { stream, state } = streamOf(multipart(B, [{ name: 'file', filename: 'f', content }]), 16 * 1024)
      const r = await app.handle(
        new Request('http://localhost/api/files', {
          method: 'POST',
          headers: headers(alice.token),
          body: stream,
          duplex: 'half',
        } as RequestInit),
      )
      return { status: r.status, error: (await errorOf(r)).error, pulled: state.pulled }
    }
    const csv = await send('a,b,c\n'.repeat(1_000_000))
    expect(csv).toMatchObject({ status: 400, error: 'the file is not JSONL: its first line is not a JSON object' })
    expect(csv.pulled).toBeLessThan(64 * 1024)
    expect(await send('')).toMatchObject({ status: 400, error: 'the file is empty' })
    expect(await send('\n\n')).toMatchObject({ status: 400, error: expect.stringContaining('not JSONL') })
    expect(countRows(db, 'files')).toBe(0)
    expect(readdirSync(join(config.dataDir, 'uploads'))).toEqual([])
  })

  it('answers a missing file part, an unknown field, a broken body or another media type with a 4xx', async () => {
    const { app, db, config, alice } = await makeApp()
    const file = { name: 'file', filename: 'f.jsonl', content: '{"a":1}\n' }
    const post = async (body: Uint8Array | string, type = `multipart/form-data; boundary=${B}`) => {
      const r = await app.handle(
        new Request('http://localhost/api/files', {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${alice.token}` },
          body,
        }),
      )
      const error = await errorOf(r)
      return [r.status, error.code, error.error]
    }
    expect(await post(multipart(B, [{ name: 'source_key', content: 'k' }]))).toEqual([
      422,
      'VALIDATION',
      'invalid body file: Expected required property',
    ])
    expect(await post(multipart(B, [{ name: 'file', content: '{"a":1}\n' }]))).toEqual([
      422,
      'VALIDATION',
      "invalid body file: Expected kind 'File'",
    ])
    // the file came first and was written: it must go again
    expect(await post(multipart(B, [file, { name: 'role', content: 'admin' }]))).toEqual([
      422,
      'VALIDATION',
      'invalid body role: Unexpected property',
    ])
    expect(await post(multipart(B, [file, file]))).toEqual([
      422,
      'VALIDATION',
      'invalid body file: Expected one file, got several',
    ])
    expect(await post(multipart(B, [file, { name: 'source_key', content: 'k'.repeat(5000) }]))).toEqual([
      422,
      'VALIDATION',
      'invalid body source_key: Expected string length less or equal to 1024',
    ])
    const whole = multipart(B, [file])
    const truncated = await post(whole.subarray(0, whole.length - 10))
    expect(truncated.slice(0, 2)).toEqual([400, 'BAD_REQUEST'])
    expect(truncated[2]).toContain('no closing boundary')
    expect((await post('not multipart', 'multipart/form-data; boundary=x')).slice(0, 2)).toEqual([400, 'BAD_REQUEST'])
    expect((await post('{"file":"x"}', 'application/json')).slice(0, 2)).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    expect((await post(whole, 'multipart/form-data')).slice(0, 2)).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    expect(countRows(db, 'files')).toBe(0)
    expect(countRows(db, 'jobs')).toBe(0)
    expect(readdirSync(join(config.dataDir, 'uploads'))).toEqual([])
  })

  it('reads none of the body before the caller is authenticated', async () => {
    const { app, db, user, config } = await makeApp()
    const viewer = await user('vera', 'viewer')
    const body = multipart(B, [{ name: 'file', filename: 'f.jsonl', content: '{"a":1}\n' }])
    for (const [token, status] of [
      [undefined, 401],
      ['not-a-token', 401],
      [viewer.token, 403],
    ] as const) {
      const { stream, state } = streamOf(body, 64)
      const r = await app.handle(
        new Request('http://localhost/api/files', {
          method: 'POST',
          headers: headers(token),
          body: stream,
          duplex: 'half',
        } as RequestInit),
      )
      expect({ status: r.status, pulled: state.pulled }).toEqual({ status, pulled: 0 })
    }
    expect(countRows(db, 'files')).toBe(0)
    expect(existsSync(join(config.dataDir, 'uploads'))).toBe(false)
  })
})

describe('POST /api/files over a real socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'observatory-upload-'))
  const uploads = join(dir, 'data', 'uploads')
  const stored = () => (existsSync(uploads) ? readdirSync(uploads).sort() : [])
  const LIMIT = 256 * 1024
  let server: ServerProcess
  let token = ''

  beforeAll(async () => {
    server = await startServer({
      DATA_DIR: join(dir, 'data'),
      JWT_SECRET: 's'.repeat(48),
      MAX_UPLOAD_MB: String(LIMIT / 1024 / 1024),
    })
    const anon = createClient(server.url)
    const credentials = { email: 'ada@example.com', password: 'a long passphrase' }
    await anon.api.auth.register.post({ ...credentials, display_name: 'Ada' })
    token = (await anon.api.auth.login.post(credentials)).data?.access_token ?? ''
  })
  afterAll(async () => {
    server.proc.kill('SIGTERM')
    await server.proc.exited
    rmSync(dir, { recursive: true, force: true })
  })

  const send = (body: ReadableStream<Uint8Array>) =>
    fetch(`${server.url}/api/files`, {
      method: 'POST',
      headers: headers(token),
      body,
      duplex: 'half',
    } as RequestInit)

  it('takes a body sent in many small chunks, with boundaries split between them', async () => {
    const content = awkwardTranscript(B, 20_000)
    const body = multipart(B, [
      { name: 'file', filename: 'chunks.jsonl', content },
      { name: 'source_key', content: 'chunked' },
    ])
    // 7-byte writes, pausing now and then so the server sees them arrive apart
    const { stream, state } = streamOf(body, 7, { sleepMs: 2, sleepEvery: 100 })
    const r = await send(stream)
    expect(r.status).toBe(202)
    expect(state.pulled).toBe(body.length)
    const file = (await r.json()) as { id: string; size: number }
    expect(file.size).toBe(content.length)
    expect(readFileSync(join(uploads, file.id)).equals(content)).toBe(true)

    // the closing delimiter cut in the middle, its halves sent 50 ms apart
    const second = multipart(B, [{ name: 'file', filename: 'split.jsonl', content: '{"a":1}\n' }])
    const cut = second.indexOf(`\r\n--${B}--`) + 6
    const { stream: halves } = streamOf(second, [cut, second.length], { sleepMs: 50 })
    const r2 = await send(halves)
    expect(r2.status).toBe(202)
    const split = (await r2.json()) as { id: string }
    expect(readFileSync(join(uploads, split.id)).toString()).toBe('{"a":1}\n')
  })

  it('answers 413 while the body is still coming, and keeps nothing of it', async () => {
    const before = stored()
    const line = `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n`
    const total = 32 * 1024 * 1024
    const body = multipart(B, [{ name: 'file', filename: 'big.jsonl', content: line.repeat(total / line.length) }])
    const { stream, state } = streamOf(body, 64 * 1024)
    const r = await send(stream)
    expect(r.status).toBe(413)
    const error = await errorOf(r)
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    // the answer came long before the client had sent it all
    expect(state.pulled).toBeLessThan(total / 2)
    expect(stored()).toEqual(before)
    const list = await createClient(server.url, { token }).api.files.get({ query: {} })
    expect(list.data?.total).toBe(before.length)
  })
})
