import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { apiKeys, refreshTokens } from '../../db/schema'

export type RefreshTokenRow = typeof refreshTokens.$inferSelect
export type ApiKeyRow = typeof apiKeys.$inferSelect

/** Drizzle only: refresh tokens and API keys, looked up by their hashes. */
export function createAuthRepository(db: Db) {
  const keyByHash = db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, sql.placeholder('hash')), isNull(apiKeys.revokedAt)))
    .prepare()

  return {
    async insertRefreshToken(row: typeof refreshTokens.$inferInsert) {
      db.insert(refreshTokens).values(row).run()
    },
    /**
     * Exchanges a refresh token for a new one in the same family, atomically: the old one is marked rotated only if
     * it was live, so two concurrent uses cannot both succeed. Returns the old row, or why it was refused.
     */
    async rotateRefreshToken(
      hash: string,
      next: Omit<typeof refreshTokens.$inferInsert, 'userId' | 'familyId'>,
      now: number,
    ) {
      return db.transaction(
        (tx) => {
          const row = tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hash)).get()
          if (!row) return { outcome: 'unknown' as const }
          if (row.revokedAt !== null || row.expiresAt <= now) return { outcome: 'dead' as const, row }
          if (row.rotatedAt !== null) {
            // A rotated token used again: it leaked. Revoke the whole family.
            tx.update(refreshTokens)
              .set({ revokedAt: now })
              .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)))
              .run()
            return { outcome: 'reused' as const, row }
          }
          tx.update(refreshTokens).set({ rotatedAt: now }).where(eq(refreshTokens.id, row.id)).run()
          tx.insert(refreshTokens)
            .values({ ...next, userId: row.userId, familyId: row.familyId })
            .run()
          return { outcome: 'rotated' as const, row }
        },
        { behavior: 'immediate' },
      )
    },
    async revokeFamilyOf(hash: string, now: number) {
      const row = db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hash)).get()
      if (!row) return
      db.update(refreshTokens)
        .set({ revokedAt: now })
        .where(and(eq(refreshTokens.familyId, row.familyId), isNull(refreshTokens.revokedAt)))
        .run()
    },
    /** Drops refresh tokens that can never be used again. */
    async pruneRefreshTokens(now: number) {
      db.delete(refreshTokens)
        .where(or(lt(refreshTokens.expiresAt, now), lt(refreshTokens.revokedAt, now - 86_400_000)))
        .run()
    },
    async insertApiKey(row: typeof apiKeys.$inferInsert) {
      return db.insert(apiKeys).values(row).returning().get()
    },
    async findLiveApiKey(hash: string) {
      return keyByHash.get({ hash })
    },
    async listApiKeys(userId: string) {
      return db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt)).all()
    },
    async revokeApiKey(userId: string, id: string, now: number) {
      return db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id })
        .get()
    },
    /** Records use, at most once a minute per key so reads do not turn into writes. */
    async touchApiKey(id: string, now: number) {
      db.update(apiKeys)
        .set({ lastUsedAt: now })
        .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - 60_000))))
        .run()
    },
  }
}
export type AuthRepository = ReturnType<typeof createAuthRepository>
