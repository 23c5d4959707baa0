import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { FIXTURES } from './fixture-expectations'
import { makeApp } from './helpers'

const session = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04'
const files = [
  join(FIXTURES, 'spotter', `${session}.jsonl`),
  join(FIXTURES, 'spotter', session, 'subagents', 'agent-aac57f5.jsonl'),
  join(FIXTURES, 'spotter', session, 'subagents', 'agent-acompact-946d2b.jsonl'),
]
const ctx = await makeApp()
for (const path of files) {
  const posted = await ctx.api.api.files.post({ file: new File([await Bun.file(path).bytes()], basename(path)) })
  for (let i = 0; i < 500; i++) {
    if ((await ctx.api.api.files({ id: posted.data!.id }).get()).data?.status === 'completed') break
    await Bun.sleep(10)
  }
}

/** The file's own lines, for expectations: uuid, parentUuid, subtype, agentId. */
type Line = {
  uuid?: string
  parentUuid?: string | null
  subtype?: string
  agentId?: string
  logicalParentUuid?: string
}
const lines: Line[] = files.flatMap((f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line),
)

async function wholeThread() {
  const items = []
  for (let offset = 0; ; offset += 200) {
    const page = await ctx.api.api.conversations({ id: session }).thread.get({ query: { limit: 200, offset } })
    items.push(...page.data!.items)
    if (offset + 200 >= page.data!.total) return { items, total: page.data!.total }
  }
}

describe('thread', () => {
  it('orders every message by its parent links, marks the compaction boundary and nests the subagent under its call', async () => {
    const { items, total } = await wholeThread()
    const withUuid = new Set(lines.filter((l) => l.uuid).map((l) => l.uuid))
    expect(total).toBe(withUuid.size)
    expect(new Set(items.map((i) => i.id)).size).toBe(total)
    const position = new Map(items.map((m, i) => [m.id, i]))

    // a parent always comes before its children within the same branch
    for (const l of lines) {
      if (!l.uuid || !l.parentUuid || !position.has(l.parentUuid)) continue
      expect(position.get(l.parentUuid)!).toBeLessThan(position.get(l.uuid)!)
    }
    // the compaction boundary is marked and follows the leaf it continues from
    const boundary = lines.find((l) => l.subtype === 'compact_boundary')!
    const marked = items.filter((i) => i.compaction_boundary)
    expect(marked.map((m) => m.id)).toEqual([boundary.uuid!])
    expect(position.get(boundary.logicalParentUuid!)!).toBeLessThan(position.get(boundary.uuid!)!)

    // the subagent aac57f5 sits right after the message whose tool call started it, one level deeper
    const agentLines = lines.filter((l) => l.agentId === 'aac57f5' && l.uuid)
    const agentItems = items.filter((i) => i.branch === 'aac57f5')
    expect(agentItems).toHaveLength(agentLines.length)
    expect(agentItems.every((i) => i.depth === 1 && i.spawned_by_tool_call === 'toolu_01Hf8v1Za7y4af8VUwSR4CXU')).toBe(
      true,
    )
    const first = position.get(agentItems[0]!.id)!
    const caller = items[first - 1]!
    expect(caller.tool_calls.map((c) => c.id)).toContain('toolu_01Hf8v1Za7y4af8VUwSR4CXU')
    expect(items.slice(first, first + agentItems.length).every((i) => i.branch === 'aac57f5')).toBe(true)

    // the compaction agent, spawned by no tool call, sits right after the message its first line hangs from
    const compactLines = lines.filter((l) => l.agentId === 'acompact-946d2b' && l.uuid)
    const compactItems = items.filter((i) => i.branch === 'acompact-946d2b')
    expect(compactItems.map((i) => [i.id, i.depth, i.spawned_by_tool_call])).toEqual(
      compactLines.map((l) => [l.uuid as string, 1, null]),
    )
    const hangsFrom = position.get(compactLines[0]!.parentUuid!)!
    expect(items[hangsFrom]!.branch).toBe('main')
    expect(position.get(compactItems[0]!.id)).toBe(hangsFrom + 1)
  })

  it('paginates with a stable total', async () => {
    const a = await ctx.api.api.conversations({ id: session }).thread.get({ query: { limit: 10, offset: 0 } })
    const b = await ctx.api.api.conversations({ id: session }).thread.get({ query: { limit: 10, offset: 10 } })
    expect(a.data!.total).toBe(b.data!.total)
    expect(new Set([...a.data!.items, ...b.data!.items].map((i) => i.id)).size).toBe(20)
  })
})

describe('export formats', () => {
  it('writes Markdown for a person: title, prompts, replies, folded tool calls', async () => {
    const r = await ctx.raw(`/api/conversations/${session}/export?format=markdown`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toContain('text/markdown')
    const md = await r.text()
    const c = (await ctx.api.api.conversations({ id: session }).get()).data!
    expect(md.startsWith(`# ${c.title}\n`)).toBe(true)
    expect(md).toContain('## User')
    expect(md).toContain('## Assistant (claude-opus-4-6)')
    expect(md).toContain('<details><summary>Tool: Bash')
    expect(md).not.toContain('"type":"progress"')
  })

  it('writes JSON with the conversation and its messages in thread order', async () => {
    const r = await ctx.raw(`/api/conversations/${session}/export?format=json`)
    const doc = (await r.json()) as { conversation: { id: string }; messages: { id: string }[] }
    expect(doc.conversation.id).toBe(session)
    const { items } = await wholeThread()
    expect(doc.messages.map((m) => m.id)).toEqual(items.map((i) => i.id))
  })

  it('exports a conversation made through the API as JSON lines of its messages', async () => {
    const c = (await ctx.api.api.conversations.post({ title: 'by hand' })).data!
    await ctx.api.api.conversations({ id: c.id }).messages.post({ role: 'user', content: 'hello' })
    const r = await ctx.raw(`/api/conversations/${c.id}/export?format=jsonl`)
    expect(r.headers.get('content-type')).toBe('application/x-ndjson')
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="${c.id}.jsonl"`)
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.text)).toEqual(['hello'])
    expect((await ctx.raw(`/api/conversations/${c.id}/export?format=pdf`)).status).toBe(422)
  })
})
