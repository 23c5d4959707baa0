import { describe, expect, it } from 'bun:test'
import { countRows, errorOf, json, makeApp } from './helpers'

describe('conversations', () => {
  it('creates a conversation and reads it back', async () => {
    const { api } = await makeApp()
    const created = await api.api.conversations.post({
      title: 'Fix login',
      project_path: '/srv/shop',
      metadata: { k: 1 },
    })
    expect(created.status).toBe(201)
    const c = created.data!
    expect(c).toMatchObject({
      title: 'Fix login',
      project_path: '/srv/shop',
      source: 'api',
      message_count: 0,
      cost_usd: 0,
    })
    expect(c.metadata).toEqual({ k: 1 })
    expect(c.ended_at).toBeNull()
    expect(c.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const got = await api.api.conversations({ id: c.id }).get()
    expect(got.data).toEqual(c)
  })

  it('answers 404 with the error body for an unknown id', async () => {
    const { api } = await makeApp()
    const r = await api.api.conversations({ id: 'nope' }).get()
    expect(r.status).toBe(404)
    if (r.error?.status === 404) {
      expect(r.error.value.code).toBe('NOT_FOUND')
      expect(r.error.value.error).toBe('conversation not found')
    }
  })

  it('rejects an empty title and an unknown field with 422 naming the field, storing nothing', async () => {
    const { raw, db } = await makeApp()
    const empty = await raw('/api/conversations', json('POST', { title: '' }))
    expect(empty.status).toBe(422)
    const e1 = await errorOf(empty)
    expect(e1.code).toBe('VALIDATION')
    expect(e1.error).toContain('title')
    const unknown = await raw('/api/conversations', json('POST', { title: 'ok', owner_id: 'x' }))
    expect(unknown.status).toBe(422)
    expect((await errorOf(unknown)).error).toContain('owner_id')
    expect(countRows(db, 'conversations')).toBe(0)
  })

  it('answers malformed JSON with 400 and stores nothing', async () => {
    const { raw, db } = await makeApp()
    const r = await raw('/api/conversations', json('POST', '{"title": "x"'))
    expect(r.status).toBe(400)
    expect((await errorOf(r)).code).toBe('BAD_REQUEST')
    expect(countRows(db, 'conversations')).toBe(0)
  })

  it('paginates with a stable order and a total', async () => {
    const { api } = await makeApp()
    const titles = ['delta', 'alpha', 'echo', 'charlie', 'bravo']
    for (const title of titles) await api.api.conversations.post({ title })
    const page = await api.api.conversations.get({
      query: { sort_by: 'title', sort_order: 'asc', limit: 2, offset: 2 },
    })
    expect(page.data?.total).toBe(5)
    expect(page.data?.limit).toBe(2)
    expect(page.data?.offset).toBe(2)
    expect(page.data?.items.map((c) => c.title)).toEqual(['charlie', 'delta'])
    const desc = await api.api.conversations.get({ query: { sort_by: 'title', sort_order: 'desc' } })
    expect(desc.data?.items.map((c) => c.title)).toEqual([...titles].sort().reverse())
    const all = await api.api.conversations.get({ query: {} })
    expect(all.data?.limit).toBe(50)
    expect(all.data?.items).toHaveLength(5)
  })

  it('sorts by created_at and updated_at', async () => {
    const { api } = await makeApp()
    const first = (await api.api.conversations.post({ title: 'first' })).data!
    await Bun.sleep(2)
    await api.api.conversations.post({ title: 'second' })
    await Bun.sleep(2)
    await api.api.conversations({ id: first.id }).patch({ title: 'first, edited' })
    const byCreated = await api.api.conversations.get({ query: { sort_by: 'created_at', sort_order: 'asc' } })
    expect(byCreated.data?.items.map((c) => c.title)).toEqual(['first, edited', 'second'])
    const byUpdated = await api.api.conversations.get({ query: { sort_by: 'updated_at' } })
    expect(byUpdated.data?.items.map((c) => c.title)).toEqual(['first, edited', 'second'])
  })

  it('filters by project path, title substring (wildcards literal) and date range', async () => {
    const { api } = await makeApp()
    await api.api.conversations.post({ title: 'Refactor billing', project_path: '/a' })
    await api.api.conversations.post({ title: 'billing 100% done', project_path: '/b' })
    await api.api.conversations.post({ title: 'Docs', project_path: '/a' })
    const byProject = await api.api.conversations.get({ query: { project_path: '/a' } })
    expect(byProject.data?.total).toBe(2)
    const byTitle = await api.api.conversations.get({ query: { q: 'BILLING' } })
    expect(byTitle.data?.total).toBe(2)
    const literalPercent = await api.api.conversations.get({ query: { q: '100%' } })
    expect(literalPercent.data?.items.map((c) => c.title)).toEqual(['billing 100% done'])
    const underscore = await api.api.conversations.get({ query: { q: 'Doc_' } })
    expect(underscore.data?.total).toBe(0)
    const future = new Date(Date.now() + 60_000).toISOString()
    const past = new Date(Date.now() - 60_000).toISOString()
    expect((await api.api.conversations.get({ query: { date_from: future } })).data?.total).toBe(0)
    expect((await api.api.conversations.get({ query: { date_from: past, date_to: future } })).data?.total).toBe(3)
    expect((await api.api.conversations.get({ query: { date_to: past } })).data?.total).toBe(0)
  })

  it("lists everyone's conversations for an admin, or one user's with owner_id; a member only ever their own", async () => {
    const { api, admin, alice, user } = await makeApp()
    await api.api.conversations.post({ title: 'alice 1' })
    await api.api.conversations.post({ title: 'alice 2' })
    const bob = await user('bob')
    await bob.api.api.conversations.post({ title: 'bob 1' })
    await admin.api.api.conversations.post({ title: 'admin 1' })
    const titles = (r: { data?: { items: { title: string | null }[] } | null }) =>
      r.data?.items.map((c) => c.title).sort()
    expect(titles(await admin.api.api.conversations.get({ query: {} }))).toEqual([
      'admin 1',
      'alice 1',
      'alice 2',
      'bob 1',
    ])
    expect(titles(await admin.api.api.conversations.get({ query: { owner_id: admin.id } }))).toEqual(['admin 1'])
    expect(titles(await admin.api.api.conversations.get({ query: { owner_id: alice.id } }))).toEqual([
      'alice 1',
      'alice 2',
    ])
    // a member's owner_id changes nothing: still only their own
    expect(titles(await bob.api.api.conversations.get({ query: { owner_id: alice.id } }))).toEqual(['bob 1'])
  })

  it('rejects bad list queries with 422 naming the parameter', async () => {
    const { raw } = await makeApp()
    for (const [query, field] of [
      ['limit=201', 'limit'],
      ['limit=1e9', 'limit'],
      ['limit=0', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=99999999999999999999', 'offset'], // beyond what SQLite's OFFSET takes as an integer
      ['offset=1e308', 'offset'],
      ['sort_by=password', 'sort_by'],
      ['sort_order=up', 'sort_order'],
      ['date_from=yesterday', 'date_from'],
    ]) {
      const r = await raw(`/api/conversations?${query}`)
      expect(r.status).toBe(422)
      const body = await errorOf(r)
      expect(body.code).toBe('VALIDATION')
      expect(body.error).toContain(field as string)
    }
  })

  it('updates title, project path and metadata, and rejects other fields without changing anything', async () => {
    const { api, raw } = await makeApp()
    const c = (await api.api.conversations.post({ title: 'old' })).data!
    const patched = await api.api
      .conversations({ id: c.id })
      .patch({ title: 'new', project_path: '/p', metadata: { a: 2 } })
    expect(patched.status).toBe(200)
    expect(patched.data).toMatchObject({ title: 'new', project_path: '/p', metadata: { a: 2 } })
    expect(Date.parse(patched.data!.updated_at)).toBeGreaterThanOrEqual(Date.parse(c.updated_at))

    for (const body of [{ source: 'claude-code' }, { message_count: 9 }, {}]) {
      const r = await raw(`/api/conversations/${c.id}`, json('PATCH', body))
      expect(r.status).toBe(422)
      expect((await errorOf(r)).code).toBe('VALIDATION')
    }
    const after = await api.api.conversations({ id: c.id }).get()
    expect(after.data).toEqual(patched.data!)
    const clear = await api.api.conversations({ id: c.id }).patch({ title: null })
    expect(clear.data?.title).toBeNull()
  })

  it('answers 404 when patching or deleting an unknown conversation', async () => {
    const { api } = await makeApp()
    expect((await api.api.conversations({ id: 'missing' }).patch({ title: 'x' })).status).toBe(404)
    expect((await api.api.conversations({ id: 'missing' }).delete()).status).toBe(404)
  })

  it('deletes a conversation with its messages and tool calls', async () => {
    const { api, db } = await makeApp()
    const keep = (await api.api.conversations.post({ title: 'keep' })).data!
    const c = (await api.api.conversations.post({ title: 'doomed' })).data!
    await api.api.conversations({ id: keep.id }).messages.post({ role: 'user', content: 'stays' })
    await api.api.conversations({ id: c.id }).messages.post({
      role: 'assistant',
      content: 'bye',
      tool_calls: [{ id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }],
    })
    const r = await api.api.conversations({ id: c.id }).delete()
    expect(r.status).toBe(204)
    expect((await api.api.conversations({ id: c.id }).get()).status).toBe(404)
    expect(countRows(db, 'messages')).toBe(1)
    expect(countRows(db, 'tool_calls')).toBe(0)
    expect(countRows(db, 'conversations')).toBe(1)
  })
})
