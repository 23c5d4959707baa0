import { t } from 'elysia'
import { ClientId, DateTimeInput, Integer, JsonObject, Page, PageQuery, Timestamp } from '../../lib/models'

const Id = ClientId
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()])

const at = '2026-01-01T12:00:00.000Z'
const machineExample = {
  id: 'c0ffee-laptop',
  owner_id: '0190f5c2-0000-7000-8000-0000000000a1',
  hostname: 'ada-laptop',
  os: 'darwin 24.1',
  ip: '10.0.0.5',
  last_seen_at: at,
  created_at: at,
}
const projectExample = {
  id: '0190f5c2-0000-7000-8000-0000000000p1',
  name: 'shop',
  key: 'https://github.com/ada/shop',
  remote_url: 'https://github.com/ada/shop',
  host: 'github.com',
  repo_owner: 'ada',
  repo: 'shop',
  local_path: null,
  created_at: at,
  updated_at: at,
}
const workspaceExample = {
  id: 'ws-1',
  project_id: projectExample.id,
  machine_id: machineExample.id,
  path: '/home/ada/shop',
  branch: 'main',
  commit: '4e1f2a9',
  last_seen_at: at,
  created_at: at,
}

export const Machine = t.Object(
  {
    id: t.String({
      description: "The client's machine_id: an account's own (another account may have one of that id)",
    }),
    owner_id: t.String(),
    hostname: Nullable(t.String()),
    os: Nullable(t.String()),
    ip: Nullable(t.String()),
    last_seen_at: Timestamp,
    created_at: Timestamp,
  },
  { examples: [machineExample] },
)
export const Project = t.Object(
  {
    id: t.String(),
    name: t.String(),
    key: t.String({ description: 'https://host/owner/repo, or path:<local path> for a project without a remote' }),
    remote_url: Nullable(t.String()),
    host: Nullable(t.String()),
    repo_owner: Nullable(t.String()),
    repo: Nullable(t.String()),
    local_path: Nullable(t.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { examples: [projectExample] },
)
export const Workspace = t.Object(
  {
    id: t.String(),
    project_id: t.String(),
    machine_id: Nullable(t.String()),
    path: t.String(),
    branch: Nullable(t.String()),
    commit: Nullable(t.String()),
    last_seen_at: Timestamp,
    created_at: Timestamp,
  },
  { examples: [workspaceExample] },
)
export const Event = t.Object(
  {
    id: t.String(),
    event_id: Nullable(t.String()),
    type: t.String(),
    session_id: Nullable(t.String()),
    workspace_id: Nullable(t.String()),
    machine_id: Nullable(t.String()),
    project_id: Nullable(t.String()),
    tool_name: Nullable(t.String()),
    tool_use_id: Nullable(t.String()),
    payload: JsonObject,
    timestamp: Timestamp,
  },
  {
    examples: [
      {
        id: '0190f5c2-0000-7000-8000-0000000000e1',
        event_id: 'build-2026-01-01-1',
        type: 'PreToolUse',
        session_id: 'ae4a77f8-aedd-4bc1-888f-c94edc91af04',
        workspace_id: 'ws-1',
        machine_id: 'c0ffee-laptop',
        project_id: projectExample.id,
        tool_name: 'Bash',
        tool_use_id: 'toolu_01ABC',
        payload: { hook_event_name: 'PreToolUse', tool_input: { command: 'bun test' } },
        timestamp: at,
      },
    ],
  },
)
const SessionNode = t.Object({
  id: t.String(),
  title: Nullable(t.String()),
  started_at: Timestamp,
  ended_at: Nullable(Timestamp),
  message_count: Integer(),
  event_count: Integer(),
})

export const HierarchyModel = {
  'hierarchy.Machine': Machine,
  'hierarchy.MachineList': Page(Machine),
  'hierarchy.MachineDetail': t.Composite([Machine, t.Object({ workspaces: t.Array(Workspace) })], {
    examples: [{ ...machineExample, workspaces: [workspaceExample] }],
  }),
  'hierarchy.MachineUpsert': t.Object(
    {
      machine_id: Id,
      hostname: t.Optional(t.String({ maxLength: 255 })),
      os: t.Optional(t.String({ maxLength: 255 })),
      ip: t.Optional(t.String({ maxLength: 64 })),
    },
    {
      additionalProperties: false,
      examples: [{ machine_id: 'c0ffee-laptop', hostname: 'ada-laptop', os: 'darwin 24.1' }],
    },
  ),
  'hierarchy.Workspace': Workspace,
  'hierarchy.WorkspaceDetail': t.Composite([Workspace, t.Object({ project: Project, machine: Nullable(Machine) })], {
    examples: [{ ...workspaceExample, project: projectExample, machine: machineExample }],
  }),
  'hierarchy.WorkspaceUpsert': t.Object(
    {
      workspace_id: Id,
      machine_id: t.Optional(Id),
      path: t.String({ minLength: 1, maxLength: 4096 }),
      branch: t.Optional(t.String({ maxLength: 255 })),
      commit: t.Optional(t.String({ maxLength: 64 })),
      git_remote: t.Optional(
        t.String({ minLength: 1, maxLength: 2048, description: 'Any form: git@host:o/r.git, https://…' }),
      ),
    },
    {
      additionalProperties: false,
      examples: [
        {
          workspace_id: 'ws-1',
          machine_id: 'c0ffee-laptop',
          path: '/home/ada/shop',
          branch: 'main',
          git_remote: 'git@github.com:ada/shop.git',
        },
      ],
    },
  ),
  'hierarchy.Project': Project,
  'hierarchy.ProjectList': Page(
    t.Composite([Project, t.Object({ workspaces: Integer(), sessions: Integer() })], {
      examples: [{ ...projectExample, workspaces: 2, sessions: 14 }],
    }),
  ),
  'hierarchy.ListQuery': t.Object({ ...PageQuery }),
  'hierarchy.Hierarchy': t.Object(
    {
      project: Project,
      machines: t.Array(
        t.Object({
          machine: Nullable(Machine),
          workspaces: t.Array(
            t.Composite([
              Workspace,
              t.Object({
                session_count: Integer({ description: 'All sessions of the workspace' }),
                sessions: t.Array(SessionNode, {
                  description:
                    'The latest sessions_per_workspace, newest first; the rest: GET /api/conversations?workspace_id=',
                }),
              }),
            ]),
          ),
        }),
      ),
    },
    {
      examples: [
        {
          project: projectExample,
          machines: [
            {
              machine: machineExample,
              workspaces: [
                {
                  ...workspaceExample,
                  session_count: 1,
                  sessions: [
                    {
                      id: 'ae4a77f8-aedd-4bc1-888f-c94edc91af04',
                      title: 'Fix the build',
                      started_at: at,
                      ended_at: at,
                      message_count: 120,
                      event_count: 48,
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  ),
  'hierarchy.HierarchyQuery': t.Object({
    sessions_per_workspace: t.Optional(
      t.Integer({ minimum: 0, maximum: 1000, default: 10, description: 'Latest sessions listed per workspace' }),
    ),
  }),
  'hierarchy.SessionUpsert': t.Object(
    {
      session_id: Id,
      workspace_id: t.Optional(Id),
      title: t.Optional(t.String({ minLength: 1, maxLength: 500 })),
      git_branch: t.Optional(t.String({ maxLength: 255 })),
    },
    {
      additionalProperties: false,
      examples: [{ session_id: 'ae4a77f8-aedd-4bc1-888f-c94edc91af04', workspace_id: 'ws-1' }],
    },
  ),
  'hierarchy.EventPage': Page(Event),
  'hierarchy.EventQuery': t.Object({
    ...PageQuery,
    machine_id: t.Optional(t.String({ maxLength: 128 })),
    workspace_id: t.Optional(t.String({ maxLength: 128 })),
    type: t.Optional(t.String({ minLength: 1, maxLength: 128 })),
    from: t.Optional(DateTimeInput()),
    to: t.Optional(DateTimeInput()),
  }),
}
export type MachineUpsert = (typeof HierarchyModel)['hierarchy.MachineUpsert']['static']
export type WorkspaceUpsert = (typeof HierarchyModel)['hierarchy.WorkspaceUpsert']['static']
export type SessionUpsert = (typeof HierarchyModel)['hierarchy.SessionUpsert']['static']
export type EventQuery = (typeof HierarchyModel)['hierarchy.EventQuery']['static']
export type HierarchyQuery = (typeof HierarchyModel)['hierarchy.HierarchyQuery']['static']
export type PageParams = (typeof HierarchyModel)['hierarchy.ListQuery']['static']
