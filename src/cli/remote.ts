import { createClient } from '../client'
import { fingerprintOf } from '../modules/ingest/fingerprint'
import { CliError, messageOf, Unreachable } from './errors'
import { type Target, type Totals, thisMachine } from './target'

const POLL_FIRST_MS = 50
const POLL_MAX_MS = 1000
const POLL_NETWORK_FAILURES = 5

type Failure = { status: number; value: unknown } | null
const LF = 0x0a
const TAIL_READ = 64 * 1024
/** bad lines of an upload shown by name (the rest are counted) */
const SKIPPED_SHOWN = 20

/**
 * Where what is sent of a file from `from` ends: after its last whole line, so a line being written waits for its
 * end. A last line without a newline that reads as JSON is whole already (a file that ends without one) and goes too.
 */
async function sendableEnd(file: ReturnType<typeof Bun.file>, from: number, size: number) {
  let lineEnd = from
  for (let end = size; end > from; end -= TAIL_READ) {
    const start = Math.max(from, end - TAIL_READ)
    const lf = (await file.slice(start, end).bytes()).lastIndexOf(LF)
    if (lf !== -1) {
      lineEnd = start + lf + 1
      break
    }
  }
  if (lineEnd === size) return size
  try {
    JSON.parse(await file.slice(lineEnd, size).text())
    return size
  } catch {
    return lineEnd
  }
}

/** The error body's message when the server sent one, else the status. */
function failureOf(error: Failure) {
  if (!error) return 'no answer'
  const body = error.value as { error?: unknown; code?: unknown } | undefined
  if (body && typeof body.error === 'string') return `${error.status} ${String(body.code ?? '')}: ${body.error}`
  return `${error.status}`
}

/**
 * Sends transcripts to a remote Observatory through the typed client: POST /api/files (multipart `file` +
 * `source_key`, the absolute client path, so the server continues from what it already has), then polls
 * GET /api/files/{id} until it is completed or failed.
 */
export async function openRemoteTarget({ server, apiKey }: { server: string; apiKey: string }): Promise<Target> {
  let base: string
  try {
    const url = new URL(server)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)')
    base = url.href.replace(/\/+$/, '')
  } catch {
    throw new CliError(`--server: "${server}" is not an http(s) URL such as https://observatory.example.com`)
  }
  const api = createClient(base, { apiKey }).api
  // the machine the files come from, as the hooks name it: the server places their sessions on it
  const machine = thisMachine()
  const machineHeaders: Record<string, string> = machine
    ? {
        'x-observatory-machine-id': machine.id,
        ...(machine.hostname && { 'x-observatory-hostname': machine.hostname }),
      }
    : {}
  // Eden does not throw when the server cannot be reached: it answers 503 with no response and the fetch error
  const reach = async <T extends { response?: Response | undefined; error: unknown }>(
    request: () => Promise<T>,
  ): Promise<T> => {
    let result: T
    try {
      result = await request()
    } catch (e) {
      throw new Unreachable(`cannot reach ${base}: ${messageOf(e)}`)
    }
    if (!result.response && result.error) {
      const value = (result.error as { value?: unknown }).value
      throw new Unreachable(`cannot reach ${base}: ${messageOf(value)}`)
    }
    return result
  }
  // An answer that would be the same for every file: said once, and the run stops.
  const refuse = (error: Failure) => {
    if (error?.status === 401 || error?.status === 403)
      throw new CliError(`${base} refused the API key: ${failureOf(error)}`)
  }

  /** The bytes of this file the server holds already, when they are its start and end at a line's end. */
  const heldPrefix = async (path: string, local: ReturnType<typeof Bun.file>, size: number) => {
    const res = await reach(() => api.files.source.get({ query: { source_key: path } }))
    refuse(res.error)
    const held = res.data // (none: never sent, deleted since, or a server without this route)
    if (!held || held.size === 0 || held.size > size) return null
    if ((await fingerprintOf(local, held.size)) !== held.fingerprint) return null
    if (held.size < size && (await local.slice(held.size - 1, held.size).bytes())[0] !== LF) return null
    return { offset: held.size, fingerprint: held.fingerprint }
  }

  const me = await reach(() => api.auth.me.get())
  refuse(me.error)
  if (!me.data) throw new CliError(`${base}: ${failureOf(me.error)}`)
  const owner = me.data.email

  return {
    mode: 'remote',
    destination: base,
    owner,
    async importFile(file, onProgress) {
      // Send what is there now: a fixed-length slice (read lazily from disk), consistent even if the file grows.
      const local = Bun.file(file.path)
      const size = local.size
      const nothing = {
        bytesDone: size,
        bytesTotal: size,
        linesDone: 0,
        messagesAdded: 0,
        toolCallsAdded: 0,
        linesSkipped: 0,
        conversationIds: [],
        skipped: [],
      }
      // the server refuses an empty upload; a session file is empty only for a moment
      if (size === 0) return nothing
      const send = (form: { offset: string; fingerprint: string } | undefined, end: number) =>
        reach(() =>
          // (the offset goes before the file, so the server does not judge the new bytes as a file's start)
          api.files.post(
            {
              ...form,
              source_key: file.path,
              file: new File([local.slice(form ? Number(form.offset) : 0, end)], file.displayName),
            },
            { headers: machineHeaders },
          ),
        )
      // when the server holds the start of this file, only the whole lines after it go
      const held = await heldPrefix(file.path, local, size)
      let posted: Awaited<ReturnType<typeof send>> | undefined
      // where the bytes sent start in the file
      let start = 0
      if (held) {
        const end = await sendableEnd(local, held.offset, size)
        if (end === held.offset) return nothing
        posted = await send({ offset: String(held.offset), fingerprint: held.fingerprint }, end)
        start = held.offset
        // refused as an append (the server's copy changed in between): the whole file then; what holds for any
        // upload (the key, the size) is said below
        if (posted.status >= 400 && posted.status < 500 && ![401, 403, 413].includes(posted.status)) {
          posted = undefined
          start = 0
        }
      }
      if (!posted) {
        const end = await sendableEnd(local, 0, size)
        if (end === 0) return nothing
        posted = await send(undefined, end)
      }
      refuse(posted.error)
      if (posted.status === 404)
        throw new CliError(`${base} has no POST /api/files route: is it an Observatory server?`)
      if (!posted.data) throw new Error(`upload refused: ${failureOf(posted.error)}`)
      let status = posted.data
      // an append may continue an earlier upload's record: this upload's figures are what its import adds to them
      const before = posted.data
      const added = (now: typeof status) => ({
        bytesDone: now.bytes_done,
        bytesTotal: size,
        linesDone: now.lines_done - before.lines_done,
        messagesAdded: now.messages_added - before.messages_added,
        toolCallsAdded: now.tool_calls_added - before.tool_calls_added,
        linesSkipped: now.lines_skipped - before.lines_skipped,
      })
      let wait = POLL_FIRST_MS
      let failures = 0
      while (status.status !== 'completed' && status.status !== 'error') {
        await onProgress(added(status))
        await Bun.sleep(wait)
        wait = Math.min(POLL_MAX_MS, wait * 2)
        const id = status.id
        let res: Awaited<ReturnType<ReturnType<typeof api.files>['get']>>
        try {
          res = await reach(() => api.files({ id }).get())
        } catch (e) {
          if (++failures >= POLL_NETWORK_FAILURES) throw e
          continue
        }
        refuse(res.error)
        if (!res.data) throw new Error(`status of upload ${id}: ${failureOf(res.error)}`)
        status = res.data
      }
      if (status.status === 'error')
        throw new Error(`the server could not import it: ${status.error ?? 'unknown error'}`)
      const outcome = added(status)
      // the conversations the file added messages to (when this upload added some); a server of an earlier version
      // does not say
      const ids = (status as { conversation_ids?: string[] }).conversation_ids
      // this upload's bad lines: those in the bytes it sent (its record may have gathered earlier uploads' too)
      const id = status.id
      const errors =
        outcome.linesSkipped > 0
          ? ((await reach(() => api.files({ id }).errors.get({ query: { from_offset: start, limit: SKIPPED_SHOWN } })))
              .data?.items ?? [])
          : []
      return {
        ...outcome,
        conversationIds: ids === undefined ? null : outcome.messagesAdded > 0 ? ids : [],
        skipped: errors.map((e) => ({ line: e.line, reason: e.reason, message: e.message })),
      }
    },
    async totals(ids) {
      const totals: Totals = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, costUsd: 0 }
      for (const id of ids) {
        const res = await reach(() => api.conversations({ id }).get())
        if (!res.data) return null
        totals.inputTokens += res.data.usage.input_tokens
        totals.outputTokens += res.data.usage.output_tokens
        totals.cacheCreationTokens += res.data.usage.cache_creation_input_tokens
        totals.cacheReadTokens += res.data.usage.cache_read_input_tokens
        totals.costUsd += res.data.cost_usd
      }
      return totals
    },
    async close() {},
  }
}
