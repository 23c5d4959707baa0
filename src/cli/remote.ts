import { CliError, messageOf } from './errors'
import type { SkippedLine, Target, Totals } from './target'

const POLL_FIRST_MS = 50
const POLL_MAX_MS = 1000
const POLL_NETWORK_FAILURES = 5

/** The parts of GET /api/files/{id} the CLI reads; anything else the server sends is ignored. */
type FileStatus = {
  id: string
  status: string
  bytes_done?: number
  lines_done?: number
  messages_added?: number
  tool_calls_added?: number
  lines_skipped?: number
  error?: string | null
  conversation_ids?: string[]
  errors?: { line: number; reason: string; message: string }[]
}

type ConversationUsage = {
  usage?: {
    input_tokens: number
    output_tokens: number
    cache_creation_input_tokens: number
    cache_read_input_tokens: number
  }
  cost_usd?: number
}

/** The error body's message when the server sent one, else the status line. */
async function failureOf(res: Response) {
  const text = await res.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown }
    if (typeof body.error === 'string') return `${res.status} ${body.code ?? ''}: ${body.error}`.replace(' :', ':')
  } catch {}
  return `${res.status} ${res.statusText}`.trim()
}

/**
 * Sends transcripts to a remote Observatory: POST /api/files (multipart `file` + `source_key`, the absolute client
 * path, so the server continues from what it already has), then polls GET /api/files/{id} until it is done.
 */
export async function openRemoteTarget({
  server,
  apiKey,
  fetch = globalThis.fetch,
}: {
  server: string
  apiKey: string
  fetch?: typeof globalThis.fetch
}): Promise<Target> {
  let base: string
  try {
    const url = new URL(server)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)')
    base = url.href.replace(/\/+$/, '')
  } catch {
    throw new CliError(`--server: "${server}" is not an http(s) URL such as https://observatory.example.com`)
  }
  const headers = { 'x-api-key': apiKey }
  const call = async (path: string, init: RequestInit = {}) => {
    try {
      return await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers ?? {}) } })
    } catch (e) {
      throw new CliError(`cannot reach ${base}: ${messageOf(e)}`)
    }
  }
  // A fatal answer for every file: say it once and stop, rather than failing each file the same way.
  const refuse = async (res: Response) => {
    if (res.status === 401 || res.status === 403)
      throw new CliError(`${base} refused the API key: ${await failureOf(res)}`)
  }

  const me = await call('/api/auth/me')
  await refuse(me)
  if (!me.ok) throw new CliError(`${base}: ${await failureOf(me)}`)
  const owner = ((await me.json()) as { email?: string }).email ?? null

  return {
    mode: 'remote',
    destination: base,
    owner,
    async importFile(file, onProgress) {
      // Send what is there now: a fixed-length slice, so a file growing during the upload stays consistent.
      const size = Bun.file(file.path).size
      const form = new FormData()
      form.append('file', Bun.file(file.path).slice(0, size), file.displayName)
      form.append('source_key', file.path)
      const posted = await call('/api/files', { method: 'POST', body: form })
      await refuse(posted)
      if (posted.status === 404) throw new CliError(`${base} has no POST /api/files route: is it an Observatory server?`)
      if (!posted.ok) throw new Error(`upload refused: ${await failureOf(posted)}`)
      let status = (await posted.json()) as FileStatus
      let wait = POLL_FIRST_MS
      let failures = 0
      while (status.status !== 'completed' && status.status !== 'error') {
        await onProgress({ bytesDone: status.bytes_done ?? 0, bytesTotal: size, linesDone: status.lines_done ?? 0 })
        await Bun.sleep(wait)
        wait = Math.min(POLL_MAX_MS, wait * 2)
        let res: Response
        try {
          res = await call(`/api/files/${encodeURIComponent(status.id)}`)
        } catch (e) {
          if (++failures >= POLL_NETWORK_FAILURES) throw e
          continue
        }
        await refuse(res)
        if (!res.ok) throw new Error(`status of upload ${status.id}: ${await failureOf(res)}`)
        status = (await res.json()) as FileStatus
      }
      if (status.status === 'error') throw new Error(`the server could not import it: ${status.error ?? 'unknown error'}`)
      const skipped: SkippedLine[] = (status.errors ?? []).map((e) => ({
        line: e.line,
        reason: e.reason,
        message: e.message,
      }))
      return {
        bytesDone: status.bytes_done ?? size,
        bytesTotal: size,
        linesDone: status.lines_done ?? 0,
        messagesAdded: status.messages_added ?? 0,
        toolCallsAdded: status.tool_calls_added ?? 0,
        linesSkipped: status.lines_skipped ?? 0,
        conversationIds: Array.isArray(status.conversation_ids) ? status.conversation_ids : null,
        skipped,
      }
    },
    async totals(ids) {
      const totals: Totals = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, costUsd: 0 }
      for (const id of ids) {
        const res = await call(`/api/conversations/${encodeURIComponent(id)}`)
        if (!res.ok) return null
        const c = (await res.json()) as ConversationUsage
        if (!c.usage) return null
        totals.inputTokens += c.usage.input_tokens
        totals.outputTokens += c.usage.output_tokens
        totals.cacheCreationTokens += c.usage.cache_creation_input_tokens
        totals.cacheReadTokens += c.usage.cache_read_input_tokens
        totals.costUsd += c.cost_usd ?? 0
      }
      return totals
    },
    async close() {},
  }
}
