import { describe, expect, it } from 'bun:test'
import { countRows, errorOf, json, makeApp } from './helpers'

const setup = async () => {
  const ctx = await makeApp()
  const conversation = (await ctx.api.api.conversations.post({ title: 'session' })).data!
  return { ...ctx, conversation, messages: ctx.api.api.conversations({ id: conversation.id }).messages }
}

describe('messages', () => {
  it('adds messages and keeps the conversation totals, cost, models and time span exact', async () => {
    const { api, conversation, messages } = await setup()
    const user = await messages.post({
      role: 'user',
      content: 'Why does the test fail?',
      timestamp: '2026-03-01T10:00:00.000Z',
    })
    expect(user.status).toBe(201)
    expect(user.data).toMatchObject({ role: 'user', type: 'user', text: 'Why does the test fail?', cost_usd: 0 })
    const reply = await messages.post({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'look at the timer' },
        { type: 'text', text: 'It waits on a timer.' },
      ],
      model: 'claude-sonnet-4-5-20250929',
      usage: {
        input_tokens: 100_000,
        output_tokens: 100_000,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
      timestamp: '2026-03-01T10:00:05.000Z',
    })
    expect(reply.status).toBe(201)
    // Sonnet 4.5 list price: $3 per million input tokens, $15 per million output tokens.
    expect(reply.data!.cost_usd).toBeCloseTo(0.3 + 1.5, 10)
    expect(reply.data!.text).toBe('look at the timer\nIt waits on a timer.')
    await messages.post({
      role: 'assistant',
      content: 'cached',
      model: 'claude-haiku-4-5-20251001',
      usage: { input_tokens: 10, output_tokens: 20, cache_creation_input_tokens: 30, cache_read_input_tokens: 40 },
      timestamp: '2026-03-01T10:00:09.000Z',
    })
    const c = (await api.api.conversations({ id: conversation.id }).get()).data!
    expect(c.message_count).toBe(3)
    expect(c.usage).toEqual({
      input_tokens: 100_010,
      output_tokens: 100_020,
      cache_creation_input_tokens: 30,
      cache_read_input_tokens: 40,
      total_tokens: 100_010 + 100_020 + 30 + 40,
    })
    // Haiku 4.5: $1 in, $5 out, $1.25 cache write, $0.10 cache read per million.
    const haiku = (10 * 1 + 20 * 5 + 30 * 1.25 + 40 * 0.1) / 1_000_000
    expect(c.cost_usd).toBeCloseTo(1.8 + haiku, 10)
    expect(c.models).toEqual(['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929'])
    expect(c.started_at).toBe('2026-03-01T10:00:00.000Z')
    expect(c.ended_at).toBe('2026-03-01T10:00:09.000Z')
    expect(Date.parse(c.updated_at)).toBeGreaterThanOrEqual(Date.parse(conversation.updated_at))
  })

  it('lists messages oldest first, then in arrival order, with pagination and a total', async () => {
    const { messages } = await setup()
    const same = '2026-03-01T10:00:00.000Z'
    await messages.post({ role: 'user', content: 'third', timestamp: '2026-03-01T10:00:02.000Z' })
    await messages.post({ role: 'user', content: 'first', timestamp: same })
    await messages.post({ role: 'assistant', content: 'second', timestamp: same })
    const all = await messages.get({ query: {} })
    expect(all.data?.items.map((m) => m.text)).toEqual(['first', 'second', 'third'])
    expect(all.data?.total).toBe(3)
    const page = await messages.get({ query: { limit: 1, offset: 1 } })
    expect(page.data?.items.map((m) => m.text)).toEqual(['second'])
    expect(page.data?.total).toBe(3)
  })

  it('stores tool calls with their duration and returns them with the message', async () => {
    const { messages, api } = await setup()
    const m = await messages.post({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } }],
      tool_calls: [
        {
          id: 'toolu_01',
          name: 'Bash',
          input: { command: 'ls' },
          result: 'README.md',
          started_at: '2026-03-01T10:00:00.000Z',
          ended_at: '2026-03-01T10:00:01.250Z',
        },
        { id: 'toolu_02', name: 'Read', is_error: true, result: 'no such file' },
      ],
    })
    expect(m.status).toBe(201)
    expect(m.data!.tool_calls).toHaveLength(2)
    const bash = m.data!.tool_calls.find((c) => c.id === 'toolu_01')!
    expect(bash).toMatchObject({
      name: 'Bash',
      input: { command: 'ls' },
      result: 'README.md',
      is_error: false,
      duration_ms: 1250,
    })
    const read = m.data!.tool_calls.find((c) => c.id === 'toolu_02')!
    expect(read).toMatchObject({ is_error: true, duration_ms: null, started_at: null })
    const one = await api.api.conversations({ id: m.data!.conversation_id }).messages({ messageId: m.data!.id }).get()
    expect(one.data?.tool_calls.map((c) => c.id).sort()).toEqual(['toolu_01', 'toolu_02'])
  })

  it('starts tool calls from tool_use blocks and completes them from tool_result blocks, as a transcript does', async () => {
    const { messages, api, raw, conversation } = await setup()
    const asked = await messages.post({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Listing the files' },
        { type: 'tool_use', id: 'toolu_ls', name: 'Bash', input: { command: 'ls' } },
        { type: 'tool_use', id: 'toolu_cat', name: 'Read', input: { file_path: '/nope' } },
      ],
      timestamp: '2026-03-01T10:00:00.000Z',
    })
    expect(asked.status).toBe(201)
    expect(asked.data!.tool_calls.map((c) => [c.id, c.name, c.result, c.started_at])).toEqual([
      ['toolu_ls', 'Bash', null, '2026-03-01T10:00:00.000Z'],
      ['toolu_cat', 'Read', null, '2026-03-01T10:00:00.000Z'],
    ])
    const answered = await messages.post({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_ls', content: 'a.txt\nb.txt' },
        { type: 'tool_result', tool_use_id: 'toolu_cat', content: [{ type: 'text', text: 'ENOENT' }], is_error: true },
      ],
      timestamp: '2026-03-01T10:00:02.500Z',
    })
    expect(answered.status).toBe(201)
    const one = await messages({ messageId: asked.data!.id }).get()
    expect(one.data?.tool_calls.map((c) => [c.id, c.result, c.is_error, c.duration_ms])).toEqual([
      ['toolu_ls', 'a.txt\nb.txt', false, 2500],
      ['toolu_cat', 'ENOENT', true, 2500],
    ])
    const tools = await api.api.analytics.tools.get({ query: { conversation_id: conversation.id } })
    expect(tools.data?.items.map((t) => [t.name, t.calls, t.errors])).toEqual([
      ['Bash', 1, 0],
      ['Read', 1, 1],
    ])
    const markdown = await (await raw(`/api/conversations/${conversation.id}/export?format=markdown`)).text()
    expect(markdown).toContain('<summary>Tool: Bash</summary>')
    expect(markdown).toContain('<summary>Tool: Read (error)</summary>')
    // the same tool_use id again is a conflict, as a declared tool call is
    const again = await messages.post({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_ls', name: 'Bash', input: {} }],
    })
    expect(again.status).toBe(409)
  })

  it('refuses a tool call id already used in the conversation with 409, storing nothing', async () => {
    const { messages, db } = await setup()
    await messages.post({ role: 'assistant', content: 'a', tool_calls: [{ id: 'toolu_x', name: 'Bash' }] })
    const again = await messages.post({
      role: 'assistant',
      content: 'b',
      tool_calls: [{ id: 'toolu_x', name: 'Bash' }],
    })
    expect(again.status).toBe(409)
    if (again.error?.status === 409) expect(again.error.value.code).toBe('CONFLICT')
    const twice = await messages.post({
      role: 'assistant',
      content: 'c',
      tool_calls: [
        { id: 'toolu_y', name: 'Bash' },
        { id: 'toolu_y', name: 'Bash' },
      ],
    })
    expect(twice.status).toBe(422)
    expect(countRows(db, 'messages')).toBe(1)
    expect(countRows(db, 'tool_calls')).toBe(1)
  })

  it('rejects bad messages with 422 naming the field and leaves the conversation unchanged', async () => {
    const { raw, api, conversation, db } = await setup()
    const path = `/api/conversations/${conversation.id}/messages`
    for (const [body, field] of [
      [{ role: 'robot', content: 'x' }, 'role'],
      [{ role: 'user' }, 'content'],
      [{ role: 'user', content: [] }, 'content'],
      [{ role: 'user', content: [{ type: 'text' }] }, 'content'],
      [{ role: 'user', content: 'x', usage: { input_tokens: -1 } }, 'usage'],
      [{ role: 'user', content: 'x', usage: { input_tokens: 1.5 } }, 'usage'],
      [{ role: 'user', content: 'x', usage: { bogus_tokens: 1 } }, 'usage'],
      [{ role: 'user', content: 'x', parent_id: 'nope' }, 'parent_id'],
      [{ role: 'user', content: 'x', timestamp: 'soon' }, 'timestamp'],
      [{ role: 'user', content: 'x', cost_usd: 5 }, 'cost_usd'],
    ] as const) {
      const r = await raw(path, json('POST', body))
      expect(r.status).toBe(422)
      const e = await errorOf(r)
      expect(e.code).toBe('VALIDATION')
      expect(e.error).toContain(field)
    }
    const c = (await api.api.conversations({ id: conversation.id }).get()).data!
    expect(c.message_count).toBe(0)
    expect(c.updated_at).toBe(conversation.updated_at)
    expect(countRows(db, 'messages')).toBe(0)
  })

  it('answers 404 for messages of an unknown conversation and for an unknown message', async () => {
    const { api, conversation } = await setup()
    const missing = api.api.conversations({ id: 'missing' }).messages
    expect((await missing.get({ query: {} })).status).toBe(404)
    expect((await missing.post({ role: 'user', content: 'x' })).status).toBe(404)
    const r = await api.api.conversations({ id: conversation.id }).messages({ messageId: 'missing' }).get()
    expect(r.status).toBe(404)
    if (r.error?.status === 404) expect(r.error.value.error).toBe('message not found')
    expect(
      (await api.api.conversations({ id: conversation.id }).messages({ messageId: 'missing' }).delete()).status,
    ).toBe(404)
  })

  it('deletes a message and recomputes the totals in the same transaction', async () => {
    const { api, conversation, messages, db } = await setup()
    const a = (
      await messages.post({
        role: 'assistant',
        content: 'a',
        model: 'claude-opus-4-1-20250805',
        usage: { input_tokens: 100, output_tokens: 10 },
        tool_calls: [{ id: 'toolu_a', name: 'Bash' }],
      })
    ).data!
    await messages.post({
      role: 'assistant',
      content: 'b',
      model: 'claude-sonnet-4-5',
      usage: { input_tokens: 7, output_tokens: 3 },
    })
    const r = await api.api.conversations({ id: conversation.id }).messages({ messageId: a.id }).delete()
    expect(r.status).toBe(204)
    const c = (await api.api.conversations({ id: conversation.id }).get()).data!
    expect(c.message_count).toBe(1)
    expect(c.usage.input_tokens).toBe(7)
    expect(c.usage.output_tokens).toBe(3)
    expect(c.models).toEqual(['claude-sonnet-4-5'])
    expect(c.cost_usd).toBeCloseTo((7 * 3 + 3 * 15) / 1_000_000, 12)
    expect(countRows(db, 'tool_calls')).toBe(0)
  })
})
