import { Elysia } from 'elysia'
import { ErrorBody } from '../../lib/errors'
import { IdParams, SECURITY } from '../../lib/models'
import type { ReadCache } from '../../lib/read-cache'
import type { AuthGuard } from '../auth/guard'
import { ConversationModel } from '../conversations/model'
import { HierarchyModel } from './model'
import { type HierarchyService, toMachine, toProject, toWorkspace } from './service'

const common = { 401: 'error', 422: 'error', 429: 'error' } as const

/** Projects → machines → workspaces → sessions: upserts from clients, and the views teams read. */
export const hierarchyModule = ({
  hierarchy,
  reads,
  guard,
}: {
  hierarchy: HierarchyService
  reads: ReadCache
  guard: AuthGuard
}) =>
  new Elysia({ name: 'hierarchy', prefix: '/api', detail: { tags: ['hierarchy'], security: SECURITY } })
    .use(guard)
    .model(HierarchyModel)
    .model(ConversationModel)
    .model({ error: ErrorBody })
    .post(
      '/machines',
      async ({ user, body, status }) => {
        const { machine, created } = await hierarchy.upsertMachine(user, body)
        return created ? status(201, toMachine(machine)) : toMachine(machine)
      },
      {
        role: 'member',
        body: 'hierarchy.MachineUpsert',
        response: {
          200: 'hierarchy.Machine',
          201: 'hierarchy.Machine',
          400: 'error',
          403: 'error',
          ...common,
        },
        detail: { summary: "Register or update a machine (idempotent, by machine_id, the account's own)" },
      },
    )
    .get('/machines', ({ user, query }) => hierarchy.listMachines(user, query), {
      role: 'viewer',
      query: 'hierarchy.ListQuery',
      response: { 200: 'hierarchy.MachineList', ...common },
      detail: { summary: 'List machines, most recently seen first' },
    })
    .get('/machines/:id', ({ user, params }) => hierarchy.getMachine(user, params.id), {
      role: 'viewer',
      params: IdParams,
      response: { 200: 'hierarchy.MachineDetail', 404: 'error', ...common },
      detail: {
        summary: 'A machine with its workspaces',
        description:
          "Your machine of that id. An admin gets their own, else the one of that id seen last (machine ids are each account's own).",
      },
    })
    .post(
      '/workspaces',
      async ({ user, body, status }) => {
        const { workspace, created } = await hierarchy.upsertWorkspace(user, body)
        return created ? status(201, toWorkspace(workspace)) : toWorkspace(workspace)
      },
      {
        role: 'member',
        body: 'hierarchy.WorkspaceUpsert',
        response: {
          200: 'hierarchy.Workspace',
          201: 'hierarchy.Workspace',
          400: 'error',
          403: 'error',
          409: 'error',
          ...common,
        },
        detail: {
          summary: 'Register or update a workspace (idempotent, by workspace_id)',
          description: 'The project comes from git_remote, normalised to https://host/owner/repo, or from the path.',
        },
      },
    )
    .get('/workspaces/:id', ({ user, params }) => hierarchy.getWorkspace(user, params.id), {
      role: 'viewer',
      params: IdParams,
      response: { 200: 'hierarchy.WorkspaceDetail', 404: 'error', ...common },
      detail: { summary: 'A workspace with its project and machine' },
    })
    .get('/projects', ({ user, query }) => hierarchy.listProjects(user, query), {
      role: 'viewer',
      query: 'hierarchy.ListQuery',
      response: { 200: 'hierarchy.ProjectList', ...common },
      detail: { summary: 'List projects with their workspace and session counts' },
    })
    .get('/projects/:id', async ({ user, params }) => toProject(await hierarchy.project(user, params.id)), {
      role: 'viewer',
      params: IdParams,
      response: { 200: 'hierarchy.Project', 404: 'error', ...common },
      detail: { summary: 'One project' },
    })
    .get(
      '/projects/:id/hierarchy',
      ({ user, params, query }) =>
        reads.remember(['hierarchy', user.id, user.role, params.id, query], () =>
          hierarchy.hierarchy(user, params.id, query),
        ),
      {
        role: 'viewer',
        params: IdParams,
        query: 'hierarchy.HierarchyQuery',
        response: { 200: 'hierarchy.Hierarchy', 404: 'error', ...common },
        detail: {
          summary: 'Machines → workspaces → sessions (with event counts) of a project, in two queries',
          description:
            'Each workspace lists its session count and its latest sessions (sessions_per_workspace, default 10); ' +
            'page through the rest with GET /api/conversations?workspace_id=.',
        },
      },
    )
    .post(
      '/sessions',
      async ({ user, body, status }) => {
        const { conversation, created } = await hierarchy.upsertSession(user, body)
        return created ? status(201, conversation) : conversation
      },
      {
        role: 'member',
        body: 'hierarchy.SessionUpsert',
        response: {
          200: 'conversation.Conversation',
          201: 'conversation.Conversation',
          400: 'error',
          403: 'error',
          404: 'error',
          409: 'error',
          ...common,
        },
        detail: { summary: 'Register a session (a conversation) and link it to its workspace (idempotent)' },
      },
    )
