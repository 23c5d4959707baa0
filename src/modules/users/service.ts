import type { Role } from '../../db/schema'
import { AppError, conflict, notFound } from '../../lib/errors'
import { iso } from '../../lib/models'
import type { CreateUserInput, RegisterInput, UpdateUserInput, UserDto } from './model'
import type { UserRepository, UserRow } from './repository'

export const toUser = (r: UserRow): UserDto => ({
  id: r.id,
  email: r.email,
  display_name: r.displayName,
  role: r.role,
  disabled: r.disabled,
  created_at: iso(r.createdAt),
  updated_at: iso(r.updatedAt),
})

const hashPassword = (password: string) => Bun.password.hash(password, { algorithm: 'argon2id' })

/** Users and their passwords; knows nothing of HTTP or tokens. */
export function createUserService(repo: UserRepository, { allowSignup }: { allowSignup: boolean }) {
  // A real argon2id hash to verify against when the email is unknown, so both failures take the same time.
  let decoyHash: Promise<string> | undefined
  const decoy = () => {
    decoyHash ??= hashPassword(crypto.randomUUID())
    return decoyHash
  }

  const newRow = async (input: RegisterInput, role: Role) => {
    const now = Date.now()
    return {
      id: Bun.randomUUIDv7(),
      email: input.email.toLowerCase(),
      passwordHash: await hashPassword(input.password),
      displayName: input.display_name,
      role,
      createdAt: now,
      updatedAt: now,
    }
  }

  const require = async (id: string) => {
    const row = await repo.find(id)
    if (!row) throw notFound('user')
    return row
  }

  const create = async (input: CreateUserInput) => {
    const row = await repo.insert(await newRow(input, input.role ?? 'member'))
    if (!row) throw conflict('a user with this email already exists')
    return toUser(row)
  }

  return {
    create,
    /** Self-service sign-up: the first user becomes admin; later ones only when sign-up is open. */
    async register(input: RegisterInput) {
      const first = await repo.insertIfNone(await newRow(input, 'admin'))
      if (first) return toUser(first)
      if (!allowSignup)
        throw new AppError(403, 'REGISTRATION_CLOSED', 'registration is closed; an admin can create your account')
      return create({ ...input, role: 'member' })
    },
    async list(limit = 50, offset = 0) {
      const { rows, total } = await repo.list(limit, offset)
      return { items: rows.map(toUser), total, limit, offset }
    },
    async get(id: string) {
      return toUser(await require(id))
    },
    async update(actorId: string, id: string, patch: UpdateUserInput) {
      const user = await require(id)
      if (id === actorId && ((patch.role && patch.role !== user.role) || patch.disabled))
        throw new AppError(403, 'FORBIDDEN', 'you cannot change your own role or disable yourself')
      const row = await repo.update(id, {
        ...(patch.display_name !== undefined && { displayName: patch.display_name }),
        ...(patch.role !== undefined && { role: patch.role }),
        ...(patch.disabled !== undefined && { disabled: patch.disabled }),
        updatedAt: Date.now(),
      })
      if (!row) throw notFound('user')
      return toUser(row)
    },
    async remove(actorId: string, id: string) {
      if (id === actorId) throw new AppError(403, 'FORBIDDEN', 'you cannot delete yourself')
      if (!(await repo.delete(id))) throw notFound('user')
    },
    /** The user these credentials belong to, if the password matches and the account is enabled. */
    async verifyPassword(email: string, password: string) {
      const user = await repo.findByEmail(email.toLowerCase())
      const ok = await Bun.password.verify(password, user?.passwordHash ?? (await decoy()))
      return ok && user && !user.disabled ? user : undefined
    },
    /** The user behind a credential, if it still exists and is enabled (checked on every request). */
    async findActive(id: string) {
      const user = await repo.find(id)
      return user && !user.disabled ? user : undefined
    },
  }
}
export type UserService = ReturnType<typeof createUserService>
