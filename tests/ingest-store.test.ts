import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createPricing } from '../src/lib/pricing'
import { createConversationRepository } from '../src/modules/conversations/repository'
import { FINGERPRINT_WINDOW, fingerprintOf, LineFingerprints } from '../src/modules/ingest/fingerprint'
import { type JsonlLine, readJsonl } from '../src/modules/ingest/jsonl'
import { normalizeRecord } from '../src/modules/ingest/records'
import { createIngestRepository } from '../src/modules/ingest/repository'
import { createIngestService } from '../src/modules/ingest/service'
import { createMessageRepository } from '../src/modules/messages/repository'
import { toMessage } from '../src/modules/messages/service'
import { FIXTURES, fixtureFiles } from './fixture-expectations'

const tmp = mkdtempSync(join(tmpdir(), 'observatory-ingest-store-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const enc = new TextEncoder()
const bytesOf = (...parts: (string | Uint8Array)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p)))
function* chunks(bytes: Uint8Array, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size)
}
async function linesOf(source: Iterable<Uint8Array>, maxLineBytes?: number) {
  const out: JsonlLine[] = []
  for await (const l of readJsonl(source, { keepRaw: true, maxLineBytes })) out.push(l)
  return out
}

describe('readJsonl with keepRaw', () => {
  const parts: (string | Uint8Array)[] = [
    '\uFEFF{"type":"user","n":1}\r\n',
    '{"broken": \n',
    bytesOf('{"text":"caf', new Uint8Array([0xc3, 0x28]), '"}\n'),
    `{"big":"${'x'.repeat(100)}"}\n`,
    '   \r\n',
    '{"type":"assistant","text":"né 🚀"}\r\n',
    '{"last":true}',
  ]
  const file = bytesOf(...parts)
  for (const size of [1, 3, 7, 64, 1 << 20]) {
    it(`gives each line's exact bytes, terminator included (chunks of ${size} bytes)`, async () => {
      const lines = await linesOf(chunks(file, size), 64)
      expect(lines.map((l) => l.raw && Buffer.from(l.raw))).toEqual(
        parts.map((p, i) => (i === 3 ? null : bytesOf(p))), // the line over the limit is not kept
      )
    })
  }

  it('gives copies that later chunks cannot change', async () => {
    const buffer = bytesOf('{"a":1}\n{"b":2}\n')
    const lines = await linesOf([buffer])
    buffer.fill(0)
    expect(lines.map((l) => Buffer.from(l.raw as Uint8Array).toString())).toEqual(['{"a":1}\n', '{"b":2}\n'])
  })

  it('leaves the lines as they were without the option', async () => {
    for await (const l of readJsonl([bytesOf('{"a":1}\n')])) expect('raw' in l).toBe(false)
  })
})

describe('fingerprints from the lines read', () => {
  // lines of many sizes around the window, so windows start and end inside lines and across them
  const sizes = [10, 70_000, 5, 30_000, 40_000, 1, 64 * 1024 - 1, 200, 90_000, 3, 65_537, 12]
  const text = sizes.map((n, i) => `{"i":${i},"p":"${'z'.repeat(n)}"}\n`).join('')
  const path = join(tmp, 'fingerprints.jsonl')
  writeFileSync(path, text)

  async function check(start: number, maxLineBytes?: number) {
    const file = Bun.file(path)
    const head = start > 0 ? await file.slice(0, Math.min(start, FINGERPRINT_WINDOW)).bytes() : undefined
    const fp = new LineFingerprints(file, start, head)
    let checked = 0
    for await (const l of readJsonl(file.slice(start).stream(), { offset: start, keepRaw: true, maxLineBytes })) {
      const end = l.offset + l.length + l.terminator.length
      fp.add(l.offset, l.raw, end)
      expect({ end, hash: await fp.at(end) }).toEqual({ end, hash: await fingerprintOf(file, end) })
      checked++
    }
    return checked
  }

  it('equal those read from the file, from the start', async () => {
    expect(await check(0)).toBe(sizes.length)
  })
  it('equal those read from the file, resuming mid-file', async () => {
    const offsets = sizes.map((_, i) => enc.encode(text.split('\n').slice(0, i).join('\n')).length + (i ? 1 : 0))
    for (const start of [offsets[1], offsets[3], offsets[7]]) expect(await check(start as number)).toBeGreaterThan(0)
  })
  it('equal those read from the file around a line too long to keep', async () => {
    expect(await check(0, 60_000)).toBe(sizes.length)
  })
})

/** A migrated database on disk with one user, and the ingest service over it. */
function setup(name: string) {
  const db = openDatabase(join(tmp, `${name}.db`))
  runMigrations(db)
  const ownerId = 'owner-1'
  db.$client
    .query(
      `INSERT INTO users (id, email, password_hash, display_name, role, created_at, updated_at)
       VALUES (?, ?, 'x', 'Owner', 'admin', 0, 0)`,
    )
    .run(ownerId, `${name}@example.com`)
  const ingest = createIngestService(createIngestRepository(db), { pricing: createPricing({}) })
  const importFile = (path: string, sourceKey = path) =>
    ingest.importFile({ ownerId, path, sourceKey, displayName: path })
  return { db, ownerId, ingest, importFile }
}

type Db = ReturnType<typeof setup>['db']

/** Each conversation's stored aggregates beside a full recount from its messages. */
function aggregatesAndRecount(db: Db) {
  return db.$client
    .query(
      `SELECT c.id,
         json_array(c.message_count, c.input_tokens, c.output_tokens, c.cache_creation_tokens, c.cache_read_tokens,
           c.started_at, c.ended_at, c.models) AS stored,
         json_array((SELECT count(*) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT coalesce(sum(input_tokens), 0) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT coalesce(sum(output_tokens), 0) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT coalesce(sum(cache_creation_tokens), 0) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT coalesce(sum(cache_read_tokens), 0) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT coalesce(min(timestamp), c.created_at) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT max(timestamp) FROM messages m WHERE m.conversation_id = c.id),
           (SELECT json_group_array(model) FROM (SELECT DISTINCT model FROM messages m WHERE m.conversation_id = c.id
              AND model IS NOT NULL AND model <> '<synthetic>' ORDER BY model))) AS recount,
         c.cost_usd AS cost,
         (SELECT coalesce(sum(cost_usd), 0) FROM messages m WHERE m.conversation_id = c.id) AS recountCost
       FROM conversations c ORDER BY c.id`,
    )
    .all() as { id: string; stored: string; recount: string; cost: number; recountCost: number }[]
}

function expectAggregatesExact(db: Db) {
  const rows = aggregatesAndRecount(db)
  expect(rows.length).toBeGreaterThan(0)
  for (const r of rows) {
    expect({ id: r.id, aggregates: r.stored }).toEqual({ id: r.id, aggregates: r.recount })
    expect(r.cost).toBeCloseTo(r.recountCost, 9)
  }
}

describe('import storage', () => {
  it('stops, saying why, when the conversations of the file it imports are deleted between two chunks', async () => {
    const { db, ownerId, ingest } = setup('deleted-midway')
    const path = join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl') // 2,385 lines: 2 chunks
    const session = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04'
    let chunks = 0
    const run = ingest.importFile({
      ownerId,
      path,
      sourceKey: path,
      displayName: path,
      onProgress: async () => {
        if (++chunks === 1) await createConversationRepository(db).delete(session)
      },
    })
    await expect(run).rejects.toThrow("this file's conversations were deleted while it was being imported")
    expect(chunks).toBe(1)
    const count = (table: string) => (db.$client.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
    expect([count('conversations'), count('messages'), count('raw_lines'), count('sources')]).toEqual([0, 0, 0, 0])
    // imported again, it is whole
    const again = await ingest.importFile({ ownerId, path, sourceKey: path, displayName: path })
    expect(again.messagesAdded).toBe(count('messages'))
    expect(count('raw_lines')).toBe(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length,
    )
  })

  it('keeps every conversation total equal to a recount, through imports, re-imports and appends', async () => {
    const { db, importFile } = setup('aggregates')
    const paths = fixtureFiles()
    for (const path of paths) await importFile(path)
    expectAggregatesExact(db)
    // a second copy under other keys adds nothing and changes no total
    const before = aggregatesAndRecount(db)
    for (const path of paths) await importFile(path, `copy:${path}`)
    expect(aggregatesAndRecount(db)).toEqual(before)
    // a file read in two parts (appended to) ends where one import ends
    const whole = readFileSync(join(FIXTURES, 'spotter', 'tool_heavy.jsonl'))
    const cut = whole.indexOf(0x0a, whole.length >> 1) + 1
    const growing = join(tmp, 'growing.jsonl')
    const second = setup('appended')
    writeFileSync(growing, whole.subarray(0, cut))
    await second.importFile(growing)
    writeFileSync(growing, whole)
    await second.importFile(growing)
    expectAggregatesExact(second.db)
    const third = setup('whole')
    await third.importFile(join(FIXTURES, 'spotter', 'tool_heavy.jsonl'))
    expect(aggregatesAndRecount(second.db)).toEqual(aggregatesAndRecount(third.db))
  })

  it('moves a response usage to its larger line in a later file, across conversations, with exact totals', async () => {
    const { db, importFile } = setup('usage-moves')
    const line = (session: string, uuid: string, output: number) =>
      `${JSON.stringify({
        type: 'assistant',
        uuid,
        sessionId: session,
        requestId: 'req-1',
        timestamp: '2026-01-01T00:00:00.000Z',
        message: {
          id: 'msg-1',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [{ type: 'text', text: `out ${output}` }],
          usage: { input_tokens: 10, output_tokens: output, cache_read_input_tokens: 100 },
        },
      })}\n`
    const write = (name: string, text: string) => {
      const path = join(tmp, name)
      writeFileSync(path, text)
      return path
    }
    // the response's first line, then (another file) its last line with the final output count
    await importFile(write('u1.jsonl', line('s-a', 'a-1', 1)))
    await importFile(write('u2.jsonl', line('s-a', 'a-2', 50)))
    // a resumed session replays the last line (same uuid) with a larger count still: it moves, and stays in s-a
    await importFile(write('u3.jsonl', line('s-b', 'a-2', 70)))
    // the same uuid again, larger again, in the first session's own file
    await importFile(write('u4.jsonl', line('s-a', 'a-2', 90)))
    expectAggregatesExact(db)
    const tokens = db.$client
      .query(
        'SELECT id, message_count AS n, input_tokens AS input, output_tokens AS output FROM conversations ORDER BY id',
      )
      .all()
    expect(tokens).toEqual([
      { id: 's-a', n: 2, input: 10, output: 90 },
      { id: 's-b', n: 0, input: 0, output: 0 },
    ])
  })

  it('titles a conversation by a summary imported before the message it names', async () => {
    const { db, importFile } = setup('summary-first')
    const write = (name: string, lines: object[]) => {
      const path = join(tmp, name)
      writeFileSync(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''))
      return path
    }
    const base = { sessionId: 's-sum', timestamp: '2026-01-01T00:00:00Z' }
    const title = () => db.$client.query("SELECT title FROM conversations WHERE id = 's-sum'").get()
    await importFile(
      write('prompt.jsonl', [
        { ...base, type: 'user', uuid: 'leaf-1', message: { role: 'user', content: 'please fix the build' } },
      ]),
    )
    expect(title()).toEqual({ title: 'please fix the build' })
    await importFile(write('summary.jsonl', [{ type: 'summary', summary: 'Fixing the build', leafUuid: 'leaf-2' }]))
    // the reply arrives later, in a file with nothing else to title the session by
    await importFile(
      write('reply.jsonl', [
        {
          ...base,
          type: 'assistant',
          uuid: 'leaf-2',
          message: { id: 'm', role: 'assistant', model: 'x', content: [] },
        },
      ]),
    )
    expect(
      db.$client.query("SELECT title, title_source AS source FROM conversations WHERE id = 's-sum'").get(),
    ).toEqual({ title: 'Fixing the build', source: 'summary' })
    expectAggregatesExact(db)
  })

  it('stores each transcript line once: messages read their content from it, also after the file is rewritten', async () => {
    const { db, importFile, ownerId } = setup('content')
    const messages = createMessageRepository(db)
    const paths = fixtureFiles()
    for (const path of paths) await importFile(path)
    // what normalizeRecord gives for every line with a uuid, first file first (a replay keeps the first copy)
    const expected = new Map<string, unknown>()
    for (const path of paths)
      for (const text of readFileSync(path, 'utf8')
        .replace(/^\uFEFF/, '')
        .split('\n')) {
        let value: unknown
        try {
          value = JSON.parse(text)
        } catch {
          continue
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) continue
        const r = normalizeRecord(value as Record<string, unknown>)
        if (r.uuid && !expected.has(r.uuid)) expected.set(r.uuid, r.content)
      }
    const stored = db.$client
      .query(`SELECT count(*) AS n FROM messages WHERE content IS NOT NULL OR raw_source_id IS NULL`)
      .get() as { n: number }
    expect(stored.n).toBe(0)
    const served = async () => {
      const rows = await messages.findMany([...expected.keys()])
      return new Map(rows.map((r) => [r.id, toMessage(r, []).content]))
    }
    const before = await served()
    expect(before.size).toBeGreaterThan(1000)
    for (const [id, content] of before) expect({ id, content }).toEqual({ id, content: expected.get(id) })

    // the main session file is rewritten (another session's lines under the same key): its old lines are kept, set
    // aside with the version they came in, and the messages they gave still read their content from them
    const main = join(tmp, 'rewritten.jsonl')
    writeFileSync(main, readFileSync(join(FIXTURES, 'spotter', 'short.jsonl')))
    const key = join(FIXTURES, 'spotter', 'ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl')
    const { rewritten } = await createIngestService(createIngestRepository(db), {
      pricing: createPricing({}),
    }).importFile({ ownerId, path: main, sourceKey: key, displayName: 'rewritten' })
    expect(rewritten).toBe(true)
    const versions = db.$client
      .query('SELECT count(*) AS n, count(replaced_at) AS replaced FROM sources WHERE source_key = ?')
      .get(key) as { n: number; replaced: number }
    expect(versions).toEqual({ n: 2, replaced: 1 })
    const storedAfter = db.$client
      .query(`SELECT count(*) AS n FROM messages WHERE content IS NOT NULL OR raw_source_id IS NULL`)
      .get() as { n: number }
    expect(storedAfter.n).toBe(0)
    expect(await served()).toEqual(before)
  })
})
