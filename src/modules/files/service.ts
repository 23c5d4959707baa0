import { mkdirSync } from 'node:fs'
import { readdir, realpath, stat, unlink } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { type Actor, ownerScope } from '../../lib/actor'
import type { EventBus } from '../../lib/bus'
import { AppError, forbidden, notFound } from '../../lib/errors'
import { iso, isoOrNull } from '../../lib/models'
import type { IngestService } from '../ingest/service'
import { JobInterrupted } from '../jobs/service'
import type { FileDto } from './model'
import type { FileRepository, FileRow } from './repository'

export const IMPORT_FILE_JOB = 'import-file'
const SNIFF_BYTES = 64 * 1024
const FIRST_ERRORS = 10

/** Rejects what is plainly not a JSONL transcript: empty, or a first line that is not a JSON object. */
async function sniffJsonl(blob: Blob) {
  if (blob.size === 0) throw new AppError(400, 'BAD_REQUEST', 'the file is empty')
  const head = new TextDecoder().decode(await blob.slice(0, SNIFF_BYTES).arrayBuffer()).replace(/^\uFEFF/, '')
  const firstLine = head.split('\n').find((l) => l.trim() !== '') ?? ''
  const complete = head.includes('\n') || blob.size <= SNIFF_BYTES
  let ok = firstLine.trimStart().startsWith('{')
  if (ok && complete) {
    try {
      const value = JSON.parse(firstLine)
      ok = typeof value === 'object' && value !== null && !Array.isArray(value)
    } catch {
      ok = false
    }
  }
  if (!ok) throw new AppError(400, 'BAD_REQUEST', 'the file is not JSONL: its first line is not a JSON object')
}

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
  const toFile = async (r: FileRow): Promise<FileDto> => ({
    id: r.id,
    name: r.name,
    size: r.size,
    status: r.status,
    bytes_done: r.bytesDone,
    lines_done: r.linesDone,
    messages_added: r.messagesAdded,
    tool_calls_added: r.toolCallsAdded,
    lines_skipped: r.linesSkipped,
    error: r.error,
    first_errors: (await repo.errors(r, FIRST_ERRORS, 0)).rows,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    finished_at: isoOrNull(r.finishedAt),
  })
  const require = async (actor: Actor, id: string) => {
    const row = await repo.find(ownerScope(actor), id)
    if (!row) throw notFound('file')
    return row
  }
  const queue = async (
    row: Omit<
      FileRow,
      | 'status'
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

  return {
    async upload(actor: Actor, file: File, sourceKey?: string) {
      if (file.size > maxUploadBytes)
        throw new AppError(413, 'PAYLOAD_TOO_LARGE', `the file is ${file.size} bytes; the limit is ${maxUploadBytes}`)
      await sniffJsonl(file)
      const id = Bun.randomUUIDv7()
      mkdirSync(uploadsDir, { recursive: true })
      // the client's file name is metadata only; the stored name is ours
      const storedPath = join(uploadsDir, id)
      await Bun.write(storedPath, file)
      const row = await queue({
        id,
        ownerId: actor.id,
        name: file.name || 'upload.jsonl',
        storedPath,
        sourceKey: `upload:${sourceKey ?? id}`,
        size: file.size,
        createdAt: Date.now(),
      })
      return toFile(row)
    },
    /** Imports a server-side file or folder; only under IMPORT_ROOTS, with symlinks resolved before the check. */
    async importPath(actor: Actor, path: string) {
      let real: string
      try {
        real = await realpath(path)
      } catch {
        throw forbidden('that path is not under an allowed import root')
      }
      const roots = await Promise.all(importRoots.map((r) => realpath(r).catch(() => null)))
      if (
        !roots.some(
          (root) => root !== null && (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)),
        )
      )
        throw forbidden('that path is not under an allowed import root')
      const paths = (await stat(real)).isDirectory() ? await jsonlFilesUnder(real) : [real]
      const items: FileDto[] = []
      for (const p of paths) {
        const row = await queue({
          id: Bun.randomUUIDv7(),
          ownerId: actor.id,
          name: p,
          storedPath: p,
          sourceKey: p,
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
    async errors(actor: Actor, id: string, limit = 50, offset = 0) {
      const { rows, total } = await repo.errors(await require(actor, id), limit, offset)
      return { items: rows, total, limit, offset }
    },
    /** Deletes the file record and its stored upload; the conversations it imported stay. */
    async remove(actor: Actor, id: string) {
      const row = await require(actor, id)
      await repo.delete(row.id)
      if (row.storedPath.startsWith(uploadsDir)) await unlink(row.storedPath).catch(() => undefined)
    },
    /** The job: imports the file, recording progress on its row as each chunk commits. */
    async process(fileId: string, signal: AbortSignal) {
      const row = await repo.find(null, fileId)
      if (!row) return // deleted while queued
      await repo.update(row.id, { status: 'processing', updatedAt: Date.now() })
      try {
        const result = await ingest.importFile({
          ownerId: row.ownerId,
          path: row.storedPath,
          sourceKey: row.sourceKey,
          displayName: row.name,
          signal,
          onProgress: async (p) => {
            bus.publish({
              type: 'file.progress',
              ownerId: row.ownerId,
              data: {
                file_id: row.id,
                status: 'processing',
                bytes_done: p.bytesDone,
                size: row.size,
                messages_added: p.messagesAdded,
              },
            })
            await repo.update(row.id, {
              bytesDone: p.bytesDone,
              linesDone: row.linesDone + p.linesDone,
              messagesAdded: row.messagesAdded + p.messagesAdded,
              toolCallsAdded: row.toolCallsAdded + p.toolCallsAdded,
              linesSkipped: row.linesSkipped + p.linesSkipped,
              updatedAt: Date.now(),
            })
          },
        })
        const now = Date.now()
        await repo.update(row.id, {
          status: 'completed',
          bytesDone: result.bytesDone,
          linesDone: row.linesDone + result.linesDone,
          messagesAdded: row.messagesAdded + result.messagesAdded,
          toolCallsAdded: row.toolCallsAdded + result.toolCallsAdded,
          linesSkipped: row.linesSkipped + result.linesSkipped,
          updatedAt: now,
          finishedAt: now,
        })
      } catch (e) {
        if (signal.aborted) throw new JobInterrupted()
        const now = Date.now()
        await repo.update(row.id, { status: 'error', error: (e as Error).message, updatedAt: now, finishedAt: now })
      }
    },
  }
}
export type FileService = ReturnType<typeof createFileService>
