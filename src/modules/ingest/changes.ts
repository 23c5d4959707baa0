import type { NewLiveEvent } from '../../lib/bus'

/** Characters of a message's text that live subscribers get with it; `GET …/messages` has the whole message. */
export const EXCERPT_CHARS = 200

/** A message an import added, as live subscribers are told of it: enough to show it in a feed. */
export type MessageSummary = {
  id: string
  parent_id: string | null
  type: string
  role: string | null
  model: string | null
  is_sidechain: boolean
  timestamp: string
  /** the first 200 characters of its text */
  excerpt: string
}

/** A tool call an import started or completed, in the state that import left it. */
export type ToolCallSummary = {
  id: string
  message_id: string | null
  name: string
  status: 'started' | 'completed'
  is_error: boolean
  duration_ms: number | null
}

/** What one write (an import's chunk, or another process's commits) added to one conversation. */
export type ConversationChange = { messages: MessageSummary[]; toolCalls: ToolCallSummary[] }

/** A tool call's row as the repository reads it back. */
export type ToolCallState = {
  id: string
  messageId: string | null
  name: string
  completed: number
  isError: number
  durationMs: number | null
}

/** The first EXCERPT_CHARS UTF-16 units, never ending on half a surrogate pair. */
export function excerptOf(text: string) {
  if (text.length <= EXCERPT_CHARS) return text
  const cut = text.slice(0, EXCERPT_CHARS)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

export function messageSummary(m: {
  id: string
  parentId: string | null
  type: string
  role: string | null
  model: string | null
  isSidechain: boolean
  timestamp: number
  text: string
}): MessageSummary {
  return {
    id: m.id,
    parent_id: m.parentId,
    type: m.type,
    role: m.role,
    model: m.model,
    is_sidechain: m.isSidechain,
    timestamp: new Date(m.timestamp).toISOString(),
    excerpt: excerptOf(m.text),
  }
}

export const toolCallSummary = (c: ToolCallState): ToolCallSummary => ({
  id: c.id,
  message_id: c.messageId,
  name: c.name,
  status: c.completed ? 'completed' : 'started',
  is_error: c.isError === 1,
  duration_ms: c.durationMs,
})

/** The one event an import publishes per conversation it touched, with what it added there. */
export function conversationUpdated(
  ownerId: string,
  conversationId: string,
  source: string,
  change: ConversationChange = { messages: [], toolCalls: [] },
): NewLiveEvent {
  return {
    type: 'conversation.updated',
    ownerId,
    sessionId: conversationId,
    data: { conversation_id: conversationId, source, messages: change.messages, tool_calls: change.toolCalls },
  }
}
