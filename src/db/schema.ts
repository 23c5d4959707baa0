import { sql } from 'drizzle-orm'
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** The four token kinds of an Anthropic usage object, shared by conversations and messages. */
const tokenColumns = () => ({
  inputTokens: integer('input_tokens').notNull().default(0),
  outputTokens: integer('output_tokens').notNull().default(0),
  cacheCreationTokens: integer('cache_creation_tokens').notNull().default(0),
  cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
  costUsd: real('cost_usd').notNull().default(0),
})

export const ROLES = ['admin', 'member', 'viewer'] as const
export type Role = (typeof ROLES)[number]

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  /** stored lower-cased */
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  displayName: text('display_name').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
})

/** Opaque refresh tokens, stored as SHA-256 hashes; one family per login, rotated on every use. */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    familyId: text('family_id').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull(),
    /** set when the token was exchanged for a new one; a second use revokes the family */
    rotatedAt: integer('rotated_at'),
    revokedAt: integer('revoked_at'),
  },
  (r) => [index('refresh_tokens_family_idx').on(r.familyId), index('refresh_tokens_user_idx').on(r.userId)],
)

/** API keys (obs_…), stored as SHA-256 hashes with a display prefix. */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (k) => [index('api_keys_user_idx').on(k.userId)],
)

/** Every owned record names its user; deleting the user deletes what it owns. */
const ownerColumn = () =>
  text('owner_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' })

export const conversations = sqliteTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    ownerId: ownerColumn(),
    /** the title shown: the user's own, else derived (custom-title, ai-title, summary, first prompt) */
    title: text('title'),
    /** 'user' once someone set the title through the API: imports no longer change it */
    titleSource: text('title_source', { enum: ['user', 'custom-title', 'ai-title', 'summary', 'prompt'] }),
    customTitle: text('custom_title'),
    aiTitle: text('ai_title'),
    firstPrompt: text('first_prompt'),
    projectPath: text('project_path'),
    gitBranch: text('git_branch'),
    /** 'api' (created through the API) or 'claude-code' (imported transcript or hooks) */
    source: text('source', { enum: ['api', 'claude-code'] }).notNull(),
    agentVersion: text('agent_version'),
    /** JSON array of the distinct models its messages used */
    models: text('models', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    /** the workspace (checkout on a machine) the session ran in, when known */
    workspaceId: text('workspace_id'),
    messageCount: integer('message_count').notNull().default(0),
    /** the hook and agent events of this session (its owner's), kept by triggers on events (drizzle/0013) */
    eventCount: integer('event_count').notNull().default(0),
    ...tokenColumns(),
    /** first and last message time (epoch ms); startedAt is the creation time until a message arrives */
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (c) => [
    index('conversations_owner_updated_idx').on(c.ownerId, c.updatedAt, c.id),
    index('conversations_owner_created_idx').on(c.ownerId, c.createdAt, c.id),
    index('conversations_owner_started_idx').on(c.ownerId, c.startedAt, c.id),
    index('conversations_updated_idx').on(c.updatedAt, c.id),
    index('conversations_project_idx').on(c.projectPath, c.updatedAt),
    // covers a project's hierarchy: each workspace's latest sessions are read from the index alone
    index('conversations_workspace_sessions_idx').on(
      c.workspaceId,
      c.startedAt,
      c.id,
      c.title,
      c.endedAt,
      c.messageCount,
      c.eventCount,
    ),
  ],
)

export const messages = sqliteTable(
  'messages',
  {
    /** integer key: stable insertion order and the rowid of the full-text index */
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    /** server-made UUIDv7, or the transcript line's own uuid */
    id: text('id').notNull(),
    ownerId: ownerColumn(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    parentId: text('parent_id'),
    /** a compaction boundary's link to the pre-compaction leaf */
    logicalParentId: text('logical_parent_id'),
    /** transcript line type: user, assistant, system, ... */
    type: text('type').notNull(),
    subtype: text('subtype'),
    /** null for transcript lines that are not messages (progress, snapshots, queue operations, ...) */
    role: text('role', { enum: ['user', 'assistant', 'system'] }),
    /** a string or a list of content blocks, as given; null for an imported line (read from its raw line) */
    content: text('content', { mode: 'json' }).$type<unknown>(),
    /** plain-text projection of content, for search and previews */
    text: text('text').notNull().default(''),
    model: text('model'),
    /** `message.id:requestId` of the API response; only the line carrying the response's usage has tokens */
    responseKey: text('response_key'),
    ...tokenColumns(),
    isSidechain: integer('is_sidechain', { mode: 'boolean' }).notNull().default(false),
    agentId: text('agent_id'),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    timestamp: integer('timestamp').notNull(),
    createdAt: integer('created_at').notNull(),
    /**
     * The transcript line an imported message was read from (raw_lines.source_id, raw_lines.line): its content is
     * served from there rather than stored a second time.
     */
    rawSourceId: text('raw_source_id'),
    rawLine: integer('raw_line'),
  },
  (m) => [
    uniqueIndex('messages_id_idx').on(m.id),
    index('messages_conversation_idx').on(m.conversationId, m.timestamp, m.seq),
    // only the line carrying a response's usage is looked up by its key (ingest's attributedUsage)
    index('messages_response_idx')
      .on(m.ownerId, m.responseKey)
      .where(
        sql`${m.responseKey} IS NOT NULL AND ${m.inputTokens} + ${m.outputTokens} + ${m.cacheCreationTokens} + ${m.cacheReadTokens} > 0`,
      ),
    index('messages_owner_time_idx').on(m.ownerId, m.timestamp),
    // usage reports read usage_rollup (drizzle/0003_usage_rollup.sql), which triggers on this table keep in step
  ],
)

export const toolCalls = sqliteTable(
  'tool_calls',
  {
    /** the tool_use id (e.g. toolu_...) */
    id: text('id').notNull(),
    ownerId: ownerColumn(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    messageId: text('message_id').references(() => messages.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    input: text('input', { mode: 'json' }).$type<unknown>(),
    result: text('result'),
    isError: integer('is_error', { mode: 'boolean' }).notNull().default(false),
    startedAt: integer('started_at'),
    endedAt: integer('ended_at'),
    durationMs: integer('duration_ms'),
    /** the subagent this call started (Task/Agent tools), whose messages carry the same agent id */
    agentId: text('agent_id'),
  },
  (c) => [
    primaryKey({ columns: [c.conversationId, c.id] }),
    index('tool_calls_message_idx').on(c.messageId),
    index('tool_calls_name_idx').on(c.name),
  ],
)

/** A transcript file (or upload) being imported: how far it has been read, and a hash of what was read. */
export const sources = sqliteTable(
  'sources',
  {
    id: text('id').primaryKey(),
    ownerId: ownerColumn(),
    /** what identifies the file across imports: its absolute path, or `upload:<source_key>` (without a key,
     * `upload:<file id>`) */
    sourceKey: text('source_key').notNull(),
    displayName: text('display_name').notNull(),
    /** bytes imported so far (complete lines only) */
    bytesDone: integer('bytes_done').notNull().default(0),
    linesDone: integer('lines_done').notNull().default(0),
    /** SHA-256 of the length and the first and last 64 KiB of what was imported: tells an append from a rewrite */
    prefixHash: text('prefix_hash'),
    /**
     * when the file was found rewritten (its start changed): this version keeps its lines for the exports of its
     * sessions, and the key's next import starts a new source
     */
    replacedAt: integer('replaced_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  // one current source per key; replaced versions share it
  (s) => [uniqueIndex('sources_owner_key_idx').on(s.ownerId, s.sourceKey).where(sql`${s.replacedAt} IS NULL`)],
)

/** Every line of every source, byte for byte (terminator included), so a session can be exported exactly. */
export const rawLines = sqliteTable(
  'raw_lines',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    line: integer('line').notNull(),
    offset: integer('offset').notNull(),
    raw: blob('raw', { mode: 'buffer' }).notNull(),
  },
  (r) => [primaryKey({ columns: [r.sourceId, r.line] })],
)

/** Lines that could not be imported, with where and why. */
export const importErrors = sqliteTable(
  'import_errors',
  {
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    line: integer('line').notNull(),
    offset: integer('offset').notNull(),
    reason: text('reason').notNull(),
    message: text('message').notNull(),
  },
  (e) => [primaryKey({ columns: [e.sourceId, e.line] })],
)

/** Which sources hold lines of which conversation (a session spans its main file and its subagent files). */
export const conversationSources = sqliteTable(
  'conversation_sources',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    /**
     * the source added messages to the conversation, so its lines are in the conversation's export; false for a
     * second copy of lines held elsewhere (kept so that deleting the conversation lets that copy go too)
     */
    inExport: integer('in_export', { mode: 'boolean' }).notNull().default(true),
  },
  (c) => [
    primaryKey({ columns: [c.conversationId, c.sourceId] }),
    index('conversation_sources_source_idx').on(c.sourceId),
  ],
)

/** `summary` lines: a title for the conversation that holds the message `leafUuid`, wherever that is imported. */
export const summaries = sqliteTable(
  'summaries',
  {
    ownerId: ownerColumn(),
    leafUuid: text('leaf_uuid').notNull(),
    summary: text('summary').notNull(),
  },
  (s) => [primaryKey({ columns: [s.ownerId, s.leafUuid] })],
)

export const FILE_STATUSES = ['pending', 'processing', 'completed', 'error'] as const

/** Uploaded transcripts and server-side imports, with their progress. */
export const files = sqliteTable(
  'files',
  {
    id: text('id').primaryKey(),
    ownerId: ownerColumn(),
    /** the client's file name or the server path: shown, never used to build a path */
    name: text('name').notNull(),
    /** where the bytes are read from: DATA_DIR/uploads/<id>, or the allowed server path */
    storedPath: text('stored_path').notNull(),
    /** the import source it feeds: the same key again continues where the last import stopped */
    sourceKey: text('source_key').notNull(),
    /** the machine the file came from (the uploader's X-Observatory-Machine-Id), where its sessions are placed */
    machineId: text('machine_id'),
    machineHostname: text('machine_hostname'),
    size: integer('size').notNull(),
    status: text('status', { enum: FILE_STATUSES }).notNull(),
    /** where this record's first import began reading: its bad lines are those from here to bytes_done */
    startOffset: integer('start_offset'),
    bytesDone: integer('bytes_done').notNull().default(0),
    linesDone: integer('lines_done').notNull().default(0),
    messagesAdded: integer('messages_added').notNull().default(0),
    toolCallsAdded: integer('tool_calls_added').notNull().default(0),
    linesSkipped: integer('lines_skipped').notNull().default(0),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (f) => [
    index('files_owner_idx').on(f.ownerId, f.createdAt),
    // the newest upload of a source key, whose stored file the key's next upload replaces or extends
    index('files_owner_source_idx').on(f.ownerId, f.sourceKey, f.createdAt),
    index('files_stored_path_idx').on(f.storedPath),
  ],
)

/** The job queue: a table plus a worker loop, so work survives restarts and several workers can claim jobs. */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['pending', 'running', 'completed', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** a running job whose lease has expired (its worker died) is claimed again */
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (j) => [index('jobs_status_idx').on(j.status, j.createdAt)],
)

/** A code base: a normalised git remote (https://host/owner/repo), or a local path when there is no remote. */
export const projects = sqliteTable(
  'projects',
  {
    id: text('id').primaryKey(),
    ownerId: ownerColumn(),
    /** `https://host/owner/repo`, or `path:<absolute path>` */
    key: text('key').notNull(),
    name: text('name').notNull(),
    remoteUrl: text('remote_url'),
    host: text('host'),
    repoOwner: text('repo_owner'),
    repo: text('repo'),
    localPath: text('local_path'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (p) => [uniqueIndex('projects_owner_key_idx').on(p.ownerId, p.key)],
)

/** A computer that runs agents, identified by the client's own machine_id within its owner's account. */
export const machines = sqliteTable(
  'machines',
  {
    id: text('id').notNull(),
    ownerId: ownerColumn(),
    hostname: text('hostname'),
    os: text('os'),
    ip: text('ip'),
    lastSeenAt: integer('last_seen_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  // (two accounts may each have a machine called MacBook-Pro)
  (m) => [primaryKey({ columns: [m.ownerId, m.id] }), index('machines_owner_idx').on(m.ownerId, m.lastSeenAt)],
)

/** A checkout of a project on a machine, identified by the client's own workspace_id. */
export const workspaces = sqliteTable(
  'workspaces',
  {
    id: text('id').primaryKey(),
    ownerId: ownerColumn(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    /** the owner's machine of that id (machines go only with their owner, and so do its workspaces) */
    machineId: text('machine_id'),
    path: text('path').notNull(),
    branch: text('branch'),
    commit: text('commit_sha'),
    lastSeenAt: integer('last_seen_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (w) => [index('workspaces_project_idx').on(w.projectId), index('workspaces_machine_idx').on(w.machineId)],
)

/** Agent events: Claude Code hook payloads and generic client events, kept whole. */
export const events = sqliteTable(
  'events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull(),
    ownerId: ownerColumn(),
    /** the client's id for the event: a batch sent again creates nothing */
    eventId: text('event_id'),
    type: text('type').notNull(),
    sessionId: text('session_id'),
    workspaceId: text('workspace_id'),
    machineId: text('machine_id'),
    projectId: text('project_id'),
    toolName: text('tool_name'),
    toolUseId: text('tool_use_id'),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    timestamp: integer('timestamp').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (e) => [
    uniqueIndex('events_id_idx').on(e.id),
    uniqueIndex('events_owner_event_idx').on(e.ownerId, e.eventId),
    // a session's events are its owner's: another account may post to the same session id (ids are the client's)
    index('events_session_owner_idx').on(e.sessionId, e.ownerId, e.timestamp),
    index('events_project_idx').on(e.projectId, e.timestamp),
  ],
)
