import { hostname } from 'node:os'
import { isClientId } from '../lib/models'
import type { ImportProgress, Machine } from '../modules/ingest/service'
import type { Transcript } from './discover'
import { CliError } from './errors'

/** The same counters an import reports, locally or through the files API. */
export type FileProgress = ImportProgress
export type SkippedLine = { line: number; reason: string; message: string }

/** What importing one file did (in this run only: a re-import that found nothing new adds 0). */
export type FileOutcome = FileProgress & {
  /** conversations that got something from this run; null when the destination does not say (remote) */
  conversationIds: string[] | null
  /** the first few skipped lines */
  skipped: SkippedLine[]
}

export type Totals = {
  inputTokens: number
  outputTokens: number
  cacheCreationTokens: number
  cacheReadTokens: number
  costUsd: number
}

/** Where `import` and `watch` send transcripts: the local database, or a remote server. */
export type Target = {
  mode: 'local' | 'remote'
  /** the database file or the server URL, for messages */
  destination: string
  /** the account that owns what is imported, when known */
  owner: string | null
  /** imports what is new in the file; `onProgress` may throw (Stopped) to end it after the current chunk */
  importFile(file: Transcript, onProgress: (p: FileProgress) => void | Promise<void>): Promise<FileOutcome>
  /** tokens and cost of these conversations as stored, or null when the destination cannot tell */
  totals(conversationIds: string[]): Promise<Totals | null>
  close(): Promise<void>
}

/**
 * This machine, as the README's hook settings name it: OBSERVATORY_MACHINE_ID (sent as X-Observatory-Machine-Id),
 * none when it is unset (as the hooks then send none). The sessions an import brings are placed on it.
 */
export function thisMachine(): Machine | undefined {
  const id = process.env.OBSERVATORY_MACHINE_ID
  if (!id) return undefined
  if (!isClientId(id))
    throw new CliError(
      `OBSERVATORY_MACHINE_ID: "${id}" is not a machine id: letters, digits and . : @ _ -, at most 128 (e.g. $(hostname -s))`,
    )
  return { id, hostname: hostname() }
}
