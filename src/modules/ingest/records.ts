import { contentText } from '../../lib/content'
import type { Usage } from '../../lib/pricing'

/**
 * Typed views of the Claude Code transcript lines described in docs/CLAUDE_CODE_DATA.md. They document the shapes
 * seen in real files (1.0.x to 2.1.x); every field is optional in practice, so `normalizeRecord` reads them
 * defensively and never trusts these types.
 */

export type TextBlock = { type: 'text'; text: string }
export type ThinkingBlock = { type: 'thinking'; thinking: string; signature?: string }
export type ToolUseBlock = { type: 'tool_use'; id: string; name: string; input: unknown }
export type ToolResultBlock = {
  type: 'tool_result'
  tool_use_id: string
  content?: string | Array<TextBlock | ImageBlock>
  is_error?: boolean
}
export type ImageBlock = { type: 'image'; source: { type: 'base64'; media_type: string; data: string } }
export type ContentBlock = TextBlock | ThinkingBlock | ToolUseBlock | ToolResultBlock | ImageBlock

/** The usage object of an assistant message, as Anthropic's API returns it. */
export type RawUsage = {
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number
  cache_read_input_tokens?: number
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number }
  service_tier?: string
  server_tool_use?: Record<string, number>
  speed?: string
}

/** Fields found on most lines. */
export type CommonFields = {
  uuid?: string
  parentUuid?: string | null
  isSidechain?: boolean
  userType?: string
  cwd?: string
  sessionId?: string
  version?: string
  gitBranch?: string
  timestamp?: string
  slug?: string
  agentId?: string
  entrypoint?: string
}

export type UserLine = CommonFields & {
  type: 'user'
  message: { role: 'user'; content: string | ContentBlock[] }
  toolUseResult?: unknown
  isMeta?: boolean
  isCompactSummary?: boolean
  sourceToolAssistantUUID?: string
  todos?: unknown[]
  permissionMode?: string
}

export type AssistantLine = CommonFields & {
  type: 'assistant'
  requestId?: string
  message: {
    id: string
    type?: 'message'
    role: 'assistant'
    model: string
    content: ContentBlock[]
    stop_reason?: string | null
    usage?: RawUsage
  }
  isApiErrorMessage?: boolean
  error?: unknown
  apiErrorStatus?: number
  /** legacy (1.0.x) */
  costUSD?: number
}

export type SystemSubtype =
  | 'compact_boundary'
  | 'stop_hook_summary'
  | 'turn_duration'
  | 'local_command'
  | 'api_error'
  | 'microcompact_boundary'
  | 'away_summary'

export type SystemLine = CommonFields & {
  type: 'system'
  subtype?: SystemSubtype | (string & {})
  content?: string
  level?: string
  isMeta?: boolean
  logicalParentUuid?: string
  compactMetadata?: { trigger?: string; preTokens?: number }
  durationMs?: number
}

export type SummaryLine = { type: 'summary'; summary: string; leafUuid?: string }

export type ProgressLine = CommonFields & {
  type: 'progress'
  /** `agent_progress` embeds copies of subagent lines (usage included: never count it) */
  data: { type: 'hook_progress' | 'bash_progress' | 'agent_progress' | 'waiting_for_task' | (string & {}) }
  toolUseID?: string
  parentToolUseID?: string
}

export type FileHistorySnapshotLine = {
  type: 'file-history-snapshot'
  messageId?: string
  snapshot?: unknown
  isSnapshotUpdate?: boolean
}

export type QueueOperationLine = {
  type: 'queue-operation'
  operation?: 'enqueue' | 'dequeue' | 'remove' | 'popAll' | (string & {})
  content?: string
  sessionId?: string
  timestamp?: string
}

export type AttachmentLine = CommonFields & { type: 'attachment'; attachment?: unknown }
export type AiTitleLine = { type: 'ai-title'; aiTitle?: string; sessionId?: string }
export type CustomTitleLine = { type: 'custom-title'; customTitle?: string; sessionId?: string }

export type TranscriptLine =
  | UserLine
  | AssistantLine
  | SystemLine
  | SummaryLine
  | ProgressLine
  | FileHistorySnapshotLine
  | QueueOperationLine
  | AttachmentLine
  | AiTitleLine
  | CustomTitleLine

export type LineKind = TranscriptLine['type'] | 'unknown'

const KINDS = new Set<string>([
  'user',
  'assistant',
  'system',
  'summary',
  'progress',
  'file-history-snapshot',
  'queue-operation',
  'attachment',
  'ai-title',
  'custom-title',
])

export type Role = 'user' | 'assistant' | 'system'

export type ToolUse = { id: string; name: string; input: unknown }
export type ToolResult = { toolUseId: string; excerpt: string; isError: boolean }
export type Title = { kind: 'summary' | 'ai-title' | 'custom-title'; title: string; leafUuid: string | null }

/** One transcript line, mapped for storage. The caller keeps the raw line beside it, so nothing is lost. */
export type NormalizedRecord = {
  /** the line's `type` as written, or 'unknown' when it has none */
  type: string
  /** the known line type, or 'unknown' for a missing or newer type */
  kind: LineKind
  /** `subtype` of a system line; `data.type` of a progress line */
  subtype: string | null
  uuid: string | null
  parentUuid: string | null
  logicalParentUuid: string | null
  sessionId: string | null
  /** null for lines that are not messages (progress, summary, snapshots, queue operations, titles, ...) */
  role: Role | null
  /** message.content as given (a system line's `content`); null when absent */
  content: unknown
  /** plain-text projection of `content` */
  text: string
  model: string | null
  /** message.id (the API response id, shared by every line of a streamed response) */
  messageId: string | null
  requestId: string | null
  /** message.usage, when the line has one; see usage.ts for which lines count */
  usage: Usage | null
  /** the top-level `costUSD` of old (1.0.x) lines, as written; null when absent */
  costUsd: number | null
  isSidechain: boolean
  agentId: string | null
  isMeta: boolean
  isCompactSummary: boolean
  isApiError: boolean
  cwd: string | null
  gitBranch: string | null
  version: string | null
  /** epoch milliseconds, or null when missing or unreadable */
  timestamp: number | null
  toolUses: ToolUse[]
  toolResults: ToolResult[]
  title: Title | null
  /** a subagent and the tool call that started it: from an agent_progress line or a Task/Agent tool result */
  agentLink: { agentId: string; toolUseId: string } | null
}

/** Characters of a tool result's text kept in `ToolResult.excerpt`. */
export const TOOL_RESULT_EXCERPT_CHARS = 2000

const SYNTHETIC_MODEL = '<synthetic>'
export const isSyntheticModel = (model: string | null) => model === SYNTHETIC_MODEL

type Json = Record<string, unknown>
const asObject = (v: unknown): Json | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null
const asString = (v: unknown): string | null => (typeof v === 'string' ? v : null)
// whole numbers: a fraction would leave float dust in every sum
const tokens = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0)

/** Epoch ms of an ISO-8601 string (or a number already in ms), whole and from 1970 on; null when unreadable. */
export function parseTimestamp(v: unknown): number | null {
  const ms = typeof v === 'number' ? Math.round(v) : typeof v === 'string' ? Date.parse(v) : Number.NaN
  return Number.isFinite(ms) && ms >= 0 ? ms : null
}

/** The four token kinds (and the 1-hour cache-write share when given) of a usage object; null when there is none. */
export function readUsage(v: unknown): Usage | null {
  const u = asObject(v)
  if (!u) return null
  const usage: Usage = {
    inputTokens: tokens(u.input_tokens),
    outputTokens: tokens(u.output_tokens),
    cacheCreationTokens: tokens(u.cache_creation_input_tokens),
    cacheReadTokens: tokens(u.cache_read_input_tokens),
  }
  const creation = asObject(u.cache_creation)
  if (creation && typeof creation.ephemeral_1h_input_tokens === 'number')
    usage.cacheCreation1hTokens = tokens(creation.ephemeral_1h_input_tokens)
  return usage
}

const excerpt = (content: unknown, max: number) => {
  const text = contentText(content)
  return text.length > max ? text.slice(0, max) : text
}

/** The tool calls a message's content starts (tool_use blocks) and completes (tool_result blocks). */
export function toolBlocksOf(content: unknown, excerptChars = TOOL_RESULT_EXCERPT_CHARS) {
  const toolUses: ToolUse[] = []
  const toolResults: ToolResult[] = []
  if (Array.isArray(content)) {
    for (const item of content) {
      const b = asObject(item)
      if (!b) continue
      if (b.type === 'tool_use' && typeof b.id === 'string')
        toolUses.push({ id: b.id, name: asString(b.name) ?? '', input: b.input ?? null })
      else if (b.type === 'tool_result' && typeof b.tool_use_id === 'string')
        toolResults.push({
          toolUseId: b.tool_use_id,
          excerpt: excerpt(b.content, excerptChars),
          isError: b.is_error === true,
        })
    }
  }
  return { toolUses, toolResults }
}

function titleOf(kind: LineKind, line: Json): Title | null {
  let title: string | null = null
  if (kind === 'summary') title = asString(line.summary)
  else if (kind === 'ai-title') title = asString(line.aiTitle) ?? asString(line.title)
  else if (kind === 'custom-title') title = asString(line.customTitle) ?? asString(line.title)
  else return null
  if (title === null) return null
  return { kind, title, leafUuid: asString(line.leafUuid) }
}

function roleOf(kind: LineKind, message: Json | null): Role | null {
  if (kind === 'user' || kind === 'assistant' || kind === 'system') return kind
  // lines with no type but a message (old or hand-made files) are still messages
  if (kind === 'unknown' && message && (message.role === 'user' || message.role === 'assistant')) return message.role
  return null
}

/** message.content as given, else a system line's `content`; null when absent. */
function contentOfLine(line: Json, kind: LineKind, message: Json | null): unknown {
  if (message && message.content !== undefined) return message.content
  if (kind === 'system' && line.content !== undefined) return line.content
  return null
}

const utf8 = new TextDecoder()

/** A stored transcript line (its exact bytes) parsed again; null when it is not a JSON object. */
export function parseRawLine(raw: Uint8Array): Record<string, unknown> | null {
  try {
    // the decoder drops a leading BOM; JSON.parse ignores the terminator
    return asObject(JSON.parse(utf8.decode(raw)))
  } catch {
    return null
  }
}

/** The content `normalizeRecord` gives for a stored transcript line, read again from its bytes. */
export function contentOfRawLine(raw: Uint8Array): unknown {
  const line = parseRawLine(raw)
  if (!line) return null
  const type = asString(line.type) ?? 'unknown'
  return contentOfLine(line, KINDS.has(type) ? (type as LineKind) : 'unknown', asObject(line.message))
}

/**
 * Maps one parsed transcript line to a record for storage. Total: any JSON object gives a record, whatever its type
 * or however its fields are spelt; missing or mistyped fields become null, false or empty.
 */
export function normalizeRecord(
  line: Record<string, unknown>,
  options: { excerptChars?: number } = {},
): NormalizedRecord {
  const type = asString(line.type) ?? 'unknown'
  const kind: LineKind = KINDS.has(type) ? (type as LineKind) : 'unknown'
  const message = asObject(line.message)
  const role = roleOf(kind, message)
  const data = asObject(line.data)

  const content = contentOfLine(line, kind, message)

  const { toolUses, toolResults } = toolBlocksOf(content, options.excerptChars)

  return {
    type,
    kind,
    subtype: asString(line.subtype) ?? (kind === 'progress' ? asString(data?.type) : null),
    uuid: asString(line.uuid),
    parentUuid: asString(line.parentUuid),
    logicalParentUuid: asString(line.logicalParentUuid),
    sessionId: asString(line.sessionId),
    role,
    content,
    text: role ? contentText(content) : '',
    model: asString(message?.model),
    messageId: asString(message?.id),
    requestId: asString(line.requestId),
    usage: readUsage(message?.usage),
    costUsd: typeof line.costUSD === 'number' && Number.isFinite(line.costUSD) ? line.costUSD : null,
    isSidechain: line.isSidechain === true,
    agentId: asString(line.agentId),
    isMeta: line.isMeta === true,
    isCompactSummary: line.isCompactSummary === true,
    isApiError: line.isApiErrorMessage === true,
    cwd: asString(line.cwd),
    gitBranch: asString(line.gitBranch),
    version: asString(line.version),
    timestamp: parseTimestamp(line.timestamp),
    toolUses,
    toolResults,
    title: titleOf(kind, line),
    agentLink: agentLinkOf(line, data, toolResults),
  }
}

function agentLinkOf(line: Json, data: Json | null, toolResults: ToolResult[]) {
  const progressAgent = asString(data?.agentId)
  const spawnedBy = asString(line.parentToolUseID)
  if (data?.type === 'agent_progress' && progressAgent && spawnedBy)
    return { agentId: progressAgent, toolUseId: spawnedBy }
  const resultAgent = asString(asObject(line.toolUseResult)?.agentId)
  const [result] = toolResults
  if (resultAgent && result && toolResults.length === 1) return { agentId: resultAgent, toolUseId: result.toolUseId }
  return null
}
