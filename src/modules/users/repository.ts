import { asc, count, eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { users } from '../../db/schema'

export type UserRow = typeof users.$inferSelect
export type NewUserRow = typeof users.$inferInsert

/** Drizzle only: the users table. */
export function createUserRepository(db: Db) {
  const byId = db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare()
  const byEmail = db
    .select()
    .from(users)
    .where(eq(users.email, sql.placeholder('email')))
    .prepare()
  return {
    async find(id: string) {
      return byId.get({ id })
    },
    async findByEmail(email: string) {
      return byEmail.get({ email })
    },
    async list(limit: number, offset: number) {
      const rows = db
        .select()
        .from(users)
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(limit)
        .offset(offset)
        .all()
      return { rows, total: db.select({ n: count() }).from(users).get()?.n ?? 0 }
    },
    /** Inserts a user, or nothing when the email is taken. */
    async insert(row: NewUserRow) {
      return db.insert(users).values(row).onConflictDoNothing({ target: users.email }).returning().get()
    },
    /** Inserts the first user, or nothing when a user already exists (one transaction, so two racing sign-ups cannot both become admin). */
    async insertIfNone(row: NewUserRow) {
      return db.transaction(
        (tx) => {
          if ((tx.select({ n: count() }).from(users).get()?.n ?? 0) > 0) return undefined
          return tx.insert(users).values(row).returning().get()
        },
        { behavior: 'immediate' },
      )
    },
    async update(id: string, patch: Partial<NewUserRow>) {
      return db.update(users).set(patch).where(eq(users.id, id)).returning().get()
    },
    /** Deletes the user; everything they own goes with them (ON DELETE CASCADE). */
    async delete(id: string) {
      return db.delete(users).where(eq(users.id, id)).returning({ id: users.id }).get()
    },
  }
}
export type UserRepository = ReturnType<typeof createUserRepository>
