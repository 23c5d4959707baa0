import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { openDatabase } from '../src/db/client'
import { createReadCache } from '../src/lib/read-cache'
import { makeApp, testDir } from './helpers'

function setup(maxBytes?: number) {
  const path = join(testDir('read-cache-'), 'db.sqlite')
  const db = openDatabase(path)
  db.$client.run('CREATE TABLE t (n INTEGER)')
  const cache = createReadCache(db, maxBytes)
  let computed = 0
  const count = () =>
    cache.remember(['count'], async () => {
      computed++
      return (db.$client.query('SELECT count(*) AS n FROM t').get() as { n: number }).n
    })
  return { path, db, cache, count, computed: () => computed }
}

describe('read cache', () => {
  it('answers a repeated key from memory until this connection writes', async () => {
    const { db, count, computed } = setup()
    expect([await count(), await count(), computed()]).toEqual([0, 0, 1])
    db.$client.run('INSERT INTO t VALUES (1)')
    expect([await count(), await count(), computed()]).toEqual([1, 1, 2])
  })

  it('sees a commit by another connection, as the CLI beside the server makes', async () => {
    const { path, count, computed } = setup()
    expect(await count()).toBe(0)
    const other = new Database(path)
    other.run('INSERT INTO t VALUES (1), (2)')
    other.close()
    expect([await count(), computed()]).toEqual([2, 2])
  })

  it('keeps nothing computed while the database changed', async () => {
    const { db, cache } = setup()
    let calls = 0
    const racing = () =>
      cache.remember(['racing'], async () => {
        calls++
        db.$client.run('INSERT INTO t VALUES (1)') // a write lands between the reads of the report
        return calls
      })
    expect([await racing(), await racing()]).toEqual([1, 2])
  })

  it('keys by every part of the key, and evicts the least recently used beyond its size', async () => {
    const answer = (k: string) => k.repeat(98) // 100 bytes as JSON
    const { cache } = setup(800) // eight answers, and none over 100 bytes
    const calls: string[] = []
    const get = (k: string) =>
      cache.remember(['k', k], async () => {
        calls.push(k)
        return answer(k)
      })
    for (const k of 'abcdefgh') await get(k)
    await get('a') // a is now the most recent
    await get('i') // evicts b
    await get('a')
    await get('b')
    expect(calls.join('')).toBe('abcdefghib')
    const big = () =>
      cache.remember(['big'], async () => {
        calls.push('big')
        return 'x'.repeat(101)
      })
    await big()
    await big()
    expect(calls.filter((c) => c === 'big')).toHaveLength(2) // over an eighth of the budget: never kept
  })

  it('does not keep a failure', async () => {
    const { cache } = setup()
    let calls = 0
    const failing = () =>
      cache.remember(['fail'], async () => {
        calls++
        throw new Error('no')
      })
    await expect(failing()).rejects.toThrow('no')
    await expect(failing()).rejects.toThrow('no')
    expect(calls).toBe(2)
  })
})

describe('cached reports through the API', () => {
  it('show a write at once: search and usage after a new message', async () => {
    const { api } = await makeApp()
    const search = async () => (await api.api.search.get({ query: { q: 'okapi' } })).data?.total
    const usage = async () => (await api.api.analytics.usage.get({ query: { group_by: 'model' } })).data?.totals
    expect([await search(), await search(), (await usage())?.total_tokens]).toEqual([0, 0, 0])
    const c = (await api.api.conversations.post({ title: 'zoo' })).data!
    const m = await api.api.conversations({ id: c.id }).messages.post({
      role: 'assistant',
      content: 'an okapi is a forest giraffe',
      model: 'claude-sonnet-4-5',
      usage: { input_tokens: 10, output_tokens: 5 },
    })
    expect(m.status).toBe(201)
    expect([await search(), (await usage())?.total_tokens]).toEqual([1, 15])
  })

  it('show a write at once: list pages and the thread after a new or deleted message', async () => {
    const { api } = await makeApp()
    const c = (await api.api.conversations.post({ title: 'zoo' })).data!
    const titles = async () => (await api.api.conversations.get({ query: {} })).data?.items.map((i) => i.title)
    // another page of the same filter: its total is the count kept for the first
    const secondPage = async () => {
      const data = (await api.api.conversations.get({ query: { offset: 1 } })).data
      return [data?.total, data?.items.length]
    }
    const page = async () => (await api.api.conversations({ id: c.id }).messages.get({ query: {} })).data?.total
    const thread = async () => (await api.api.conversations({ id: c.id }).thread.get({ query: {} })).data?.total
    expect([await titles(), await titles(), await page(), await page(), await thread()]).toEqual([
      ['zoo'],
      ['zoo'],
      0,
      0,
      0,
    ])
    expect(await secondPage()).toEqual([1, 0])
    const m = (await api.api.conversations({ id: c.id }).messages.post({ role: 'user', content: 'hello' })).data!
    await api.api.conversations.post({ title: 'aquarium' })
    expect([await titles(), await page(), await thread(), await secondPage()]).toEqual([
      ['aquarium', 'zoo'],
      1,
      1,
      [2, 1],
    ])
    expect((await api.api.conversations({ id: c.id }).messages({ messageId: m.id }).delete()).status).toBe(204)
    expect([await page(), await thread()]).toEqual([0, 0])
  })

  it('send a reused answer the same, compressed with zstd, with gzip, or not', async () => {
    const { api, raw } = await makeApp()
    const c = (await api.api.conversations.post({ title: 'many okapis' })).data!
    for (let i = 0; i < 40; i++)
      await api.api.conversations({ id: c.id }).messages.post({ role: 'user', content: `okapi sighting number ${i}` })
    const path = '/api/search?q=okapi&limit=40'
    const zipped = [
      await raw(path, { headers: { 'accept-encoding': 'gzip' } }),
      await raw(path, { headers: { 'accept-encoding': 'gzip' } }),
    ]
    const zstd = await raw(path, { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } })
    expect([zstd.status, zstd.headers.get('content-encoding')]).toEqual([200, 'zstd'])
    const unzstd = Buffer.from(Bun.zstdDecompressSync(Buffer.from(await zstd.arrayBuffer()))).toString()
    const plain = await raw(path)
    const bodies = await Promise.all(zipped.map(async (r) => gunzipSync(Buffer.from(await r.arrayBuffer())).toString()))
    expect(zipped.map((r) => [r.status, r.headers.get('content-encoding')])).toEqual([
      [200, 'gzip'],
      [200, 'gzip'],
    ])
    expect([plain.status, plain.headers.get('content-encoding')]).toEqual([200, null])
    const text = await plain.text()
    expect([...bodies, unzstd]).toEqual([text, text, text])
    expect(JSON.parse(text).total).toBe(40)
  })
})
