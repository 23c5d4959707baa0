import type { Logger } from 'pino'
import type { JobRepository, JobRow } from './repository'

/** short, so a job whose process died is picked up again within seconds; renewed three times per lease */
const LEASE_MS = 6_000
const IDLE_POLL_MS = 500
const MAX_ATTEMPTS = 3

export type JobHandler = (
  payload: Record<string, unknown>,
  context: { job: JobRow; signal: AbortSignal },
) => Promise<void>

/** Thrown by a handler that stopped because the queue is stopping: the job goes back to pending, untouched. */
export class JobInterrupted extends Error {}

/**
 * The embedded job queue: jobs live in SQLite (they survive restarts), a worker loop claims them with a lease it
 * renews while working, and a job whose worker died is claimed again once its lease runs out.
 */
export function createJobQueue({
  repo,
  handlers,
  logger,
}: {
  repo: JobRepository
  handlers: Record<string, JobHandler>
  logger: Logger
}) {
  const stopping = new AbortController()
  let wake: (() => void) | undefined
  let loop: Promise<void> | undefined

  const run = async (job: JobRow) => {
    const handler = handlers[job.kind]
    const renewal = setInterval(() => void repo.renew(job.id, Date.now(), LEASE_MS), LEASE_MS / 3).unref()
    try {
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`)
      await handler(job.payload, { job, signal: stopping.signal })
      await repo.finish(job.id, 'completed', Date.now())
    } catch (e) {
      if (e instanceof JobInterrupted) await repo.finish(job.id, 'pending', Date.now())
      else {
        const message = (e as Error).message
        logger.error({ err: e, job_id: job.id, kind: job.kind }, 'job failed')
        await repo.finish(job.id, job.attempts >= MAX_ATTEMPTS ? 'failed' : 'pending', Date.now(), message)
      }
    } finally {
      clearInterval(renewal)
    }
  }

  const work = async () => {
    while (!stopping.signal.aborted) {
      try {
        const job = await repo.claim(Date.now(), LEASE_MS)
        if (job) {
          await run(job)
          continue
        }
      } catch (e) {
        // the loop must outlive a bad moment (a busy or closed database): say so, wait, try again
        logger.error({ err: e }, 'job queue: could not claim or finish a job')
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, IDLE_POLL_MS).unref() // an idle queue never keeps the process alive
      })
    }
  }

  return {
    async enqueue(kind: string, payload: Record<string, unknown>) {
      const job = await repo.enqueue(kind, payload, Date.now())
      wake?.()
      return job
    },
    start() {
      loop ??= work()
    },
    /** Stops claiming, asks the running handler to stop at its next safe point, and waits for it. */
    async stop() {
      stopping.abort()
      wake?.()
      await loop
    },
  }
}
export type JobQueue = ReturnType<typeof createJobQueue>
