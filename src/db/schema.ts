import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

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
    title: text('title'),
    projectPath: text('project_path'),
    gitBranch: text('git_branch'),
    /** 'api' (created through the API) or 'claude-code' (imported transcript or hooks) */
    source: text('source', { enum: ['api', 'claude-code'] }).notNull(),
    agentVersion: text('agent_version'),
    /** JSON array of the distinct models its messages used */
    models: text('models', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    messageCount: integer('message_count').notNull().default(0),
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
    /** transcript line type: user, assistant, system, ... */
    type: text('type').notNull(),
    subtype: text('subtype'),
    role: text('role', { enum: ['user', 'assistant', 'system'] }).notNull(),
    /** a string or a list of content blocks, as given */
    content: text('content', { mode: 'json' }).$type<unknown>().notNull(),
    /** plain-text projection of content, for search and previews */
    text: text('text').notNull().default(''),
    model: text('model'),
    ...tokenColumns(),
    isSidechain: integer('is_sidechain', { mode: 'boolean' }).notNull().default(false),
    agentId: text('agent_id'),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    timestamp: integer('timestamp').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (m) => [
    uniqueIndex('messages_id_idx').on(m.id),
    index('messages_conversation_idx').on(m.conversationId, m.timestamp, m.seq),
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
  },
  (c) => [
    primaryKey({ columns: [c.conversationId, c.id] }),
    index('tool_calls_message_idx').on(c.messageId),
    index('tool_calls_name_idx').on(c.name),
  ],
)
