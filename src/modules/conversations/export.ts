import type { Actor } from '../../lib/actor'
import type { MessageDto } from '../messages/model'
import type { MessageService } from '../messages/service'
import type { ConversationDto } from './model'
import type { ConversationService } from './service'

type ThreadItem = MessageDto & { depth: number; branch: string }
const PAGE = 200
const RESULT_CHARS = 2000

const fence = (text: string, lang = '') => {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)))
  return `${ticks}${lang}\n${text}\n${ticks}`
}

/** A conversation as Markdown for a person: prompts and replies in thread order, tool calls folded. */
export function toMarkdown(c: ConversationDto, items: ThreadItem[]) {
  const out = [`# ${c.title ?? 'Untitled conversation'}`, '']
  const facts = [
    c.project_path && `Project: \`${c.project_path}\``,
    c.git_branch && `Branch: \`${c.git_branch}\``,
    c.models.length > 0 && `Models: ${c.models.join(', ')}`,
    `Started: ${c.started_at}${c.ended_at ? ` · Ended: ${c.ended_at}` : ''}`,
    `Messages: ${c.message_count} · Tokens: ${c.usage.total_tokens} · Cost: $${c.cost_usd.toFixed(4)}`,
  ].filter(Boolean)
  out.push(...facts.map((f) => `- ${f}`), '')
  for (const m of items) {
    if (!m.role || m.metadata.is_meta) continue
    const text = m.content === null ? '' : typeof m.content === 'string' ? m.content : textBlocks(m.content)
    const calls = m.tool_calls
    if (!text.trim() && calls.length === 0) continue
    const who =
      m.role === 'user' ? 'User' : m.role === 'assistant' ? `Assistant${m.model ? ` (${m.model})` : ''}` : 'System'
    const where = m.depth > 0 ? ` · subagent ${m.branch}` : ''
    out.push(`${'#'.repeat(Math.min(2 + m.depth, 6))} ${who}${where} — ${m.timestamp}`, '')
    if (text.trim()) out.push(text.trim(), '')
    for (const call of calls) {
      out.push(`<details><summary>Tool: ${call.name}${call.is_error ? ' (error)' : ''}</summary>`, '')
      out.push(fence(JSON.stringify(call.input, null, 2), 'json'), '')
      if (call.result)
        out.push(fence(call.result.length > RESULT_CHARS ? `${call.result.slice(0, RESULT_CHARS)}…` : call.result), '')
      out.push('</details>', '')
    }
  }
  return `${out.join('\n').trimEnd()}\n`
}

/** Text and thinking blocks only: tool use and results are rendered from the tool calls. */
function textBlocks(content: unknown) {
  if (!Array.isArray(content)) return ''
  return content
    .map((b) =>
      b?.type === 'text'
        ? b.text
        : b?.type === 'thinking'
          ? `> _thinking:_ ${String(b.thinking).replaceAll('\n', '\n> ')}`
          : '',
    )
    .filter(Boolean)
    .join('\n\n')
}

/** Reads a whole conversation in thread order. */
export async function wholeThread(messages: MessageService, actor: Actor, id: string) {
  const items: ThreadItem[] = []
  for (let offset = 0; ; offset += PAGE) {
    const page = await messages.thread(actor, id, PAGE, offset)
    items.push(...page.items)
    if (offset + PAGE >= page.total) return items
  }
}

export async function exportDocument(
  conversations: ConversationService,
  messages: MessageService,
  actor: Actor,
  id: string,
  format: 'markdown' | 'json' | 'jsonl',
) {
  const conversation = await conversations.get(actor, id)
  const items = await wholeThread(messages, actor, id)
  if (format === 'markdown') return toMarkdown(conversation, items)
  if (format === 'json') return JSON.stringify({ conversation, messages: items })
  return items.map((m) => `${JSON.stringify(m)}\n`).join('')
}
