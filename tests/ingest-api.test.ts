import { afterAll, describe, expect, it } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { expectedBy, expectedResponses, FIXTURES, fixtureFiles } from './fixture-expectations'
import { countRows, makeApp } from './helpers'

type Ctx = Awaited<ReturnType<typeof makeApp>>
type Api = Ctx['api']

const tmp = mkdtempSync(join(tmpdir(), 'observatory-ingest-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** The file once its import has finished. */
async function finished(api: Api, id: string) {
  for (let i = 0; i < 500; i++) {
    const file = (await api.api.files({ id }).get()).data
    if (file && (file.status === 'completed' || file.status === 'error')) return file
    await Bun.sleep(10)
  }
  throw new Error('import did not finish')
}

/** Uploads a file and waits for its import to finish. */
async function upload(api: Api, path: string, sourceKey?: string) {
  const file = new File([await Bun.file(path).bytes()], basename(path))
  const posted = await api.api.files.post({ file, ...(sourceKey && { source_key: sourceKey }) })
  if (posted.status !== 202 || !posted.data)
    throw new Error(`upload failed: ${posted.status} ${JSON.stringify(posted.error?.value)}`)
  return finished(api, posted.data.id)
}

/** What the fixture lines say, counted with a plain split: lines, bad lines, message ids, sessions. */
function expectedLines(paths: string[]) {
  const ids = new Set<string>()
  const perFile = paths.map((path) => {
    const text = readFileSync(path, 'utf8')
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()
    let bad = 0
    let added = 0
    let lastSession: string | undefined
    for (const line of lines) {
      if (line.trim() === '') continue
      let v: Record<string, unknown>
      try {
        v = JSON.parse(line)
      } catch {
        bad++
        continue
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        bad++
        continue
      }
      const session = (v.sessionId as string | undefined) ?? lastSession
      if (!session) continue
      lastSession = session
      const m = v.message as { id?: string; role?: string; usage?: unknown } | undefined
      const id =
        (v.uuid as string | undefined) ??
        (m?.id && m.usage && m.role === 'assistant' ? `response:${m.id}:${v.requestId}` : undefined)
      if (id && !ids.has(id)) {
        ids.add(id)
        added++
      }
    }
    return { lines: lines.length, bad, added }
  })
  return { perFile, totalMessages: ids.size }
}

describe('transcript import through the API', () => {
  it('imports every fixture with exact line, message and token counts', async () => {
    const { api, db } = await makeApp()
    const paths = fixtureFiles()
    const expected = expectedLines(paths)
    for (const [i, path] of paths.entries()) {
      const file = await upload(api, path)
      const want = expected.perFile[i]!
      expect({
        path,
        status: file.status,
        lines: file.lines_done,
        skipped: file.lines_skipped,
        added: file.messages_added,
      }).toEqual({
        path,
        status: 'completed',
        lines: want.lines,
        skipped: want.bad,
        added: want.added,
      })
      expect(file.bytes_done).toBe(Bun.file(path).size)
    }
    expect(countRows(db, 'messages')).toBe(expected.totalMessages)

    // tokens per session equal the independent per-response computation
    const bySession = expectedBy(expectedResponses(paths).values(), (p) => p.sessionId)
    const list = await api.api.conversations.get({ query: { limit: 200 } })
    for (const [sessionId, [input, output, write, read]] of Object.entries(bySession)) {
      const c = list.data?.items.find((x) => x.id === sessionId)
      expect({
        sessionId,
        usage: c?.usage && [
          c.usage.input_tokens,
          c.usage.output_tokens,
          c.usage.cache_creation_input_tokens,
          c.usage.cache_read_input_tokens,
        ],
      }).toEqual({
        sessionId,
        usage: [input!, output!, write!, read!],
      })
    }
    const big = list.data!.items.find((x) => x.id === 'ae4a77f8-aedd-4bc1-888f-c94edc91af04')!
    expect(big).toMatchObject({ source: 'claude-code', git_branch: 'spotter-4te', agent_version: '2.1.39' })
    expect(big.models).toContain('claude-opus-4-6')
    expect(big.title).toBeTruthy()
  })

  it('exports a session byte for byte: the main file, then its subagent files', async () => {
    const { api, raw } = await makeApp()
    const main = join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl')
    const subagents = ['agent-aac57f5.jsonl', 'agent-acompact-946d2b.jsonl'].map((f) =>
      join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04', 'subagents', f),
    )
    for (const p of [main, ...subagents]) await upload(api, p)
    const r = await raw('/api/conversations/ae4a77f8-aedd-4bc1-888f-c94edc91af04/export?format=jsonl')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/x-ndjson')
    const body = Buffer.from(await r.arrayBuffer())
    const original = Buffer.concat([main, ...subagents].map((p) => readFileSync(p)))
    expect(body.length).toBe(original.length)
    expect(body.equals(original)).toBe(true)
  })

  it('exports only its own messages from a file holding several sessions, and a delete takes the lines along', async () => {
    const { api, raw, db } = await makeApp()
    const path = join(FIXTURES, 'claude-code-log', 'edge_cases.jsonl')
    const first = await upload(api, path, 'edge')
    // the file's lines (terminators kept) and the session each one names
    const lines = readFileSync(path, 'utf8').split(/(?<=\n)/)
    const sessionOf = lines.map((l) => {
      try {
        return (JSON.parse(l) as { sessionId?: string } | null)?.sessionId
      } catch {
        return undefined
      }
    })
    const exported = async (id: string) => {
      const r = await raw(`/api/conversations/${id}/export?format=jsonl`)
      expect(r.status).toBe(200)
      return await r.text()
    }
    const without = (session: string) => lines.filter((_, i) => sessionOf[i] !== session).join('')
    expect(await exported('todowrite_session')).toBe(without('edge_cases'))
    expect(await exported('edge_cases')).toBe(without('todowrite_session'))

    // deleting one session deletes its messages' lines: the other session's export no longer holds them
    expect((await api.api.conversations({ id: 'edge_cases' }).delete()).status).toBe(204)
    expect(await exported('todowrite_session')).toBe(without('edge_cases'))
    expect(countRows(db, 'raw_lines')).toBe(lines.length - sessionOf.filter((s) => s === 'edge_cases').length)
    // deleting the last session of the file deletes the file's lines whole
    expect((await api.api.conversations({ id: 'todowrite_session' }).delete()).status).toBe(204)
    expect(countRows(db, 'raw_lines')).toBe(0)
    expect(countRows(db, 'sources')).toBe(0)
    // so sending the file again under the same key brings both sessions back
    const again = await upload(api, path, 'edge')
    expect(again.messages_added).toBe(first.messages_added)
    expect(await exported('todowrite_session')).toBe(without('edge_cases'))
  })

  it('lets a second copy of a file go with its conversation, so sending that copy again brings the conversation back', async () => {
    const { api, raw, db } = await makeApp()
    const path = join(FIXTURES, 'spotter', 'short.jsonl')
    const session = '55604662-cf2a-4331-851a-ec234028f8ca'
    const first = await upload(api, path, 'laptop')
    expect(first.messages_added).toBeGreaterThan(0)
    // the same file from another place adds nothing, and the export holds the file once
    expect((await upload(api, path, 'backup-disk')).messages_added).toBe(0)
    const exported = async () => (await raw(`/api/conversations/${session}/export?format=jsonl`)).text()
    expect(await exported()).toBe(readFileSync(path, 'utf8'))
    expect((await api.api.conversations({ id: session }).delete()).status).toBe(204)
    expect([countRows(db, 'sources'), countRows(db, 'raw_lines')]).toEqual([0, 0])
    const again = await upload(api, path, 'backup-disk')
    expect(again.messages_added).toBe(first.messages_added)
    expect(await exported()).toBe(readFileSync(path, 'utf8'))
  })

  it('drops a deleted message from the export', async () => {
    const { api, raw } = await makeApp()
    const path = join(FIXTURES, 'spotter', 'short.jsonl')
    await upload(api, path)
    const session = '55604662-cf2a-4331-851a-ec234028f8ca'
    const lines = readFileSync(path, 'utf8').split(/(?<=\n)/)
    const victim = lines.findIndex((l) => (JSON.parse(l) as { type?: string }).type === 'assistant')
    const uuid = (JSON.parse(lines[victim] as string) as { uuid: string }).uuid
    expect((await api.api.conversations({ id: session }).messages({ messageId: uuid }).delete()).status).toBe(204)
    const r = await raw(`/api/conversations/${session}/export?format=jsonl`)
    expect(await r.text()).toBe(lines.filter((_, i) => i !== victim).join(''))
  })

  it('tells its progress live, after the row has it, and ends with the completed status', async () => {
    const { api, alice, app } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'live' })).data!.key
    const stream = await app.handle(
      new Request('http://localhost/api/live/stream?type=file.progress', { headers: { 'x-api-key': key } }),
    )
    const reader = stream.body!.getReader()
    const path = join(FIXTURES, 'spotter', 'tool_heavy.jsonl')
    const file = await upload(api, path)
    const told: { file_id: string; status: string; bytes_done: number; size: number; messages_added: number }[] = []
    for (let text = ''; !told.some((e) => e.status !== 'processing'); ) {
      text += new TextDecoder().decode((await reader.read()).value)
      told.splice(0, told.length, ...[...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string).data))
    }
    await reader.cancel()
    expect(told.at(-1)).toEqual({
      file_id: file.id,
      status: 'completed',
      bytes_done: readFileSync(path).length,
      size: readFileSync(path).length,
      messages_added: file.messages_added,
    })
  })

  it('stops importing a file deleted during its import, keeping what was committed', async () => {
    const { api, alice, app, db } = await makeApp()
    const session = 'deleted-upload'
    const total = 40_000 // twenty chunks of 2,000 lines: far more than get committed before the delete arrives
    const lines = Array.from({ length: total }, (_, i) =>
      JSON.stringify({
        type: 'user',
        uuid: `u-${i}`,
        parentUuid: i ? `u-${i - 1}` : null,
        sessionId: session,
        timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
        message: { role: 'user', content: `line ${i}` },
      }),
    )
    const path = join(tmp, 'deleted-upload.jsonl')
    writeFileSync(path, `${lines.join('\n')}\n`)
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'live' })).data!.key
    const stream = await app.handle(
      new Request('http://localhost/api/live/stream?type=file.progress', { headers: { 'x-api-key': key } }),
    )
    const reader = stream.body!.getReader()
    const posted = await api.api.files.post({ file: new File([readFileSync(path)], 'deleted-upload.jsonl') })
    // the first chunk is committed: delete the file
    for (let text = ''; !text.includes('file.progress'); ) text += new TextDecoder().decode((await reader.read()).value)
    expect((await api.api.files({ id: posted.data!.id }).delete()).status).toBe(204)
    await reader.cancel()
    const count = () => (db.$client.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n
    let seen = -1
    for (let i = 0; i < 100 && count() !== seen; i++) {
      seen = count()
      await Bun.sleep(100)
    }
    expect(count() % 2000).toBe(0) // whole chunks only
    expect(count()).toBeGreaterThanOrEqual(2000)
    expect(count()).toBeLessThan(total)
  })

  it('adds nothing on a second import, and exactly the appended lines after an append', async () => {
    const { api, db } = await makeApp()
    const path = join(tmp, 'append.jsonl')
    writeFileSync(path, readFileSync(join(FIXTURES, 'spotter', 'short.jsonl')))
    const first = await upload(api, path, '/home/me/short.jsonl')
    const messages = countRows(db, 'messages')
    expect(messages).toBe(first.messages_added)
    const again = await upload(api, path, '/home/me/short.jsonl')
    expect(again).toMatchObject({ status: 'completed', messages_added: 0, lines_done: 0 })
    const copy = await upload(api, path) // a different key: read again, deduplicated by uuid
    expect(copy.messages_added).toBe(0)
    expect(countRows(db, 'messages')).toBe(messages)

    const session = '55604662-cf2a-4331-851a-ec234028f8ca'
    const line = (uuid: string, text: string) =>
      `${JSON.stringify({ type: 'user', uuid, parentUuid: null, sessionId: session, timestamp: '2026-02-12T10:00:00.000Z', message: { role: 'user', content: text } })}\n`
    writeFileSync(path, line('appended-1', 'one more') + line('appended-2', 'and another'), { flag: 'a' })
    const appended = await upload(api, path, '/home/me/short.jsonl')
    expect(appended).toMatchObject({ status: 'completed', messages_added: 2, lines_done: 2 })
    expect(countRows(db, 'messages')).toBe(messages + 2)
    const c = await api.api.conversations({ id: session }).get()
    expect(c.data?.message_count).toBe(messages + 2)
  })

  it('sends only what was appended: offset and fingerprint of what the server holds, 409 when it holds else', async () => {
    const { api, db, config, user } = await makeApp()
    const path = join(FIXTURES, 'spotter', 'subagent.jsonl')
    const bytes = readFileSync(path)
    const half = bytes.indexOf(0x0a, bytes.length >> 1) + 1 // a line's end near the middle
    const key = '/home/me/.claude/projects/app/subagent.jsonl'
    // the fingerprint as the API documents it: SHA-256 of the size, the first 64 KiB and the last 64 KiB
    const fingerprint = (b: Uint8Array) =>
      new Bun.CryptoHasher('sha256')
        .update(String(b.length))
        .update(b.subarray(0, 65536))
        .update(b.subarray(Math.max(0, b.length - 65536)))
        .digest('hex')
    const storedFiles = () => readdirSync(join(config.dataDir, 'uploads'))
    // (the form's fields before the file, as an append sends them)
    const post = async (part: Uint8Array, form: Record<string, string>) =>
      api.api.files.post({ ...form, file: new File([part], 'subagent.jsonl') })

    expect((await api.api.files.source.get({ query: { source_key: key } })).status).toBe(404)
    const first = await post(bytes.subarray(0, half), { source_key: key })
    expect(first.status).toBe(202)
    const firstDone = await finished(api, first.data?.id ?? '')
    expect((await api.api.files.source.get({ query: { source_key: key } })).data).toEqual({
      source_key: key,
      size: half,
      fingerprint: fingerprint(bytes.subarray(0, half)),
      file_id: firstDone.id,
    })

    // what the server holds is not where this upload starts, or not this file, or nothing: 409, nothing kept
    let rows = countRows(db, 'files')
    const refusals = [
      [{ offset: String(half - 1), fingerprint: fingerprint(bytes.subarray(0, half)) }, key, `holds ${half} bytes`],
      [{ offset: String(half), fingerprint: fingerprint(bytes.subarray(1, half + 1)) }, key, 'not the start'],
      [{ offset: String(half), fingerprint: fingerprint(bytes.subarray(0, half)) }, 'other', 'holds no upload'],
    ] as const
    for (const [form, sourceKey, says] of refusals) {
      const r = await post(bytes.subarray(half), { ...form, source_key: sourceKey })
      expect(r.status).toBe(409)
      expect(r.error?.value).toMatchObject({ code: 'CONFLICT', error: expect.stringContaining(says) })
    }
    const bob = await user('bob')
    expect((await bob.api.api.files.source.get({ query: { source_key: key } })).status).toBe(404)
    const bobs = await bob.api.api.files.post({
      file: new File([bytes.subarray(half)], 'x.jsonl'),
      source_key: key,
      offset: String(half),
      fingerprint: fingerprint(bytes.subarray(0, half)),
    })
    expect(bobs.status).toBe(409)
    // the form is checked as a whole
    for (const [form, field] of [
      [{ source_key: key, offset: String(half) }, 'fingerprint'],
      [{ source_key: key, fingerprint: fingerprint(bytes) }, 'offset'],
      [{ offset: String(half), fingerprint: fingerprint(bytes.subarray(0, half)) }, 'source_key'],
      [{ source_key: key, offset: '-1', fingerprint: fingerprint(bytes) }, 'offset'],
      [{ source_key: key, offset: '1', fingerprint: 'F'.repeat(64) }, 'fingerprint'],
    ] as const) {
      const r = await post(bytes.subarray(half), form)
      expect(r.status).toBe(422)
      expect(r.error?.value).toMatchObject({ code: 'VALIDATION', error: expect.stringContaining(`body ${field}`) })
    }
    expect(countRows(db, 'files')).toBe(rows)
    expect(storedFiles()).toHaveLength(1)
    expect(readFileSync(join(config.dataDir, 'uploads', storedFiles()[0] ?? ''))).toEqual(bytes.subarray(0, half))

    // two appends of the same bytes at once: one is taken, the other finds the copy grown, and nothing goes in twice
    const both = await Promise.all(
      [0, 1].map(() =>
        post(bytes.subarray(half), {
          source_key: key,
          offset: String(half),
          fingerprint: fingerprint(bytes.subarray(0, half)),
        }),
      ),
    )
    expect(both.map((r) => r.status).sort()).toEqual([202, 409])
    const rest = both.find((r) => r.status === 202) as (typeof both)[number]
    // the append continues the first upload's record (its import had finished): its figures now the whole file's
    expect(rest.data).toMatchObject({ id: firstDone.id, status: 'pending', size: bytes.length })
    expect(countRows(db, 'files')).toBe(rows)
    const restDone = await finished(api, firstDone.id)
    // one stored copy of the whole file, and the messages of the whole file, the second half's read once
    expect(storedFiles()).toHaveLength(1)
    expect(readFileSync(join(config.dataDir, 'uploads', storedFiles()[0] ?? ''))).toEqual(bytes)
    const want = expectedLines([path])
    expect(restDone).toMatchObject({
      status: 'completed',
      lines_done: want.perFile[0]?.lines,
      messages_added: want.totalMessages,
      bytes_done: bytes.length,
    })
    expect(restDone.messages_added - firstDone.messages_added).toBeGreaterThan(0)
    expect(countRows(db, 'messages')).toBe(want.totalMessages)

    // a copy that ends in the middle of a line takes the rest of it: with the offset first, the bytes are not judged
    // as a file's start; with the file first, they are (and a line's end does not look like one)
    const cut = half + 10
    expect((await post(bytes.subarray(0, cut), { source_key: 'cut' })).status).toBe(202)
    const cutAppend = { source_key: 'cut', offset: String(cut), fingerprint: fingerprint(bytes.subarray(0, cut)) }
    const fileFirst = await api.api.files.post({ file: new File([bytes.subarray(cut)], 'x.jsonl'), ...cutAppend })
    expect([fileFirst.status, (fileFirst.error?.value as { error?: string })?.error]).toEqual([
      400,
      'the file is not JSONL: its first line is not a JSON object',
    ])
    const rest2 = await post(bytes.subarray(cut), cutAppend)
    expect(rest2.status).toBe(202)
    expect(await finished(api, rest2.data?.id ?? '')).toMatchObject({ size: bytes.length, messages_added: 0 })
    expect(countRows(db, 'messages')).toBe(want.totalMessages) // the same lines: nothing new
    rows += 1 // (the append went on the whole upload's record)

    // a whole file under the key replaces the copy
    const whole = await post(bytes, { source_key: key })
    expect((await finished(api, whole.data?.id ?? '')).messages_added).toBe(0)
    expect(countRows(db, 'files')).toBe(rows + 1)
    expect((await api.api.analytics.overview.get()).data?.files).toBe(2) // two keys, whatever was sent under each
    expect((await bob.api.api.analytics.overview.get()).data?.files).toBe(0)
    expect(storedFiles()).toHaveLength(2)
    expect((await api.api.files.source.get({ query: { source_key: key } })).data?.file_id).toBe(whole.data?.id)

    // deleting an upload of a key lets the key's copy go (it may hold bytes whose import the delete stopped): the next
    // upload sends the whole file again, and its import goes on from what was read
    expect((await api.api.files({ id: firstDone.id }).delete()).status).toBe(204)
    expect(storedFiles()).toHaveLength(1)
    expect((await api.api.files.source.get({ query: { source_key: key } })).status).toBe(404)
    expect(
      (await post(bytes, { source_key: key, offset: String(half), fingerprint: fingerprint(bytes.subarray(0, half)) }))
        .status,
    ).toBe(409)
    const again = await post(bytes, { source_key: key })
    expect(await finished(api, again.data?.id ?? '')).toMatchObject({ status: 'completed', lines_done: 0 })
    expect(countRows(db, 'messages')).toBe(want.totalMessages)
  })

  it("lists with each upload the bad lines in the bytes its own imports read, not its key's earlier ones", async () => {
    const { api } = await makeApp()
    const good = (uuid: string) =>
      `${JSON.stringify({ type: 'user', uuid, sessionId: 'errors-per-upload', timestamp: '2026-01-01T00:00:00Z', message: { role: 'user', content: uuid } })}\n`
    const part1 = `${good('e-1')}{bad one\n${good('e-2')}`
    const part2 = `{bad two\n${good('e-3')}`
    const part3 = `[3]\n${good('e-4')}`
    const send = async (bytes: string, form: Record<string, string>) => {
      const r = await api.api.files.post({ ...form, source_key: 'k', file: new File([bytes], 'k.jsonl') })
      return finished(api, r.data?.id ?? '')
    }
    const errorsOf = async (id: string) =>
      (await api.api.files({ id }).errors.get({ query: {} })).data?.items.map((e) => [e.line, e.reason])
    const first = await send(part1, {})
    // the whole file again, grown: a record of its own, whose import goes on after what the first read
    const second = await send(part1 + part2, {})
    expect(second.id).not.toBe(first.id)
    // an append: the second record goes on
    const fingerprint = new Bun.CryptoHasher('sha256')
      .update(String(Buffer.byteLength(part1 + part2)))
      .update(part1 + part2)
      .update(part1 + part2)
      .digest('hex')
    const third = await send(part3, { offset: String(Buffer.byteLength(part1 + part2)), fingerprint })
    expect(third.id).toBe(second.id)
    expect(await errorsOf(first.id)).toEqual([[2, 'invalid_json']])
    expect(await errorsOf(second.id)).toEqual([
      [4, 'invalid_json'],
      [6, 'not_object'],
    ])
    expect(third.first_errors.map((e) => e.line)).toEqual([4, 6])
    expect([first.lines_skipped, third.lines_skipped]).toEqual([1, 2])
    // from an offset on: what an upload that sent the file from there read
    const fromAppend = await api.api.files({ id: second.id }).errors.get({
      query: { from_offset: Buffer.byteLength(part1 + part2) },
    })
    expect(fromAppend.data?.items.map((e) => e.line)).toEqual([6])

    // the file rewritten: read again from its start, its figures and bad lines are the new content's alone
    const rewritten = `${good('e-5')}{bad three\n${good('e-6')}`
    const fourth = await send(rewritten, {})
    expect(fourth).toMatchObject({ lines_done: 3, lines_skipped: 1, messages_added: 2 })
    expect(await errorsOf(fourth.id)).toEqual([[2, 'invalid_json']])
    for (const earlier of [first.id, second.id]) expect(await errorsOf(earlier)).toEqual([])
  })

  it('reads a rewritten file again from the start, keeping what its earlier version gave', async () => {
    const { api, db, raw } = await makeApp()
    const path = join(tmp, 'rewritten.jsonl')
    const short = join(FIXTURES, 'spotter', 'short.jsonl')
    const heavy = join(FIXTURES, 'spotter', 'tool_heavy.jsonl')
    writeFileSync(path, readFileSync(short))
    const first = await upload(api, path, 'same-key')
    writeFileSync(path, readFileSync(heavy))
    const second = await upload(api, path, 'same-key')
    const [was, now] = expectedLines([short, heavy]).perFile
    if (!was || !now) throw new Error('two files expected')
    expect(second).toMatchObject({ status: 'completed', lines_done: now.lines, messages_added: now.added })
    expect(countRows(db, 'messages')).toBe(first.messages_added + now.added)
    // both versions' lines are kept: the earlier one's session still exports byte for byte
    expect(countRows(db, 'raw_lines')).toBe(was.lines + now.lines)
    const [earlier] = first.conversation_ids
    expect(first.conversation_ids).toHaveLength(1)
    expect(await (await raw(`/api/conversations/${earlier}/export?format=jsonl`)).text()).toBe(
      readFileSync(short, 'utf8'),
    )
    expect(second.conversation_ids).not.toContain(earlier)
    expect(second.conversation_ids).toHaveLength(1)
    expect(await (await raw(`/api/conversations/${second.conversation_ids[0]}/export?format=jsonl`)).text()).toBe(
      readFileSync(heavy, 'utf8'),
    )
    // the key now stands for the new version: sending it again adds nothing
    await upload(api, path, 'same-key')
    expect([countRows(db, 'messages'), countRows(db, 'raw_lines')]).toEqual([
      first.messages_added + now.added,
      was.lines + now.lines,
    ])
    const overview = await api.api.analytics.overview.get({ query: {} })
    expect(overview.data?.files).toBe(1)
  })

  it('reports each bad line with its number, offset and reason, imports the rest, and leaves a truncated tail for later', async () => {
    const { api } = await makeApp({ MAX_LINE_MB: String(300 / 1024 / 1024) })
    const ok = (uuid: string) =>
      JSON.stringify({
        type: 'user',
        uuid,
        sessionId: 's-bad',
        timestamp: '2026-01-01T00:00:00Z',
        message: { role: 'user', content: uuid },
      })
    const parts = [
      Buffer.from(`${ok('good-1')}\n`),
      Buffer.from('{"type": "user", broken\n'),
      Buffer.from('[1, 2, 3]\n'),
      Buffer.concat([Buffer.from('{"text": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]),
      Buffer.from(`{"pad": "${'x'.repeat(400)}"}\n`),
      Buffer.from(`${ok('good-2')}\r\n`),
      Buffer.from('{"type": "user", "uuid": "unfinished'),
    ]
    const path = join(tmp, 'bad.jsonl')
    writeFileSync(path, Buffer.concat(parts))
    const file = await upload(api, path, 'bad')
    expect(file).toMatchObject({ status: 'completed', messages_added: 2, lines_skipped: 4, lines_done: 6 })
    const offsets = parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.length, 0))
    expect(file.bytes_done).toBe(offsets[6]!)
    const errors = await api.api.files({ id: file.id }).errors.get({ query: {} })
    expect(errors.data?.total).toBe(4)
    expect(errors.data?.items.map((e) => [e.line, e.offset, e.reason])).toEqual([
      [2, offsets[1]!, 'invalid_json'],
      [3, offsets[2]!, 'not_object'],
      [4, offsets[3]!, 'invalid_utf8'],
      [5, offsets[4]!, 'line_too_long'],
    ])
    expect(file.first_errors).toHaveLength(4)
    const page = await api.api.files({ id: file.id }).errors.get({ query: { limit: 1, offset: 3 } })
    expect(page.data?.items.map((e) => e.line)).toEqual([5])
  })

  it('exports a session read again after a rewrite from the newest version of its file, each line once', async () => {
    const { api, raw } = await makeApp()
    const path = join(tmp, 'edited.jsonl')
    const original = readFileSync(join(FIXTURES, 'spotter', 'short.jsonl'), 'utf8')
    writeFileSync(path, original)
    const first = await upload(api, path, 'edited-key')
    const [session] = first.conversation_ids
    // the file changes at its start (a line written again with a space more) and the session goes on
    const [head, ...rest] = original.split('\n')
    const more = JSON.stringify({
      type: 'user',
      uuid: 'edited-more-1',
      sessionId: session,
      timestamp: '2026-02-01T00:00:00Z',
      message: { role: 'user', content: 'and one more thing' },
    })
    const edited = `${head!.replace('{', '{ ')}\n${rest.join('\n')}${more}\n`
    writeFileSync(path, edited)
    const second = await upload(api, path, 'edited-key')
    expect(second).toMatchObject({ status: 'completed', messages_added: 1 })
    expect(await (await raw(`/api/conversations/${session}/export?format=jsonl`)).text()).toBe(edited)
    expect((await api.api.conversations({ id: session! }).get()).data?.message_count).toBe(first.messages_added + 1)
  })

  it('reports the unfinished last line of an upload without a source_key, which nothing could complete later', async () => {
    const { api } = await makeApp()
    const whole = `${JSON.stringify({ type: 'user', uuid: 'u-1', sessionId: 's-cut', timestamp: '2026-01-01T00:00:00Z', message: { role: 'user', content: 'hi' } })}\n`
    const cut = '{"type": "user", "uuid": "u-2", "mess'
    const path = join(tmp, 'cut.jsonl')
    writeFileSync(path, whole + cut)
    const file = await upload(api, path)
    expect(file).toMatchObject({ status: 'completed', messages_added: 1, lines_done: 2, lines_skipped: 1 })
    expect(file.bytes_done).toBe(Buffer.byteLength(whole + cut))
    expect(file.first_errors.map((e) => [e.line, e.offset, e.reason])).toEqual([
      [2, Buffer.byteLength(whole), 'invalid_json'],
    ])
  })

  it('refuses empty, non-JSONL and oversized uploads, storing nothing', async () => {
    const { api, db } = await makeApp({ MAX_UPLOAD_MB: String(1 / 1024) })
    const empty = await api.api.files.post({ file: new File([], 'empty.jsonl') })
    expect(empty.status).toBe(400)
    const csv = await api.api.files.post({ file: new File(['a,b,c\n1,2,3\n'], 'data.csv') })
    expect(csv.status).toBe(400)
    if (csv.error?.status === 400) expect(csv.error.value.error).toContain('not JSONL')
    const big = await api.api.files.post({
      file: new File([`${JSON.stringify({ x: 'y'.repeat(2000) })}\n`], 'big.jsonl'),
    })
    expect(big.status).toBe(413)
    expect(countRows(db, 'files')).toBe(0)
    expect(countRows(db, 'jobs')).toBe(0)
  })

  it("never shows one user's files, errors or imported conversations to another", async () => {
    const { api, user } = await makeApp()
    const file = await upload(api, join(FIXTURES, 'spotter', 'short.jsonl'))
    const bob = await user('bob')
    expect((await bob.api.api.files({ id: file.id }).get()).status).toBe(404)
    expect((await bob.api.api.files({ id: file.id }).errors.get({ query: {} })).status).toBe(404)
    expect((await bob.api.api.files({ id: file.id }).delete()).status).toBe(404)
    expect((await bob.api.api.files.get({ query: {} })).data?.total).toBe(0)
    const session = '55604662-cf2a-4331-851a-ec234028f8ca'
    expect((await bob.api.api.conversations({ id: session }).get()).status).toBe(404)
    expect((await bob.api.api.conversations({ id: session }).export.get({ query: {} })).status).toBe(404)
    expect((await bob.api.api.conversations.get({ query: {} })).data?.total).toBe(0)
    // bob uploading the same session cannot take it over: its lines are refused
    const theirs = await upload(bob.api, join(FIXTURES, 'spotter', 'short.jsonl'))
    expect(theirs.messages_added).toBe(0)
    expect(theirs.first_errors[0]?.reason).toBe('foreign_session')
    expect((await api.api.conversations({ id: session }).get()).data?.message_count).toBe(file.messages_added)

    // the same lines under another session id: each line whose message alice holds is refused and reported, none
    // silently dropped, and alice's conversation is unchanged
    const source = readFileSync(join(FIXTURES, 'spotter', 'short.jsonl'), 'utf8')
    const copy = join(tmp, 'renamed-session.jsonl')
    writeFileSync(copy, source.replaceAll(session, 'bobs-own-session'))
    const withUuid = source
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l, i) => ({ line: i + 1, uuid: (JSON.parse(l) as { uuid?: string }).uuid }))
      .filter((l) => l.uuid !== undefined)
    const renamed = await upload(bob.api, copy)
    expect(renamed.messages_added).toBe(0)
    expect(renamed.lines_skipped).toBe(withUuid.length)
    const errors = await bob.api.api.files({ id: renamed.id }).errors.get({ query: { limit: 200 } })
    expect(errors.data?.items.map((e) => [e.line, e.reason])).toEqual(withUuid.map((l) => [l.line, 'foreign_message']))
    expect(errors.data?.items[0]?.message).toBe(`message ${withUuid[0]?.uuid} belongs to another account`)
    expect((await api.api.conversations({ id: session }).get()).data?.message_count).toBe(file.messages_added)
  })

  it('imports server-side files only under IMPORT_ROOTS, for admins', async () => {
    const root = join(tmp, 'root')
    const outside = join(tmp, 'outside')
    mkdirSync(join(root, 'project'), { recursive: true })
    mkdirSync(outside, { recursive: true })
    writeFileSync(join(root, 'project', 'short.jsonl'), readFileSync(join(FIXTURES, 'spotter', 'short.jsonl')))
    writeFileSync(join(outside, 'secret.jsonl'), readFileSync(join(FIXTURES, 'spotter', 'short.jsonl')))
    symlinkSync(outside, join(root, 'escape'))
    const linkedRoot = join(tmp, 'linked-root')
    symlinkSync(join(root, 'project'), linkedRoot)
    // (import-path is rate limited as sign-ins are: this test asks more than ten times)
    const { admin, api, db } = await makeApp({ IMPORT_ROOTS: `${root},${linkedRoot}`, AUTH_RATE_LIMIT: '100' })
    const ok = await admin.api.api.files['import-path'].post({ path: join(root, 'project') })
    expect(ok.status).toBe(202)
    expect(ok.data?.items.map((f) => f.name)).toEqual([join(root, 'project', 'short.jsonl')])
    for (const path of [
      outside,
      join(root, 'escape'),
      join(root, 'escape', 'secret.jsonl'),
      `${root}/../outside`,
      '/etc/passwd',
      join(outside, 'missing'),
    ]) {
      const r = await admin.api.api.files['import-path'].post({ path })
      expect({ path, status: r.status }).toEqual({ path, status: 403 })
    }
    // under a root (also reached through a link to it): what is not there is a 404, and a file named alone must be a
    // transcript, as an upload must
    writeFileSync(join(root, 'project', 'notes.txt'), 'not a transcript\n')
    writeFileSync(join(root, 'project', 'empty.jsonl'), '')
    for (const [path, status, error] of [
      [join(root, 'missing'), 404, 'file or folder at that path not found'],
      [join(linkedRoot, 'missing', 'deeper.jsonl'), 404, 'file or folder at that path not found'],
      [join(root, 'escape', 'missing.jsonl'), 403, 'not under an allowed import root'],
      [join(root, 'project', 'notes.txt'), 400, 'not JSONL'],
      [join(root, 'project', 'empty.jsonl'), 400, 'empty'],
    ] as const) {
      const r = await admin.api.api.files['import-path'].post({ path })
      expect({ path, status: r.status }).toEqual({ path, status })
      expect(r.error && 'error' in (r.error.value as object) && (r.error.value as { error: string }).error).toContain(
        error,
      )
    }
    expect((await api.api.files['import-path'].post({ path: join(root, 'project') })).status).toBe(403)
    expect(countRows(db, 'files')).toBe(1)
  })

  it('titles a session: custom-title, else ai-title, else a summary of its leaf, else the first prompt', async () => {
    const { api } = await makeApp()
    const base = { sessionId: 's-title', timestamp: '2026-01-01T00:00:00Z' }
    const lines = (extra: object[]) =>
      [
        { ...base, type: 'user', uuid: 't-1', message: { role: 'user', content: 'please fix the build' } },
        { ...base, type: 'assistant', uuid: 't-2', message: { id: 'm', role: 'assistant', model: 'x', content: [] } },
        ...extra,
      ]
        .map((l) => `${JSON.stringify(l)}\n`)
        .join('')
    const step = async (name: string, extra: object[]) => {
      writeFileSync(join(tmp, name), lines(extra))
      await upload(api, join(tmp, name), 'titles')
      return (await api.api.conversations({ id: 's-title' }).get()).data?.title
    }
    expect(await step('t1.jsonl', [])).toBe('please fix the build')
    expect(await step('t2.jsonl', [{ type: 'summary', summary: 'Build fix', leafUuid: 't-2' }])).toBe('Build fix')
    expect(
      await step('t3.jsonl', [
        { type: 'summary', summary: 'Build fix', leafUuid: 't-2' },
        { type: 'ai-title', aiTitle: 'AI title', sessionId: 's-title' },
      ]),
    ).toBe('AI title')
    expect(
      await step('t4.jsonl', [
        { type: 'summary', summary: 'Build fix', leafUuid: 't-2' },
        { type: 'ai-title', aiTitle: 'AI title', sessionId: 's-title' },
        { type: 'custom-title', customTitle: 'Mine', sessionId: 's-title' },
      ]),
    ).toBe('Mine')
    await api.api.conversations({ id: 's-title' }).patch({ title: 'Set by hand' })
    expect(await step('t5.jsonl', [{ type: 'custom-title', customTitle: 'Newer', sessionId: 's-title' }])).toBe(
      'Set by hand',
    )
  })
})
