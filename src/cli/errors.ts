import type { FileProgress } from './target'

/** A failure the CLI reports as one line on stderr and exit code 1, without a stack trace. */
export class CliError extends Error {}

/** The remote server could not be reached (network): fatal for `import`, retried later by `watch`. */
export class Unreachable extends CliError {}

/** Thrown from a progress callback to stop an import after the chunk that just committed. */
export class Stopped extends Error {
  /** how far the file got: what the committed chunks added */
  partial: FileProgress | null = null
  constructor() {
    super('stopped')
  }
}

export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))
