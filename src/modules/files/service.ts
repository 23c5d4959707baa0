import { createReadStream, createWriteStream, existsSync, readdirSync, rmSync } from 'node:fs'
import { mkdir, open, readdir, realpath, rename, stat, truncate, unlink } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { type Actor, ownerScope } from '../../lib/actor'
import type { EventBus } from '../../lib/bus'
import { AppError, conflict, forbidden, notFound } from '../../lib/errors'
import { iso, isoOrNull } from '../../lib/models'
import { fingerprintOf } from '../ingest/fingerprint'
import type { IngestService } from '../ingest/service'
import { createJsonlSniffer, SNIFF_BYTES } from '../ingest/sniff'
import { JobInterrupted } from '../jobs/service'
import type { FileDto } from './model'
import type { FileRepository, FileRow } from './repository'
import type { UploadForm } from './upload-form'

export const IMPORT_FILE_JOB = 'import-file'
const FIRST_ERRORS = 10
/** the source keys of uploads (server-side imports use the file's path) */
const UPLOAD_KEY = 'upload:'

const empty = () => new AppError(400, 'BAD_REQUEST', 'the file is empty')
const notJsonl = () => new AppError(400, 'BAD_REQUEST', 'the file is not JSONL: its first line is not a JSON object')

/** A client's file name as metadata: control characters (NUL, newlines) dropped, a name always given. */
const displayName = (name: string) =>
  [...name].filter((c) => c.charCodeAt(0) > 0x1f && c.charCodeAt(0) !== 0x7f).join('') || 'upload.jsonl'

/** An upload written to a temporary file under the uploads folder, not yet kept. */
export type ReceivedUpload = { id: string; path: string; size: number }

/** Every *.jsonl file under a folder (subagent folders included), in path order. */
async function jsonlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
    .map((e) => join(e.parentPath, e.name))
    .sort()
}

/** Uploads and server-side imports: stored, queued, processed by the job queue, reported with their progress. */
export function createFileService({
  repo,
  ingest,
  enqueue,
  uploadsDir,
  maxUploadBytes,
  importRoots,
  bus,
}: {
  bus: EventBus
  repo: FileRepository
  ingest: IngestService
  enqueue: (kind: string, payload: Record<string, unknown>) => Promise<unknown>
  uploadsDir: string
  maxUploadBytes: number
  importRoots: string[]
}) {
  // an upload cut off by a crash left its `.part` behind: nothing will ever finish it
  if (existsSync(uploadsDir))
    for (const name of readdirSync(uploadsDir)) if (name.endsWith('.part')) rmSync(join(uploadsDir, name))
  const toFile = async (r: FileRow): Promise<FileDto> => {
    const details = await repo.detailsOf(r, FIRST_ERRORS)
    return {
      id: r.id,
      name: r.name,
      size: r.size,
      status: r.status,
      bytes_done: r.bytesDone,
      lines_done: r.linesDone,
      messages_added: r.messagesAdded,
      tool_calls_added: r.toolCallsAdded,
      lines_skipped: r.linesSkipped,
      conversation_ids: details.conversationIds,
      error: r.error,
      first_errors: details.firstErrors,
      created_at: iso(r.createdAt),
      updated_at: iso(r.updatedAt),
      finished_at: isoOrNull(r.finishedAt),
    }
  }
  const require = async (actor: Actor, id: string) => {
    const row = await repo.find(ownerScope(actor), id)
    if (!row) throw notFound('file')
    return row
  }
  const queue = async (
    row: Omit<
      FileRow,
      | 'status'
      | 'startOffset'
      | 'bytesDone'
      | 'linesDone'
      | 'messagesAdded'
      | 'toolCallsAdded'
      | 'linesSkipped'
      | 'error'
      | 'finishedAt'
      | 'updatedAt'
    >,
  ) => {
    const inserted = await repo.insert({ ...row, status: 'pending', updatedAt: row.createdAt })
    await enqueue(IMPORT_FILE_JOB, { fileId: inserted.id })
    return inserted
  }

  // what touches a source key's stored file (uploads, deletes, reading its size), one after the other
  const pending = new Map<string, Promise<unknown>>()
  const oneAtATime = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (pending.get(key) ?? Promise.resolve()).then(work)
    const settled = run.catch(() => undefined)
    pending.set(key, settled)
    void settled.then(() => pending.get(key) === settled && pending.delete(key))
    return run
  }
  const lockOf = (ownerId: string, sourceKey: string) => `${ownerId}\n${sourceKey}`
  /** The stored file a source key's uploads build up (its newest upload's), when it is still there. */
  const storedFileOf = async (ownerId: string, sourceKey: string) => {
    const latest = await repo.latestOf(ownerId, sourceKey)
    if (!latest?.storedPath.startsWith(uploadsDir)) return null
    const size = await stat(latest.storedPath).then(
      (s) => s.size,
      () => null,
    )
    return size === null ? null : { path: latest.storedPath, size, latest }
  }
  /**
   * Puts a received upload where it is kept: `uploads/<id>` without a source key; with one, into the key's stored
   * file (replacing it, or appended to it), a new one for a key never seen. Returns that file's path and what the
   * key held before.
   */
  const store = async (ownerId: string, sourceKey: string | null, form: UploadForm) => {
    const held = sourceKey === null ? null : await storedFileOf(ownerId, sourceKey)
    if (!form.append) {
      const path = held?.path ?? join(uploadsDir, form.file.id)
      await rename(form.file.path, path)
      return { storedPath: path, held }
    }
    const { offset, fingerprint } = form.append
    if (!held) throw conflict('the server holds no upload under this source_key: send the whole file, without offset')
    if (held.size !== offset)
      throw conflict(`the server holds ${held.size} bytes under this source_key, not ${offset}: send from there`)
    if ((await fingerprintOf(Bun.file(held.path), offset)) !== fingerprint)
      throw conflict('the bytes held under this source_key are not the start of this file: send the whole file')
    try {
      await pipeline(createReadStream(form.file.path), createWriteStream(held.path, { flags: 'a' }))
    } catch (e) {
      // all of the upload or none of it (an import reading meanwhile may have taken some of it: the next import
      // then finds the file shorter than what it read, and reads the file again from its start)
      await truncate(held.path, offset).catch(() => undefined)
      throw e
    }
    return { storedPath: held.path, held }
  }

  return {
    /**
     * Streams an upload's bytes to a temporary file under the uploads folder as they arrive. It stops, removes
     * what it wrote and refuses as soon as the file passes the size limit or, for a file's start (not an append's
     * bytes, which may begin anywhere in a line), its head is plainly not JSONL. Empty is refused either way.
     */
    async receive(content: AsyncIterable<Uint8Array>, { fileStart = true } = {}): Promise<ReceivedUpload> {
      const id = Bun.randomUUIDv7()
      await mkdir(uploadsDir, { recursive: true })
      // the stored name is ours (the client's file name is metadata only); `.part` until it is complete
      const path = join(uploadsDir, `${id}.part`)
      const handle = await open(path, 'wx')
      const sniffer = createJsonlSniffer()
      let size = 0
      try {
        for await (const chunk of content) {
          size += chunk.length
          if (size > maxUploadBytes)
            throw new AppError(413, 'PAYLOAD_TOO_LARGE', `the file is over the limit of ${maxUploadBytes} bytes`)
          if (fileStart && sniffer.push(chunk) === false) throw notJsonl()
          for (let done = 0; done < chunk.length; )
            done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten
        }
        if (size === 0) throw empty()
        if (fileStart && !sniffer.finish()) throw notJsonl()
        await handle.close()
        return { id, path, size }
      } catch (e) {
        await handle.close().catch(() => undefined)
        await unlink(path).catch(() => undefined)
        throw e
      }
    },
    /** Removes a received upload that will not be kept. */
    async discard(received: ReceivedUpload) {
      await unlink(received.path).catch(() => undefined)
    },
    /**
     * Keeps a received upload and queues its import. Without a source key it is kept as `uploads/<id>`. The uploads
     * of one source key build up one stored file, a copy of the client's: a whole file replaces it, and an upload
     * with `append` (the bytes from an offset on) extends it, once the server holds exactly that many bytes of the
     * same file. One upload of a key at a time, so no two writes interleave.
     */
    async upload(actor: Actor, form: UploadForm, machine: Pick<FileRow, 'machineId' | 'machineHostname'>) {
      const { id, path } = form.file
      const sourceKey = `${UPLOAD_KEY}${form.sourceKey ?? id}`
      const keep = async () => {
        const { storedPath, held } = await store(actor.id, form.sourceKey === undefined ? null : sourceKey, form)
        // An append continues the key's latest upload once that one's import has finished: a file followed for
        // hours stays one record, its figures the sums over its appends (an unfinished one gets a record beside it).
        const latest = form.append ? held?.latest : undefined
        if (latest && (latest.status === 'completed' || latest.status === 'error')) {
          const now = Date.now()
          const row = await repo.update(latest.id, {
            status: 'pending',
            ...(machine.machineId && machine),
            size: (await stat(storedPath)).size,
            error: null,
            updatedAt: now,
            finishedAt: null,
          })
          try {
            await enqueue(IMPORT_FILE_JOB, { fileId: latest.id })
          } catch (e) {
            // as it was (the appended bytes stay in the copy: the key's next import reads them)
            const { status, size, error, updatedAt, finishedAt } = latest
            await repo.update(latest.id, { status, size, error, updatedAt, finishedAt }).catch(() => undefined)
            throw e
          }
          return toFile(row as FileRow)
        }
        try {
          const row = await queue({
            id,
            ownerId: actor.id,
            name: displayName(form.name),
            storedPath,
            sourceKey,
            ...machine,
            size: (await stat(storedPath)).size,
            createdAt: Date.now(),
          })
          return toFile(row)
        } catch (e) {
          await repo.delete(id).catch(() => undefined)
          if (!(await repo.pathStillImporting(storedPath))) await unlink(storedPath).catch(() => undefined)
          throw e
        }
      }
      try {
        return await (form.sourceKey === undefined ? keep() : oneAtATime(lockOf(actor.id, sourceKey), keep))
      } finally {
        await unlink(path).catch(() => undefined) // (gone already once renamed)
      }
    },
    /** What the server holds of a source key's uploads: the size and fingerprint an upload with `offset` needs. */
    async source(actor: Actor, key: string) {
      const sourceKey = `${UPLOAD_KEY}${key}`
      // (not while an upload writes to it: its size and fingerprint would be of a moment that never lasts)
      return oneAtATime(lockOf(actor.id, sourceKey), async () => {
        const held = await storedFileOf(actor.id, sourceKey)
        if (!held) throw notFound('upload with that source_key')
        return {
          source_key: key,
          size: held.size,
          fingerprint: await fingerprintOf(Bun.file(held.path), held.size),
          file_id: held.latest.id,
        }
      })
    },
    /** Imports a server-side file or folder; only under IMPORT_ROOTS, with symlinks resolved before the check. */
    async importPath(actor: Actor, path: string) {
      const roots = await Promise.all(importRoots.map((r) => realpath(r).catch(() => null)))
      const allowed = (p: string) =>
        roots.some((root) => root !== null && (p === root || p.startsWith(root.endsWith(sep) ? root : root + sep)))
      const outside = () => forbidden('that path is not under an allowed import root')
      let real: string
      try {
        real = await realpath(path)
      } catch {
        // That nothing is there is told only when the nearest folder that is there lies under a root (links
        // resolved): elsewhere, a caller learns nothing of the server's files.
        let folder = dirname(resolve(path))
        for (;;) {
          const found = await realpath(folder).catch(() => null)
          if (found !== null) {
            if (allowed(found)) throw notFound('file or folder at that path')
            throw outside()
          }
          if (dirname(folder) === folder) throw outside()
          folder = dirname(folder)
        }
      }
      if (!allowed(real)) throw outside()
      const folder = (await stat(real)).isDirectory()
      // a file named alone is held to what an upload is: a folder's are its *.jsonl files
      if (!folder) {
        const file = Bun.file(real)
        if (file.size === 0) throw empty()
        const sniffer = createJsonlSniffer()
        sniffer.push(await file.slice(0, SNIFF_BYTES).bytes())
        if (!sniffer.finish()) throw notJsonl()
      }
      const paths = folder ? await jsonlFilesUnder(real) : [real]
      const items: FileDto[] = []
      for (const p of paths) {
        const row = await queue({
          id: Bun.randomUUIDv7(),
          ownerId: actor.id,
          name: p,
          storedPath: p,
          sourceKey: p,
          // (this server's files: no client machine)
          machineId: null,
          machineHostname: null,
          size: (await stat(p)).size,
          createdAt: Date.now(),
        })
        items.push(await toFile(row))
      }
      return { items, total: items.length }
    },
    async list(actor: Actor, limit = 50, offset = 0) {
      const { rows, total } = await repo.list(ownerScope(actor), limit, offset)
      return { items: await Promise.all(rows.map(toFile)), total, limit, offset }
    },
    async get(actor: Actor, id: string) {
      return toFile(await require(actor, id))
    },
    async errors(actor: Actor, id: string, q: { limit?: number; offset?: number; from_offset?: number }) {
      const { limit = 50, offset = 0 } = q
      const { rows, total } = await repo.errors(await require(actor, id), limit, offset, q.from_offset ?? 0)
      return { items: rows, total, limit, offset }
    },
    /** Deletes the file record and its stored upload; the conversations it imported stay. */
    async remove(actor: Actor, id: string) {
      const row = await require(actor, id)
      // The stored file goes too, unless another upload's import still has to read it. For a source key's copy:
      // it may hold bytes whose import this delete stops, so the next upload of the key sends the whole file again
      // (its import goes on from what was read). Not while an upload writes to it.
      await oneAtATime(lockOf(row.ownerId, row.sourceKey), async () => {
        await repo.delete(row.id)
        if (row.storedPath.startsWith(uploadsDir) && !(await repo.pathStillImporting(row.storedPath)))
          await unlink(row.storedPath).catch(() => undefined)
      })
    },
    /** The job: imports the file, recording progress on its row as each chunk commits, and telling it live. */
    async process(fileId: string, signal: AbortSignal) {
      const row = await repo.find(null, fileId)
      if (!row) return // deleted while queued
      const progress = (status: string, bytesDone: number, messagesAdded: number, error?: string) =>
        bus.publish({
          type: 'file.progress',
          ownerId: row.ownerId,
          data: {
            file_id: row.id,
            status,
            bytes_done: bytesDone,
            size: row.size,
            messages_added: messagesAdded,
            ...(error !== undefined && { error }),
          },
        })
      await repo.update(row.id, { status: 'processing', updatedAt: Date.now() })
      // what this import's figures add to: the record's own (an append continues them), unless the file was rewritten
      let base = row
      try {
        const result = await ingest.importFile({
          ownerId: row.ownerId,
          path: row.storedPath,
          sourceKey: row.sourceKey,
          displayName: row.name,
          machine: row.machineId ? { id: row.machineId, hostname: row.machineHostname ?? undefined } : undefined,
          // an upload without a source_key is never appended to: nothing could complete its last line later
          complete: row.sourceKey === `${UPLOAD_KEY}${row.id}`,
          signal,
          onStart: async (offset, rewritten) => {
            if (rewritten) {
              // read again from the start, its bad lines found anew: this record's from 0, the key's others' none
              base = { ...row, linesDone: 0, messagesAdded: 0, toolCallsAdded: 0, linesSkipped: 0 }
              await repo.update(row.id, { startOffset: 0 })
              await repo.emptyErrorRangesOfKey(row.ownerId, row.sourceKey, row.id)
            } else if (row.startOffset === null && row.bytesDone === 0 && row.linesDone === 0)
              // where its first import begins (a record an append continues keeps it: its bad lines are from there on)
              await repo.update(row.id, { startOffset: offset })
          },
          onProgress: async (p) => {
            // deleted while importing: stop here (what is committed stays, as after any interrupted import)
            if (!(await repo.find(null, row.id))) throw new Error('the file was deleted during its import')
            await repo.update(row.id, {
              bytesDone: p.bytesDone,
              linesDone: base.linesDone + p.linesDone,
              messagesAdded: base.messagesAdded + p.messagesAdded,
              toolCallsAdded: base.toolCallsAdded + p.toolCallsAdded,
              linesSkipped: base.linesSkipped + p.linesSkipped,
              updatedAt: Date.now(),
            })
            // after the row, so a GET then reads as much
            progress('processing', p.bytesDone, base.messagesAdded + p.messagesAdded)
          },
        })
        const now = Date.now()
        await repo.update(row.id, {
          status: 'completed',
          bytesDone: result.bytesDone,
          linesDone: base.linesDone + result.linesDone,
          messagesAdded: base.messagesAdded + result.messagesAdded,
          toolCallsAdded: base.toolCallsAdded + result.toolCallsAdded,
          linesSkipped: base.linesSkipped + result.linesSkipped,
          updatedAt: now,
          finishedAt: now,
        })
        progress('completed', result.bytesDone, base.messagesAdded + result.messagesAdded)
      } catch (e) {
        if (signal.aborted) throw new JobInterrupted()
        const now = Date.now()
        await repo.update(row.id, { status: 'error', error: (e as Error).message, updatedAt: now, finishedAt: now })
        const last = await repo.find(null, row.id)
        if (last) progress('error', last.bytesDone, last.messagesAdded, (e as Error).message)
      }
    },
  }
}
export type FileService = ReturnType<typeof createFileService>
