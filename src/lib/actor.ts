import type { Role } from '../db/schema'

/** Who is asking: the authenticated user's id and role (always from the database, never from a token). */
export type Actor = { id: string; role: Role }

/** The owner a query is limited to: the actor's own records, or everyone's for an admin. */
export const ownerScope = (actor: Actor): string | null => (actor.role === 'admin' ? null : actor.id)
