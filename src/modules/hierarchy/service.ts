import { basename } from 'node:path'
import { type Actor, ownerScope } from '../../lib/actor'
import { conflict, notFound } from '../../lib/errors'
import { iso, isoOrNull } from '../../lib/models'
import type { ConversationService } from '../conversations/service'
import type { HierarchyQuery, MachineUpsert, PageParams, SessionUpsert, WorkspaceUpsert } from './model'
import { normalizeRemote } from './remote'
import type { HierarchyRepository, MachineRow, ProjectRow, WorkspaceRow } from './repository'

export const toMachine = (m: MachineRow) => ({
  id: m.id,
  owner_id: m.ownerId,
  hostname: m.hostname,
  os: m.os,
  ip: m.ip,
  last_seen_at: iso(m.lastSeenAt),
  created_at: iso(m.createdAt),
})
export const toProject = (p: ProjectRow) => ({
  id: p.id,
  name: p.name,
  key: p.key,
  remote_url: p.remoteUrl,
  host: p.host,
  repo_owner: p.repoOwner,
  repo: p.repo,
  local_path: p.localPath,
  created_at: iso(p.createdAt),
  updated_at: iso(p.updatedAt),
})
export const toWorkspace = (w: WorkspaceRow) => ({
  id: w.id,
  project_id: w.projectId,
  machine_id: w.machineId,
  path: w.path,
  branch: w.branch,
  commit: w.commit,
  last_seen_at: iso(w.lastSeenAt),
  created_at: iso(w.createdAt),
})

/** Where a session ran, as ids: for linking events and sessions. */
export type Placement = { projectId: string; machineId: string | null; workspaceId: string }
const placementIn = (w: WorkspaceRow): Placement => ({
  projectId: w.projectId,
  machineId: w.machineId,
  workspaceId: w.id,
})

/** Projects, machines, workspaces and the sessions under them. */
export function createHierarchyService(repo: HierarchyRepository, conversations: ConversationService) {
  const visible = (actor: Actor, row: { ownerId: string } | undefined) =>
    row !== undefined && (actor.role === 'admin' || row.ownerId === actor.id)

  const upsertMachine = async (ownerId: string, m: MachineUpsert) => {
    const before = await repo.findMachine(ownerId, m.machine_id)
    const now = Date.now()
    const row = await repo.upsertMachine({
      id: m.machine_id,
      ownerId,
      hostname: m.hostname ?? null,
      os: m.os ?? null,
      ip: m.ip ?? null,
      lastSeenAt: now,
      createdAt: now,
    })
    return { machine: row, created: !before }
  }

  const upsertWorkspace = async (ownerId: string, w: WorkspaceUpsert) => {
    const remote = w.git_remote ? normalizeRemote(w.git_remote) : null
    // refuse before writing anything: a rejected request leaves no project or machine behind
    const before = await repo.findWorkspace(w.workspace_id)
    if (before && before.ownerId !== ownerId) throw conflict(`workspace ${w.workspace_id} belongs to another account`)
    const now = Date.now()
    // a workspace upserted without its remote (a hook's, or a client that did not send it) keeps its repository
    const kept = !remote && before ? await repo.findProject(before.projectId, null) : undefined
    const project = kept?.remoteUrl
      ? kept
      : await repo.upsertProject({
          id: Bun.randomUUIDv7(),
          ownerId,
          key: remote ? remote.url : `path:${w.path}`,
          name: remote ? remote.repo : basename(w.path) || w.path,
          remoteUrl: remote?.url ?? null,
          host: remote?.host ?? null,
          repoOwner: remote?.owner ?? null,
          repo: remote?.repo ?? null,
          localPath: remote ? null : w.path,
          createdAt: now,
          updatedAt: now,
        })
    if (w.machine_id) await upsertMachine(ownerId, { machine_id: w.machine_id })
    const row = await repo.upsertWorkspace({
      id: w.workspace_id,
      ownerId,
      projectId: project.id,
      machineId: w.machine_id ?? null,
      path: w.path,
      branch: w.branch ?? null,
      commit: w.commit ?? null,
      lastSeenAt: now,
      createdAt: now,
    })
    if (!row) throw conflict(`workspace ${w.workspace_id} belongs to another account`)
    return { workspace: row, project, created: !before }
  }

  /** A session's owner and the workspace it is linked to (none yet: undefined); null when there is no such session. */
  const sessionPlace = async (sessionId: string) => {
    const session = await conversations.placementOf(sessionId)
    if (!session) return null
    const workspace = session.workspaceId ? await repo.findWorkspace(session.workspaceId) : undefined
    return { ownerId: session.ownerId, workspace }
  }

  // hooks arrive many times a second from one place: remember where a (machine, cwd) was placed, and where each
  // session is (its workspace's path with it), so a hook costs no lookups once its session is placed
  const placements = new Map<string, Placement>()
  const sessions = new Map<string, { path: string; placement: Placement }>()
  const remember = <T>(map: Map<string, T>, key: string, value: T) => {
    if (map.size > 10_000) map.clear()
    map.set(key, value)
  }

  return {
    upsertMachine: (actor: Actor, m: MachineUpsert) => upsertMachine(actor.id, m),
    async listMachines(actor: Actor, q: PageParams) {
      const limit = q.limit ?? 50
      const offset = q.offset ?? 0
      const { rows, total } = await repo.listMachines(ownerScope(actor), limit, offset)
      return { items: rows.map(toMachine), total, limit, offset }
    },
    async getMachine(actor: Actor, id: string) {
      const machine = await repo.findMachine(actor.id, id, actor.role === 'admin')
      if (!machine) throw notFound('machine')
      return {
        ...toMachine(machine),
        workspaces: (await repo.workspacesOfMachine(machine.ownerId, id)).map(toWorkspace),
      }
    },
    async upsertWorkspace(actor: Actor, w: WorkspaceUpsert) {
      const result = await upsertWorkspace(actor.id, w)
      // what hooks remember of this workspace may name its former project or machine
      for (const [key, p] of placements) if (p.workspaceId === w.workspace_id) placements.delete(key)
      for (const [key, s] of sessions) if (s.placement.workspaceId === w.workspace_id) sessions.delete(key)
      return result
    },
    async getWorkspace(actor: Actor, id: string) {
      const workspace = await repo.findWorkspace(id)
      if (!workspace || !visible(actor, workspace)) throw notFound('workspace')
      const project = await repo.findProject(workspace.projectId, null)
      const machine = workspace.machineId ? await repo.findMachine(workspace.ownerId, workspace.machineId) : undefined
      return {
        ...toWorkspace(workspace),
        project: toProject(project as ProjectRow),
        machine: machine ? toMachine(machine) : null,
      }
    },
    async listProjects(actor: Actor, q: PageParams) {
      const limit = q.limit ?? 50
      const offset = q.offset ?? 0
      const { rows, total } = await repo.listProjects(ownerScope(actor), limit, offset)
      const items = rows.map((r) => ({ ...toProject(r.project), workspaces: r.workspaces, sessions: r.sessions }))
      return { items, total, limit, offset }
    },
    async hierarchy(actor: Actor, projectId: string, q: HierarchyQuery) {
      const project = await repo.findProject(projectId, ownerScope(actor))
      if (!project) throw notFound('project')
      const { spaces, sessions } = await repo.hierarchy(projectId, q.sessions_per_workspace ?? 10)
      // each workspace's sessions newest first (sorted here, a few at a time, rather than all at once in SQL)
      const sessionsOf = Map.groupBy(sessions, (s) => s.workspace_id)
      for (const list of sessionsOf.values())
        list.sort((a, b) => b.started_at - a.started_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      const byMachine = new Map<
        string | null,
        { machine: ReturnType<typeof toMachine> | null; workspaces: unknown[] }
      >()
      for (const { workspace, machine, sessionCount } of spaces) {
        const node = byMachine.get(workspace.machineId) ?? {
          machine: machine ? toMachine(machine) : null,
          workspaces: [],
        }
        byMachine.set(workspace.machineId, node)
        node.workspaces.push({
          ...toWorkspace(workspace),
          session_count: sessionCount,
          sessions: (sessionsOf.get(workspace.id) ?? []).map((s) => ({
            id: s.id,
            title: s.title,
            started_at: iso(s.started_at),
            ended_at: isoOrNull(s.ended_at),
            message_count: s.message_count,
            event_count: s.event_count,
          })),
        })
      }
      return { project: toProject(project), machines: [...byMachine.values()] as never }
    },
    async project(actor: Actor, projectId: string) {
      const project = await repo.findProject(projectId, ownerScope(actor))
      if (!project) throw notFound('project')
      return project
    },
    async upsertSession(actor: Actor, s: SessionUpsert) {
      if (s.workspace_id) {
        const workspace = await repo.findWorkspace(s.workspace_id)
        if (!workspace || workspace.ownerId !== actor.id) throw notFound('workspace')
      }
      sessions.delete(`${actor.id}\u0000${s.session_id}`) // linked anew: the next hook looks it up again
      return conversations.upsertSession(actor.id, {
        id: s.session_id,
        workspaceId: s.workspace_id,
        title: s.title,
        gitBranch: s.git_branch,
      })
    },
    /**
     * Places a hook's session: the machine (when the client names one), a workspace for its cwd on that machine,
     * the project of that path, and the session's conversation (created when unseen).
     */
    async place(ownerId: string, p: { sessionId: string; cwd: string; machineId?: string; hostname?: string }) {
      const key = `${ownerId}\u0000${p.machineId ?? ''}\u0000${p.cwd}`
      const sessionKey = `${ownerId}\u0000${p.sessionId}`
      // A session stays in the workspace it already has at this path (one linked through POST /api/sessions, or
      // placed by an earlier hook), when the hook names no other machine: only some of a session's hooks may send
      // the machine header, and those without it must not split the session into a machineless workspace.
      let current = sessions.get(sessionKey)
      if (!current) {
        const session = await sessionPlace(p.sessionId)
        // another account's session: refused before a machine or workspace is made for it
        if (session && session.ownerId !== ownerId) throw conflict(`session ${p.sessionId} belongs to another account`)
        if (session?.workspace) current = { path: session.workspace.path, placement: placementIn(session.workspace) }
      }
      const stays = current?.path === p.cwd && (!p.machineId || current.placement.machineId === p.machineId)
      let placement = stays ? current?.placement : placements.get(key)
      if (!placement) {
        if (p.machineId) await upsertMachine(ownerId, { machine_id: p.machineId, hostname: p.hostname })
        const workspaceId = `ws_${new Bun.CryptoHasher('sha256').update(key).digest('hex').slice(0, 24)}`
        const { workspace } = await upsertWorkspace(ownerId, {
          workspace_id: workspaceId,
          machine_id: p.machineId,
          path: p.cwd,
        })
        placement = placementIn(workspace)
        remember(placements, key, placement)
      }
      await conversations.upsertSession(ownerId, {
        id: p.sessionId,
        workspaceId: placement.workspaceId,
        projectPath: p.cwd,
      })
      remember(sessions, sessionKey, { path: p.cwd, placement })
      return placement
    },
    /** Where a session ran, when it is linked to a workspace. */
    async placementOfSession(sessionId: string) {
      const session = await sessionPlace(sessionId)
      return session?.workspace ? placementIn(session.workspace) : null
    },
    /** Where one of the owner's sessions ran, for events that name only their session. */
    async placementOfOwnSession(ownerId: string, sessionId: string): Promise<Placement | null> {
      const session = await sessionPlace(sessionId)
      return session?.ownerId === ownerId && session.workspace ? placementIn(session.workspace) : null
    },
    /** The workspace's placement, for events that name a workspace. */
    async placementOf(ownerId: string, workspaceId: string): Promise<Placement | null> {
      const w = await repo.findWorkspace(workspaceId)
      return w && w.ownerId === ownerId ? placementIn(w) : null
    },
  }
}
export type HierarchyService = ReturnType<typeof createHierarchyService>
