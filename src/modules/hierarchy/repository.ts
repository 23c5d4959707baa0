import { and, asc, desc, eq, sql } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import type { Db } from '../../db/client'
import { machines, projects, workspaces } from '../../db/schema'

export type MachineRow = typeof machines.$inferSelect
export type ProjectRow = typeof projects.$inferSelect
export type WorkspaceRow = typeof workspaces.$inferSelect

/** Drizzle only: projects, machines and workspaces, and the read side of the hierarchy. */
export function createHierarchyRepository(db: Db) {
  const owned = (column: SQLiteColumn, ownerId: string | null) => (ownerId === null ? undefined : eq(column, ownerId))

  return {
    /** This owner's machine of that id; with `anyOwner` (an admin), their own first, else the latest seen of that id. */
    async findMachine(ownerId: string, id: string, anyOwner = false) {
      return db
        .select()
        .from(machines)
        .where(and(eq(machines.id, id), anyOwner ? undefined : eq(machines.ownerId, ownerId)))
        .orderBy(sql`${machines.ownerId} = ${ownerId} DESC`, desc(machines.lastSeenAt))
        .limit(1)
        .get()
    },
    async upsertMachine(row: typeof machines.$inferInsert) {
      return db
        .insert(machines)
        .values(row)
        .onConflictDoUpdate({
          target: [machines.ownerId, machines.id],
          set: {
            hostname: sql`coalesce(excluded.hostname, ${machines.hostname})`,
            os: sql`coalesce(excluded.os, ${machines.os})`,
            ip: sql`coalesce(excluded.ip, ${machines.ip})`,
            lastSeenAt: sql`excluded.last_seen_at`,
          },
        })
        .returning()
        .get()
    },
    async listMachines(ownerId: string | null, limit: number, offset: number) {
      const rows = db
        .select()
        .from(machines)
        .where(owned(machines.ownerId, ownerId))
        .orderBy(desc(machines.lastSeenAt), asc(machines.id), asc(machines.ownerId))
        .limit(limit)
        .offset(offset)
        .all()
      return { rows, total: await db.$count(machines, owned(machines.ownerId, ownerId)) }
    },
    async upsertProject(row: typeof projects.$inferInsert) {
      return db
        .insert(projects)
        .values(row)
        .onConflictDoUpdate({ target: [projects.ownerId, projects.key], set: { updatedAt: sql`excluded.updated_at` } })
        .returning()
        .get()
    },
    async findProject(id: string, ownerId: string | null) {
      return db
        .select()
        .from(projects)
        .where(and(eq(projects.id, id), owned(projects.ownerId, ownerId)))
        .get()
    },
    async listProjects(ownerId: string | null, limit: number, offset: number) {
      const rows = db
        .select({
          project: projects,
          workspaces: sql<number>`(SELECT count(*) FROM workspaces w WHERE w.project_id = "projects"."id")`,
          sessions: sql<number>`(SELECT count(*) FROM conversations c JOIN workspaces w ON w.id = c.workspace_id
                                 WHERE w.project_id = "projects"."id")`,
        })
        .from(projects)
        .where(owned(projects.ownerId, ownerId))
        .orderBy(desc(projects.updatedAt), asc(projects.id))
        .limit(limit)
        .offset(offset)
        .all()
      return { rows, total: await db.$count(projects, owned(projects.ownerId, ownerId)) }
    },
    async findWorkspace(id: string) {
      return db.select().from(workspaces).where(eq(workspaces.id, id)).get()
    },
    async upsertWorkspace(row: typeof workspaces.$inferInsert) {
      return db
        .insert(workspaces)
        .values(row)
        .onConflictDoUpdate({
          target: workspaces.id,
          set: {
            projectId: sql`excluded.project_id`,
            machineId: sql`coalesce(excluded.machine_id, ${workspaces.machineId})`,
            path: sql`excluded.path`,
            branch: sql`coalesce(excluded.branch, ${workspaces.branch})`,
            commit: sql`coalesce(excluded.commit_sha, ${workspaces.commit})`,
            lastSeenAt: sql`excluded.last_seen_at`,
          },
          setWhere: sql`${workspaces.ownerId} = excluded.owner_id`,
        })
        .returning()
        .get()
    },
    async workspacesOfMachine(ownerId: string, machineId: string) {
      return db
        .select()
        .from(workspaces)
        .where(and(eq(workspaces.machineId, machineId), eq(workspaces.ownerId, ownerId)))
        .orderBy(desc(workspaces.lastSeenAt))
        .all()
    },
    /**
     * The hierarchy under a project in two queries, whatever its size: workspaces with their machines and session
     * counts; each workspace's latest sessions with their event counts (a range of conversations_workspace_sessions_idx,
     * read from the index alone: perWorkspace of them, more only when several started at the same millisecond), in no
     * particular order.
     */
    async hierarchy(projectId: string, perWorkspace: number) {
      const spaces = db
        .select({
          workspace: workspaces,
          machine: machines,
          sessionCount: sql<number>`(SELECT count(*) FROM conversations c WHERE c.workspace_id = ${workspaces.id})`,
        })
        .from(workspaces)
        .leftJoin(machines, and(eq(machines.id, workspaces.machineId), eq(machines.ownerId, workspaces.ownerId)))
        .where(eq(workspaces.projectId, projectId))
        .orderBy(asc(workspaces.machineId), asc(workspaces.path))
        .all()
      const sessions = db.all<{
        id: string
        workspace_id: string
        title: string | null
        started_at: number
        ended_at: number | null
        message_count: number
        event_count: number
      }>(sql`
        SELECT c.id, c.workspace_id, c.title, c.started_at, c.ended_at, c.message_count, c.event_count
        FROM workspaces w JOIN conversations c ON c.workspace_id = w.id
        -- from the workspace's perWorkspace-th newest start on: a range of the index, no per-workspace sort
        WHERE w.project_id = ${projectId} AND ${perWorkspace} > 0 AND c.started_at >= coalesce(
          (SELECT x.started_at FROM conversations x WHERE x.workspace_id = w.id
           ORDER BY x.started_at DESC LIMIT 1 OFFSET ${perWorkspace - 1}), ${Number.MIN_SAFE_INTEGER})`)
      return { spaces, sessions }
    },
  }
}
export type HierarchyRepository = ReturnType<typeof createHierarchyRepository>
