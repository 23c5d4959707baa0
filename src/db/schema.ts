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

export const conversations = sqliteTable(
  'conversations',
  {
    id: text('id').primaryKey(),
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
    index('conversations_updated_idx').on(c.updatedAt, c.id),
    index('conversations_created_idx').on(c.createdAt, c.id),
    index('conversations_started_idx').on(c.startedAt, c.id),
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
