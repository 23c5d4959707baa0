import { AppError, notFound } from '../../lib/errors'
import { iso, isoOrNull } from '../../lib/models'
import type { UserRow } from '../users/repository'
import type { UserService } from '../users/service'
import type { AuthRepository } from './repository'
import { ACCESS_TOKEN_TTL_S, createAccessTokens, randomSecret, sha256 } from './tokens'

const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000
const API_KEY_PREFIX = 'obs'
const REFRESH_PREFIX = 'ort'
/** `obs_` and the next 8 characters: enough to tell keys apart, far too little to guess one */
const DISPLAY_PREFIX_LENGTH = 12

const unauthorized = (message = 'a valid credential is required') => new AppError(401, 'UNAUTHORIZED', message)
const badLogin = () => unauthorized('invalid email or password')
const badRefresh = () => unauthorized('invalid or expired refresh token')

export type Credential = { bearer?: string; apiKey?: string }

/** Logins, token rotation and API keys; resolves any credential to its (still active) user. */
export function createAuthService(repo: AuthRepository, users: UserService, { jwtSecret }: { jwtSecret: string }) {
  const access = createAccessTokens(jwtSecret)

  /** A new refresh token: the secret for the client and the row (hash only) to store. */
  const newRefreshToken = () => {
    const token = randomSecret(REFRESH_PREFIX)
    const now = Date.now()
    return {
      token,
      row: { id: Bun.randomUUIDv7(), tokenHash: sha256(token), expiresAt: now + REFRESH_TOKEN_TTL_MS, createdAt: now },
    }
  }
  const tokenPair = async (userId: string, refreshToken: string) => ({
    access_token: await access.sign(userId),
    refresh_token: refreshToken,
    token_type: 'Bearer' as const,
    expires_in: ACCESS_TOKEN_TTL_S,
  })

  const userOfApiKey = async (key: string) => {
    if (!key.startsWith(`${API_KEY_PREFIX}_`)) return undefined
    const row = await repo.findLiveApiKey(sha256(key))
    if (!row) return undefined
    const user = await users.findActive(row.userId)
    // last_used_at moves at most once a minute, so a busy key does not turn every read into a write
    const now = Date.now()
    if (user && (row.lastUsedAt === null || row.lastUsedAt < now - 60_000)) await repo.touchApiKey(row.id, now)
    return user
  }

  return {
    async login(email: string, password: string) {
      const user = await users.verifyPassword(email, password)
      if (!user) throw badLogin()
      const { token, row } = newRefreshToken()
      await repo.pruneRefreshTokens(row.createdAt)
      await repo.insertRefreshToken({ ...row, userId: user.id, familyId: Bun.randomUUIDv7() })
      return tokenPair(user.id, token)
    },
    /** Rotates a refresh token; using a rotated one again revokes its whole family. */
    async refresh(token: string) {
      const next = newRefreshToken()
      const result = await repo.rotateRefreshToken(sha256(token), next.row, next.row.createdAt)
      if (result.outcome !== 'rotated' || !(await users.findActive(result.row.userId))) throw badRefresh()
      return tokenPair(result.row.userId, next.token)
    },
    async logout(token: string) {
      await repo.revokeFamilyOf(sha256(token), Date.now())
    },
    /** The active user behind a credential; every failure is the same 401. */
    async authenticate({ bearer, apiKey }: Credential): Promise<UserRow> {
      let user: UserRow | undefined
      if (apiKey !== undefined) user = await userOfApiKey(apiKey)
      else if (bearer?.startsWith(`${API_KEY_PREFIX}_`)) user = await userOfApiKey(bearer)
      else if (bearer) {
        const userId = await access.verify(bearer)
        user = userId ? await users.findActive(userId) : undefined
      }
      if (!user) throw unauthorized()
      return user
    },
    async createApiKey(userId: string, name: string) {
      const key = randomSecret(API_KEY_PREFIX)
      const row = await repo.insertApiKey({
        id: Bun.randomUUIDv7(),
        userId,
        name,
        keyHash: sha256(key),
        prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
        createdAt: Date.now(),
      })
      return { ...toApiKey(row), key }
    },
    async listApiKeys(userId: string) {
      const items = (await repo.listApiKeys(userId)).map(toApiKey)
      return { items, total: items.length }
    },
    async revokeApiKey(userId: string, id: string) {
      if (!(await repo.revokeApiKey(userId, id, Date.now()))) throw notFound('API key')
    },
  }
}
export type AuthService = ReturnType<typeof createAuthService>

const toApiKey = (r: {
  id: string
  name: string
  prefix: string
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}) => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  created_at: iso(r.createdAt),
  last_used_at: isoOrNull(r.lastUsedAt),
  revoked_at: isoOrNull(r.revokedAt),
})
