import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { jobs } from '../../db/schema'

export type JobRow = typeof jobs.$inferSelect

/** Drizzle only: the jobs table. Claiming is one UPDATE … RETURNING, so two workers never take the same job. */
export function createJobRepository(db: Db) {
  return {
    async enqueue(kind: string, payload: Record<string, unknown>, now: number) {
      return db
        .insert(jobs)
        .values({ id: Bun.randomUUIDv7(), kind, payload, status: 'pending', createdAt: now, updatedAt: now })
        .returning()
        .get()
    },
    /** Takes the oldest pending job, or a running one whose worker stopped renewing its lease (it died). */
    async claim(now: number, leaseMs: number) {
      return db
        .update(jobs)
        .set({ status: 'running', attempts: sql`${jobs.attempts} + 1`, leaseUntil: now + leaseMs, updatedAt: now })
        .where(
          eq(
            jobs.id,
            sql`(SELECT id FROM jobs WHERE status = 'pending' OR (status = 'running' AND lease_until < ${now})
                 ORDER BY created_at LIMIT 1)`,
          ),
        )
        .returning()
        .get()
    },
    async renew(id: string, now: number, leaseMs: number) {
      db.update(jobs)
        .set({ leaseUntil: now + leaseMs, updatedAt: now })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
        .run()
    },
    async finish(id: string, status: 'completed' | 'failed' | 'pending', now: number, error: string | null = null) {
      db.update(jobs).set({ status, leaseUntil: null, lastError: error, updatedAt: now }).where(eq(jobs.id, id)).run()
    },
    async find(id: string) {
      return db.select().from(jobs).where(eq(jobs.id, id)).get()
    },
  }
}
export type JobRepository = ReturnType<typeof createJobRepository>
