import type { EventBus } from '../../lib/bus'
import { AppError } from '../../lib/errors'
import type { Pricing } from '../../lib/pricing'
import { conversationUpdated } from './changes'
import { FINGERPRINT_WINDOW, fingerprintOf, LineFingerprints } from './fingerprint'
import { DEFAULT_MAX_LINE_BYTES, type JsonlLine, readJsonl } from './jsonl'
import { type NormalizedRecord, normalizeRecord } from './records'
import type {
  ChunkPlan,
  ConversationPlan,
  IngestRepository,
  LineError,
  LinePlan,
  MessagePlan,
  NewSource,
} from './repository'
import { messageIdOf, responseKey, usageTotal } from './usage'

/** Lines per committed chunk: large enough to amortise the transaction, small enough to keep reads responsive. */
const CHUNK_LINES = 2000
const CHUNK_BYTES = 8 * 1024 * 1024
const FIRST_PROMPT_CHARS = 200
const KEPT_ERRORS = 20
const BOM = new Uint8Array([0xef, 0xbb, 0xbf])
const encoder = new TextEncoder()

export type ImportProgress = {
  bytesDone: number
  bytesTotal: number
  linesDone: number
  messagesAdded: number
  toolCallsAdded: number
  linesSkipped: number
}
export type ImportResult = ImportProgress & {
  sourceId: string
  /** the file no longer started with what was imported before, so it was read again from the start */
  rewritten: boolean
  conversationIds: string[]
  /** the first few bad lines (all of them are stored; see the files API) */
  errors: LineError[]
}
export type ImportInput = {
  ownerId: string
  /** the file to read */
  path: string
  /** identifies the file across imports (its absolute path, or upload:<id>), for incremental re-imports */
  sourceKey: string
  displayName: string
  /** told where the import begins reading the file: after what earlier imports read, or 0 when it was rewritten */
  onStart?: (offset: number, rewritten: boolean) => void | Promise<void>
  onProgress?: (progress: ImportProgress) => void | Promise<void>
  /** stops the import between two chunks (what was committed stays; the next import resumes there) */
  signal?: AbortSignal
  /** the machine the file comes from, where its sessions are placed (see `place`) */
  machine?: Machine
  /** the file will not grow (a one-off upload): an unfinished last line is a bad line, not left for a next import */
  complete?: boolean
}

export type Machine = { id: string; hostname?: string }
/** Puts a session in the hierarchy: a workspace for the folder it ran in (on that machine), in that folder's project. */
export type Place = (
  ownerId: string,
  session: { sessionId: string; cwd: string; machineId?: string; hostname?: string },
) => Promise<unknown>

/** The exact bytes of a line as it was in the file, terminator included (only the terminator of a line too long). */
function rawBytes(l: JsonlLine): Uint8Array {
  if (l.raw) return l.raw
  const body = l.kind === 'error' && l.bytes ? l.bytes : encoder.encode(l.text ?? '')
  const head = l.bom ? BOM : new Uint8Array(0)
  const tail = encoder.encode(l.terminator)
  const out = new Uint8Array(head.length + body.length + tail.length)
  out.set(head, 0)
  out.set(body, head.length)
  out.set(tail, head.length + body.length)
  return out
}

/** The flags of a message's `metadata` column, serialised (most lines have none). */
function metadataOf(r: NormalizedRecord): string {
  if (!r.isMeta && !r.isCompactSummary && !r.isApiError) return '{}'
  return JSON.stringify({
    ...(r.isMeta && { is_meta: true }),
    ...(r.isCompactSummary && { is_compact_summary: true }),
    ...(r.isApiError && { is_api_error: true }),
  })
}

const lineEnd = (l: JsonlLine) => l.offset + l.length + l.terminator.length

/** A prompt a person typed: not meta, not a compaction summary, not a tool result, not a command wrapper. */
function promptOf(r: NormalizedRecord): string | null {
  if (r.role !== 'user' || r.isMeta || r.isCompactSummary || r.isSidechain || r.toolResults.length > 0) return null
  const text = r.text.trim()
  if (!text || text.startsWith('<') || text.startsWith('[Request interrupted')) return null
  return text.length > FIRST_PROMPT_CHARS ? `${text.slice(0, FIRST_PROMPT_CHARS - 1)}…` : text
}

/**
 * Imports Claude Code transcripts: streams a file from where the last import stopped, maps its lines, counts each API
 * response's usage once, and commits in chunks (each one atomic, the offset with it) while yielding to other work.
 */
export function createIngestService(
  repo: IngestRepository,
  {
    pricing,
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    bus,
    place,
  }: {
    pricing: Pricing
    maxLineBytes?: number /** told about each committed chunk, for live subscribers */
    bus?: EventBus
    /** places the sessions an import brings that are in no workspace yet */
    place?: Place
  },
) {
  async function importFile(input: ImportInput): Promise<ImportResult> {
    const { ownerId } = input
    const file = Bun.file(input.path)
    const size = file.size
    const now = Date.now()
    // a new source is stored with the first chunk, in its transaction
    let newSource: NewSource | null = null
    const fresh = () => {
      newSource = {
        id: Bun.randomUUIDv7(),
        ownerId,
        sourceKey: input.sourceKey,
        displayName: input.displayName,
        createdAt: now,
        updatedAt: now,
      }
      return { ...newSource, bytesDone: 0, linesDone: 0, prefixHash: null }
    }
    let source = (await repo.findSource(ownerId, input.sourceKey)) ?? fresh()

    // Resume after what was imported, unless the file no longer starts with it (rewritten): then the version read so
    // far is set aside, lines and all, and the file is read again from the start as a new source.
    let rewritten = false
    if (source.bytesDone > 0) {
      const unchanged = size >= source.bytesDone && (await fingerprintOf(file, source.bytesDone)) === source.prefixHash
      if (!unchanged) {
        rewritten = true
        await repo.retireSource(source.id, now)
        source = fresh()
      }
    }

    await input.onStart?.(source.bytesDone, rewritten)
    const progress: ImportProgress = {
      bytesDone: source.bytesDone,
      bytesTotal: size,
      linesDone: 0,
      messagesAdded: 0,
      toolCallsAdded: 0,
      linesSkipped: 0,
    }
    const errors: LineError[] = []
    const conversationIds = new Set<string>()
    const owners = new Map<string, string>()
    const usage = new Map<string, { uuid: string; total: number }>()
    let lastSession: string | null = null
    let lastTimestamp = now
    let linesDone = source.linesDone
    // each chunk's fingerprint comes from the lines just read (and, resuming mid-file, the file's first bytes)
    const resuming = source.bytesDone > 0 && source.bytesDone < size
    const fingerprints = new LineFingerprints(
      file,
      source.bytesDone,
      resuming ? await file.slice(0, Math.min(source.bytesDone, FINGERPRINT_WINDOW)).bytes() : undefined,
    )

    const commit = async (chunk: JsonlLine[]) => {
      const last = chunk.at(-1)
      if (!last) return
      const records = chunk.map((l) => (l.kind === 'record' ? normalizeRecord(l.value) : null))

      const unknownSessions = [
        ...new Set(records.map((r) => r?.sessionId).filter((s): s is string => !!s && !owners.has(s))),
      ]
      for (const [id, owner] of await repo.conversationOwners(unknownSessions)) owners.set(id, owner)
      const unseenKeys = [
        ...new Set(records.map((r) => (r ? responseKey(r) : null)).filter((k): k is string => !!k && !usage.has(k))),
      ]
      for (const a of await repo.attributedUsage(ownerId, unseenKeys))
        if (a.key) usage.set(a.key, { uuid: a.uuid, total: a.total })

      const plans: LinePlan[] = []
      const sessions = new Map<string, ConversationPlan>()
      const summaries: ChunkPlan['summaries'] = []
      const zeroUsageOf: string[] = []
      const pendingByUuid = new Map<string, MessagePlan>()
      const fail = (plan: LinePlan, reason: string, message: string) => {
        plan.error = { reason, message }
        progress.linesSkipped++
        if (errors.length < KEPT_ERRORS) errors.push({ line: plan.line, offset: plan.offset, reason, message })
      }

      for (const [i, l] of chunk.entries()) planLine(l, records[i] ?? null)
      function planLine(l: JsonlLine, r: NormalizedRecord | null): void {
        const plan: LinePlan = { line: l.line, offset: l.offset, raw: rawBytes(l) }
        plans.push(plan)
        fingerprints.add(l.offset, l.raw, lineEnd(l))
        if (l.kind === 'error') {
          fail(plan, l.error.reason, l.error.message)
          return
        }
        if (!r) return
        if (r.timestamp !== null) lastTimestamp = r.timestamp
        if (r.title?.kind === 'summary') {
          if (r.title.leafUuid) summaries.push({ leafUuid: r.title.leafUuid, summary: r.title.title })
          return
        }
        const sessionId = r.sessionId ?? lastSession
        if (!sessionId) {
          if (r.uuid) fail(plan, 'no_session', 'line has a uuid but no sessionId')
          return
        }
        if (owners.has(sessionId) && owners.get(sessionId) !== ownerId) {
          fail(plan, 'foreign_session', `session ${sessionId} belongs to another account`)
          return
        }
        owners.set(sessionId, ownerId)
        lastSession = sessionId

        const session = sessions.get(sessionId) ?? {
          id: sessionId,
          projectPath: null,
          gitBranch: null,
          version: null,
          customTitle: null,
          aiTitle: null,
          firstPrompt: null,
          startedAt: r.timestamp ?? lastTimestamp,
        }
        sessions.set(sessionId, session)
        session.projectPath ??= r.cwd
        session.gitBranch = r.gitBranch ?? session.gitBranch
        session.version = r.version ?? session.version
        if (r.title?.kind === 'custom-title') session.customTitle = r.title.title
        if (r.title?.kind === 'ai-title') session.aiTitle = r.title.title
        const key = responseKey(r)
        const uuid = messageIdOf(r)
        if (!uuid) return
        session.firstPrompt ??= promptOf(r)

        const timestamp = r.timestamp ?? lastTimestamp
        const message: MessagePlan = {
          id: uuid,
          conversationId: sessionId,
          parentId: r.parentUuid,
          logicalParentId: r.logicalParentUuid,
          type: r.type,
          subtype: r.subtype,
          role: r.role,
          content: r.content,
          text: r.text,
          model: r.model,
          responseKey: key,
          inputTokens: 0,
          outputTokens: 0,
          cacheCreationTokens: 0,
          cacheReadTokens: 0,
          costUsd: 0,
          isSidechain: r.isSidechain,
          agentId: r.agentId,
          metadata: metadataOf(r),
          timestamp,
        }
        // Usage: this line carries its response's usage if it is the first seen or has a larger total.
        if (key && r.usage) {
          const total = usageTotal(r.usage)
          const current = usage.get(key)
          if (!current || total > current.total) {
            if (current) {
              const pending = pendingByUuid.get(current.uuid)
              if (pending)
                Object.assign(pending, {
                  inputTokens: 0,
                  outputTokens: 0,
                  cacheCreationTokens: 0,
                  cacheReadTokens: 0,
                  costUsd: 0,
                })
              else zeroUsageOf.push(current.uuid)
            }
            usage.set(key, { uuid, total })
            message.inputTokens = r.usage.inputTokens
            message.outputTokens = r.usage.outputTokens
            message.cacheCreationTokens = r.usage.cacheCreationTokens
            message.cacheReadTokens = r.usage.cacheReadTokens
            message.costUsd = pricing.costOf(r.model, r.usage)
          }
        }
        pendingByUuid.set(uuid, message)
        plan.message = message
        if (r.toolUses.length > 0) plan.toolUses = r.toolUses.map((u) => ({ ...u, at: timestamp }))
        if (r.toolResults.length > 0)
          plan.toolResults = r.toolResults.map((t) => ({
            id: t.toolUseId,
            result: t.excerpt,
            isError: t.isError,
            at: timestamp,
          }))
        if (r.agentLink) plan.agentLink = r.agentLink
      }

      const bytesDone = lineEnd(last)
      linesDone = last.line
      const result = await repo.applyChunk({
        newSource,
        sourceId: source.id,
        ownerId,
        now: Date.now(),
        bytesDone,
        linesDone,
        prefixHash: await fingerprints.at(bytesDone),
        lines: plans,
        conversations: [...sessions.values()],
        summaries,
        zeroUsageOf,
        withChanges: bus !== undefined,
      })
      newSource = null
      if (place)
        for (const s of await repo.unplaced(ownerId, result.conversationIds))
          await place(ownerId, {
            sessionId: s.id,
            cwd: s.projectPath,
            machineId: input.machine?.id,
            hostname: input.machine?.hostname,
          }).catch((e: unknown) => {
            if (!(e instanceof AppError)) throw e // (one the hierarchy refuses stays out of it; the import goes on)
          })
      for (const id of result.conversationIds) {
        conversationIds.add(id)
        bus?.publish(conversationUpdated(ownerId, id, input.displayName, result.changes.get(id)))
      }
      progress.bytesDone = bytesDone
      progress.linesDone += chunk.length
      progress.messagesAdded += result.messagesAdded
      progress.toolCallsAdded += result.toolCallsAdded
      progress.linesSkipped += result.refused.length
      errors.push(...result.refused.slice(0, KEPT_ERRORS - errors.length))
      await input.onProgress?.({ ...progress })
      await Bun.sleep(0) // let requests in between chunks
      input.signal?.throwIfAborted()
    }

    if (source.bytesDone < size) {
      const reader = readJsonl(file.slice(source.bytesDone).stream(), {
        offset: source.bytesDone,
        line: source.linesDone + 1,
        maxLineBytes,
        keepRaw: true,
        complete: input.complete,
      })
      let chunk: JsonlLine[] = []
      let chunkBytes = 0
      for await (const line of reader) {
        chunk.push(line)
        chunkBytes += line.length
        if (chunk.length >= CHUNK_LINES || chunkBytes >= CHUNK_BYTES) {
          await commit(chunk)
          chunk = []
          chunkBytes = 0
        }
      }
      await commit(chunk)
    }
    if (newSource) await repo.createSource(newSource) // nothing to read yet: the source is known all the same
    return { ...progress, sourceId: source.id, rewritten, conversationIds: [...conversationIds], errors }
  }

  return {
    importFile,
    /** The original transcript lines of a conversation (main and subagent files), byte for byte. */
    exportJsonl(conversationId: string): ReadableStream<Uint8Array> {
      const lines = repo.exportLines(conversationId)
      return new ReadableStream({
        async pull(controller) {
          const next = await lines.next()
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        },
      })
    },
  }
}
export type IngestService = ReturnType<typeof createIngestService>
