/**
 * Seeds a database for the API parts (search, usage, hierarchy, events, live) BEFORE the server starts on it: opens
 * it with the app's openDatabase + runMigrations and writes, with raw prepared bun:sqlite statements in large
 * transactions, exactly the rows the app would write (an import for messages and tool calls, hooks for sessions and
 * events), then the app's own refreshConversationAggregates per conversation, the full-text index rebuilt, and the
 * app's closeDatabase (PRAGMA optimize, WAL checkpoint).
 *
 *   bun bench/api-seed.ts user <db>                                     a member user and an API key only
 *   bun bench/api-seed.ts corpus <db> [--messages 1000000] [--conversations 2000] [--seed 42]
 *   bun bench/api-seed.ts hierarchy <db> [--workspaces 200] [--machines 20] [--sessions 10000] [--events 50000]
 *                                        [--projects 1]   that many projects of that size, plus 4 small ones
 *   bun bench/api-seed.ts events-floor <db> [--batches 200]             the floor of POST /api/events
 *
 * The user is a member (not an admin), so every query is scoped to its owner as for any user of a team install; its
 * password hash is argon2id and its API key is stored as the SHA-256 the auth module stores. Prints one JSON line.
 */
import { statSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { closeDatabase, type Db, openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createPricing } from '../src/lib/pricing'
import { randomSecret, sha256 } from '../src/modules/auth/tokens'
import { refreshConversationAggregates } from '../src/modules/conversations/repository'
import { makeRng, type Rng } from './generate'

export type SeededUser = { userId: string; apiKey: string; email: string; password: string }

/** A member user and an API key, written as the users and auth modules write them. */
export async function seedUser(db: Db, email = 'bench@example.com'): Promise<SeededUser> {
  const now = Date.now()
  const userId = Bun.randomUUIDv7()
  const password = 'benchmark passphrase 1'
  db.$client
    .prepare(
      `INSERT INTO users (id, email, password_hash, display_name, role, disabled, created_at, updated_at)
       VALUES (?, ?, ?, 'Bench', 'member', 0, ?, ?)`,
    )
    .run(userId, email, await Bun.password.hash(password, { algorithm: 'argon2id' }), now, now)
  const apiKey = randomSecret('obs')
  db.$client
    .prepare(`INSERT INTO api_keys (id, user_id, name, key_hash, prefix, created_at) VALUES (?, ?, 'bench', ?, ?, ?)`)
    .run(Bun.randomUUIDv7(), userId, sha256(apiKey), apiKey.slice(0, 12), now)
  return { userId, apiKey, email, password }
}

// ---------------------------------------------------------------------------------------------------------------
// Text: an English-ish vocabulary with Zipf-Mandelbrot word frequencies (a few words in most messages, a long tail
// of words in a handful), sentences, code and log lines, and stock phrases for phrase queries.

const FUNCTION_WORDS =
  'the to a of and in is it that for you this on with be as we can not are i have if at or from but by will so an was all do there which when what use need should now then here also just like let me see make run add new get one more no only out up into than its them any some other our how about after before first'.split(
    ' ',
  )
const TECH_WORDS =
  'file test code error function value type string number return import export const async await query index schema migration migrate migrations request response handler router service repository session token cache stream buffer parser commit branch module config logger retry timeout payload endpoint server client database table column row transaction promise callback array object interface class method property variable parameter argument build deploy docker container kubernetes install package dependency version release bug fix issue warning exception stack trace log debug output input path directory script command terminal shell process thread memory cpu latency throughput benchmark performance authentication authorization password user account permission role admin api key header cookie json yaml html css react component render state props hook effect context reducer store action event listener socket websocket http https url domain proxy cors middleware validation schema typescript javascript python rust golang sql sqlite postgres redis queue worker job scheduler cron backup restore snapshot checkpoint'.split(
    ' ',
  )
const CONTENT_WORDS =
  'look check change update remove delete create write read open close start stop show find keep call pass fail work try move copy rename split merge replace handle support allow expect assume note sure good right wrong same different small large simple clean better faster slower correct missing broken empty full old current next last previous line lines place case cases way part parts time times step steps thing things problem problems reason result results example examples change changes approach idea plan option options detail details name names list lists item items point points number data information question answer second third both each every many much most several'.split(
    ' ',
  )
const SYLLABLES =
  'ba be bi bo bu ca ce ci co da de di do fa fe fi fo ga ge go ha he hi ho ja jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi xa ya yo za ze zi zo'.split(
    ' ',
  )
const SUFFIXES = ['', '', '', 'tion', 'ment', 'er', 'al', 'ly', 'ist', 'ous', 'ive', 'ure']
export const PHRASES = [
  'connection refused',
  'merge conflict',
  'null pointer',
  'race condition',
  'memory leak',
  'flaky test',
  'rate limit',
  'type mismatch',
  'permission denied',
  'segmentation fault',
  'deadlock detected',
  'unexpected token',
]
const VOCAB_SIZE = 20_000

export type Vocabulary = { words: string[]; sample: () => number }

/** The vocabulary by rank (function words first, then technical and content words, then invented words). */
export function buildVocabulary(rng: Rng): Vocabulary {
  const words: string[] = [...FUNCTION_WORDS]
  const seen = new Set(words)
  const tech = [...TECH_WORDS]
  const content = [...CONTENT_WORDS]
  while (tech.length || content.length) {
    for (const list of [tech, tech, content]) {
      const w = list.shift()
      if (w && !seen.has(w)) {
        seen.add(w)
        words.push(w)
      }
    }
  }
  while (words.length < VOCAB_SIZE) {
    let w = ''
    const n = rng.int(2, 3)
    for (let j = 0; j < n; j++) w += rng.pick(SYLLABLES)
    w += rng.pick(SUFFIXES)
    if (!seen.has(w)) {
      seen.add(w)
      words.push(w)
    }
  }
  // Zipf-Mandelbrot: weight 1 / (rank + 2.7)
  const cdf = new Float64Array(words.length)
  let total = 0
  for (let r = 0; r < words.length; r++) {
    total += 1 / (r + 1 + 2.7)
    cdf[r] = total
  }
  const sample = () => {
    const u = rng.next() * total
    let lo = 0
    let hi = cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cdf[mid] as number) < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  return { words, sample }
}

/** Builds message texts and counts, per word rank and per stock phrase, how many messages contain it. */
function textMaker(rng: Rng, vocab: Vocabulary) {
  const df = new Int32Array(vocab.words.length)
  const lastDoc = new Int32Array(vocab.words.length).fill(-1)
  const phraseDf = new Int32Array(PHRASES.length)
  const phraseLast = new Int32Array(PHRASES.length).fill(-1)
  let doc = 0
  const word = () => {
    const r = vocab.sample()
    if (lastDoc[r] !== doc) {
      lastDoc[r] = doc
      df[r] = (df[r] as number) + 1
    }
    return vocab.words[r] as string
  }
  const phrase = () => {
    const p = rng.int(0, PHRASES.length - 1)
    if (phraseLast[p] !== doc) {
      phraseLast[p] = doc
      phraseDf[p] = (phraseDf[p] as number) + 1
    }
    return PHRASES[p] as string
  }
  const sentence = () => {
    const n = rng.int(4, 18)
    const ws: string[] = []
    for (let i = 0; i < n; i++) ws.push(rng.chance(0.004) ? phrase() : word())
    const s = ws.join(' ')
    return `${s[0]?.toUpperCase()}${s.slice(1)}${rng.pick(['.', '.', '.', '.', '?', ':', '!'])}`
  }
  const ident = () => {
    const a = word()
    const b = word()
    return `${a}${b[0]?.toUpperCase()}${b.slice(1)}`
  }
  const codeLine = () => {
    switch (rng.int(0, 7)) {
      case 0:
        return `const ${ident()} = await ${ident()}(${word()}, ${rng.int(0, 999)})`
      case 1:
        return `if (${ident()} === ${ident()}) return ${word()}`
      case 2:
        return `export function ${ident()}(${word()}: string) {`
      case 3:
        return `// ${sentence()}`
      case 4:
        return `  at ${ident()} (src/${word()}/${word()}.ts:${rng.int(1, 900)}:${rng.int(1, 80)})`
      case 5:
        return `${rng.pick(['ERROR', 'WARN', 'INFO', 'DEBUG'])} ${word()} ${word()}: ${sentence()}`
      case 6:
        return `import { ${ident()} } from './${word()}'`
      default:
        return `${word()} ${word()} ${word()}`
    }
  }
  return {
    df,
    phraseDf,
    /** the next message: words counted toward its document frequency until the next call */
    next() {
      doc++
    },
    prose(sentences: number) {
      const out: string[] = []
      for (let i = 0; i < sentences; i++) out.push(sentence())
      return out.join(' ')
    },
    code(lines: number) {
      const out: string[] = []
      for (let i = 0; i < lines; i++) out.push(codeLine())
      return out.join('\n')
    },
    word,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The message corpus: conversations of user prompts, assistant responses split over one line per content block
// (the first line of a response carrying its usage), tool calls with their results, progress and system lines, and
// subagent (sidechain) runs, as an import of Claude Code transcripts stores them.

const MAIN_MODELS = ['claude-opus-4-6', 'claude-opus-4-6', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-6']
const AGENT_MODEL = 'claude-haiku-4-5-20251001'
const TOOLS = ['Bash', 'Bash', 'Read', 'Read', 'Read', 'Edit', 'Grep', 'Glob', 'Write', 'Task'] as const
const DAY_MS = 86_400_000
/** the corpus spans 180 days ending here (fixed, so every run seeds the same rows) */
export const CORPUS_END = Date.UTC(2026, 0, 31)

export type CorpusResult = SeededUser & {
  messages: number
  conversations: number
  toolCalls: number
  withUsage: number
  firstTimestamp: number
  lastTimestamp: number
  seedSeconds: { rows: number; aggregates: number; fts: number; close: number; total: number }
  dbBytes: number
  analyzed: boolean
  /** document frequency (messages containing it) of a few words, for picking queries */
  words: { word: string; rank: number; df: number; kind: 'function' | 'tech' | 'content' | 'invented' }[]
  phrases: { phrase: string; df: number }[]
}

function seedCorpus(dbPath: string, total: number, conversationCount: number, seed: number, user: SeededUser) {
  const started = performance.now()
  const db = openDatabase(dbPath)
  const sqlite = db.$client
  // connection settings of this seeding process only: nothing they change is stored
  sqlite.exec('PRAGMA cache_size = -1048576; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY')
  const rng = makeRng(seed)
  const vocab = buildVocabulary(rng)
  const text = textMaker(rng, vocab)
  const pricing = createPricing({})
  const ownerId = user.userId
  const importedAt = CORPUS_END + DAY_MS

  const insertConversation = sqlite.prepare(
    `INSERT INTO conversations (id, owner_id, first_prompt, project_path, git_branch, source, agent_version, models,
       metadata, started_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'claude-code', ?, '[]', '{}', ?, ?, ?)`,
  )
  const insertMessage = sqlite.prepare(
    `INSERT INTO messages (id, owner_id, conversation_id, parent_id, logical_parent_id, type, subtype, role, content,
       text, model, response_key, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd,
       is_sidechain, agent_id, metadata, timestamp, created_at)
     VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)`,
  )
  const insertToolCall = sqlite.prepare(
    `INSERT INTO tool_calls (id, owner_id, conversation_id, message_id, name, input, result, is_error, started_at,
       ended_at, duration_ms, agent_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )

  // conversation sizes: heavy-tailed around the mean, scaled to add up to `total`
  const raw = Array.from({ length: conversationCount }, () => rng.skewed(1, 4))
  const sum = raw.reduce((a, b) => a + b, 0)
  const sizes = raw.map((r) => Math.max(4, Math.floor((r / sum) * total)))
  let diff = total - sizes.reduce((a, b) => a + b, 0)
  for (let i = 0; diff !== 0; i = (i + 1) % sizes.length) {
    const step = diff > 0 ? 1 : sizes[i]! > 4 ? -1 : 0
    sizes[i]! += step
    diff -= step
  }
  const projects = Array.from({ length: 24 }, (_, i) => `/home/dev/projects/${vocab.words[400 + i * 7]}-${i}`)
  const start = CORPUS_END - 180 * DAY_MS
  // sessions start through the 180 days in order, a few hours each
  const starts = sizes.map(() => start + Math.floor(rng.next() * 179 * DAY_MS)).sort((a, b) => a - b)

  let messages = 0
  let toolCalls = 0
  let withUsage = 0
  let lastTimestamp = 0
  const ids: string[] = []
  const tBatch = performance.now()
  let batch: (() => void)[] = []
  const flush = () => {
    sqlite.transaction(() => {
      for (const f of batch) f()
    })()
    batch = []
  }
  for (let c = 0; c < conversationCount; c++) {
    const sessionId = rng.uuid()
    ids.push(sessionId)
    const target = sizes[c] as number
    const model = rng.pick(MAIN_MODELS)
    const project = rng.pick(projects)
    const branch = rng.pick(['main', 'main', 'develop', `feature/${text.word()}`])
    let t = starts[c] as number
    let parent: string | null = null
    let count = 0
    let firstPrompt: string | null = null
    const rows: unknown[][] = []
    const calls: unknown[][] = []
    const line = (
      type: string,
      subtype: string | null,
      role: string | null,
      content: unknown,
      body: string,
      opts: { model?: string; key?: string; usage?: number[]; sidechain?: boolean; agent?: string | null } = {},
    ) => {
      const id = rng.uuid()
      t += rng.int(800, 40_000)
      const u = opts.usage
      const cost = u
        ? pricing.costOf(opts.model ?? model, {
            inputTokens: u[0] as number,
            outputTokens: u[1] as number,
            cacheCreationTokens: u[2] as number,
            cacheReadTokens: u[3] as number,
          })
        : 0
      if (u) withUsage++
      rows.push([
        id,
        ownerId,
        sessionId,
        parent,
        type,
        subtype,
        role,
        content === null ? null : JSON.stringify(content),
        body,
        role === 'assistant' ? (opts.model ?? model) : null,
        opts.key ?? null,
        u?.[0] ?? 0,
        u?.[1] ?? 0,
        u?.[2] ?? 0,
        u?.[3] ?? 0,
        cost,
        opts.sidechain ? 1 : 0,
        opts.agent ?? null,
        t,
        importedAt,
      ])
      text.next()
      parent = id
      count++
      return { id, at: t }
    }
    const usage = () => [
      rng.int(1, 40),
      rng.int(8, 2500),
      rng.chance(0.3) ? rng.int(500, 12_000) : 0,
      rng.int(4_000, 160_000),
    ]
    const response = (sidechain: boolean, agent: string | null, withTool: boolean) => {
      const key = `msg_01${rng.b62(22)}:req_011${rng.b62(21)}`
      const m = sidechain ? AGENT_MODEL : model
      let first = true
      const opts = () => {
        const o = { model: m, key, usage: first ? usage() : undefined, sidechain, agent }
        first = false
        return o
      }
      if (rng.chance(0.25)) {
        const thinking = text.prose(rng.int(1, 4))
        line('assistant', null, 'assistant', [{ type: 'thinking', thinking, signature: 'sig' }], thinking, opts())
      }
      if (!withTool || rng.chance(0.6)) {
        const body = text.prose(rng.skewed(3, 3))
        line('assistant', null, 'assistant', [{ type: 'text', text: body }], body, opts())
      }
      if (!withTool || count >= target) return
      const name = sidechain ? rng.pick(TOOLS.slice(0, 9)) : rng.pick(TOOLS)
      const toolId = `toolu_01${rng.b62(22)}`
      const input =
        name === 'Bash'
          ? { command: `bun test src/${text.word()}/${text.word()}.test.ts`, description: text.prose(1) }
          : name === 'Grep'
            ? { pattern: text.word(), path: project }
            : name === 'Task'
              ? { description: text.prose(1), prompt: text.prose(rng.int(2, 5)), subagent_type: 'general-purpose' }
              : { file_path: `${project}/src/${text.word()}/${text.word()}.ts` }
      const use = line(
        'assistant',
        null,
        'assistant',
        [{ type: 'tool_use', id: toolId, name, input }],
        JSON.stringify(input),
        opts(),
      )
      for (let p = rng.int(0, 2); p > 0 && count < target; p--)
        line('progress', rng.pick(['hook_progress', 'bash_progress']), null, null, '', { sidechain, agent })
      let agentId: string | null = null
      if (name === 'Task' && !sidechain) {
        agentId = rng.hex(8)
        for (let s = rng.int(3, 10); s > 0 && count < target; s--) {
          if (s % 2) {
            const prompt = text.prose(rng.int(1, 3))
            line('user', null, 'user', prompt, prompt, { sidechain: true, agent: agentId })
          } else response(true, agentId, false)
        }
      }
      if (count >= target) return
      const isError = rng.chance(0.05)
      const result = name === 'Read' || name === 'Grep' ? text.code(rng.skewed(12, 4)) : text.code(rng.skewed(5, 3))
      const excerpt = result.length > 2000 ? `${result.slice(0, 2000)}…` : result
      const done = line(
        'user',
        null,
        'user',
        [{ type: 'tool_result', tool_use_id: toolId, content: result, is_error: isError }],
        result,
        { sidechain, agent },
      )
      calls.push([
        toolId,
        ownerId,
        sessionId,
        use.id,
        name,
        JSON.stringify(input),
        excerpt,
        isError ? 1 : 0,
        use.at,
        done.at,
        done.at - use.at,
        agentId,
      ])
    }
    while (count < target) {
      const prompt = text.prose(rng.skewed(2, 3))
      firstPrompt ??= prompt.length > 200 ? `${prompt.slice(0, 199)}…` : prompt
      line('user', null, 'user', prompt, prompt)
      for (let s = rng.int(1, 6); s > 0 && count < target; s--) response(false, null, s > 1 || rng.chance(0.3))
      if (count < target && rng.chance(0.5)) line('system', 'turn_duration', 'system', null, '')
      t += rng.int(60_000, 30 * 60_000)
    }
    lastTimestamp = Math.max(lastTimestamp, t)
    const convStart = starts[c] as number
    batch.push(() => {
      insertConversation.run(
        sessionId,
        ownerId,
        firstPrompt,
        project,
        branch,
        '2.1.39',
        convStart,
        importedAt,
        importedAt,
      )
      for (const r of rows) insertMessage.run(...(r as never[]))
      for (const r of calls) insertToolCall.run(...(r as never[]))
    })
    messages += rows.length
    toolCalls += calls.length
    if (batch.length >= 25) flush()
    if (c % 200 === 199)
      console.error(
        `[seed] ${c + 1} conversations, ${messages.toLocaleString('en-US')} messages, ${((performance.now() - started) / 1000).toFixed(0)} s`,
      )
  }
  flush()
  const rowsSeconds = (performance.now() - tBatch) / 1000

  const tAgg = performance.now()
  sqlite.transaction(() => {
    for (const id of ids) refreshConversationAggregates(db, id, importedAt)
  })()
  const aggregates = (performance.now() - tAgg) / 1000

  const tFts = performance.now()
  sqlite.exec(`INSERT INTO messages_fts(messages_fts) VALUES('rebuild')`)
  const fts = (performance.now() - tFts) / 1000
  console.error(
    `[seed] rows ${rowsSeconds.toFixed(1)} s, aggregates ${aggregates.toFixed(1)} s, fts ${fts.toFixed(1)} s`,
  )

  const words = vocab.words.map((word, rank) => ({
    word,
    rank,
    df: text.df[rank] as number,
    kind: (rank < FUNCTION_WORDS.length
      ? 'function'
      : TECH_WORDS.includes(word)
        ? 'tech'
        : CONTENT_WORDS.includes(word)
          ? 'content'
          : 'invented') as CorpusResult['words'][number]['kind'],
  }))
  const phrases = PHRASES.map((phrase, i) => ({ phrase, df: text.phraseDf[i] as number }))
  const tClose = performance.now()
  closeDatabase(db)
  const close = (performance.now() - tClose) / 1000
  const check = openDatabase(dbPath)
  const analyzed =
    (check.$client.query(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'`).get() as { n: number })
      .n > 0
  check.$client.close()
  return {
    messages,
    conversations: conversationCount,
    toolCalls,
    withUsage,
    firstTimestamp: start,
    lastTimestamp,
    seedSeconds: { rows: rowsSeconds, aggregates, fts, close, total: (performance.now() - started) / 1000 },
    dbBytes: statSync(dbPath).size,
    analyzed,
    words,
    phrases,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The hierarchy: one project with many workspaces over machines and many sessions with hook events, plus a few
// small projects around it, as POST /api/workspaces, /api/sessions and the hooks write them.

export type HierarchyResult = SeededUser & {
  projectId: string
  /** every project of the given size, `projectId` first (`--projects`, default 1) */
  projectIds: string[]
  workspaces: number
  machines: number
  sessions: number
  events: number
  messages: number
  seedSeconds: number
}

function seedHierarchy(
  db: Db,
  user: SeededUser,
  o: { workspaces: number; machines: number; sessions: number; events: number; seed: number; projects: number },
) {
  const started = performance.now()
  const sqlite = db.$client
  const rng = makeRng(o.seed)
  const vocab = buildVocabulary(rng)
  const text = textMaker(rng, vocab)
  const pricing = createPricing({})
  const ownerId = user.userId
  const now = CORPUS_END
  const insertProject = sqlite.prepare(
    `INSERT INTO projects (id, owner_id, key, name, remote_url, host, repo_owner, repo, local_path, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'github.com', 'acme', ?, NULL, ?, ?)`,
  )
  const insertMachine = sqlite.prepare(
    `INSERT INTO machines (id, owner_id, hostname, os, ip, last_seen_at, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)`,
  )
  const insertWorkspace = sqlite.prepare(
    `INSERT INTO workspaces (id, owner_id, project_id, machine_id, path, branch, commit_sha, last_seen_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
  )
  const insertConversation = sqlite.prepare(
    `INSERT INTO conversations (id, owner_id, first_prompt, project_path, git_branch, source, agent_version, models,
       metadata, workspace_id, started_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'claude-code', '2.1.39', '[]', '{}', ?, ?, ?, ?)`,
  )
  const insertMessage = sqlite.prepare(
    `INSERT INTO messages (id, owner_id, conversation_id, parent_id, type, role, content, text, model, response_key,
       input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, metadata, timestamp, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)`,
  )
  const insertEvent = sqlite.prepare(
    `INSERT INTO events (id, owner_id, event_id, type, session_id, workspace_id, machine_id, project_id, tool_name,
       tool_use_id, payload, timestamp, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const machines = Array.from({ length: o.machines }, (_, i) => ({
    id: `machine-${rng.hex(12)}`,
    hostname: `dev-${i}`,
    os: rng.pick(['linux 6.8.0', 'darwin 24.1.0']),
  }))
  const wsId = (key: string) => `ws_${sha256(key).slice(0, 24)}`
  const projectId = Bun.randomUUIDv7()
  const others = Array.from({ length: 4 }, () => ({ id: Bun.randomUUIDv7(), repo: `${text.word()}-${rng.hex(4)}` }))
  type Ws = { id: string; projectId: string; machineId: string; path: string }
  const spaces: Ws[] = []
  /** the workspaces of a project of the given size: `/home/<host>/src/<dir>-<k>`, round-robin over the machines */
  const spacesOf = (id: string, dir: string) =>
    Array.from({ length: o.workspaces }, (_, i): Ws => {
      const m = machines[i % machines.length] as (typeof machines)[number]
      const path = `/home/${m.hostname}/src/${dir}-${Math.floor(i / machines.length)}`
      return { id: wsId(`${ownerId}\u0000${m.id}\u0000${path}`), projectId: id, machineId: m.id, path }
    })
  spaces.push(...spacesOf(projectId, 'shop'))
  const otherSpaces: Ws[] = others.flatMap((p, j) =>
    machines.slice(0, 5).map((m) => {
      const path = `/home/${m.hostname}/src/${p.repo}-${j}`
      return { id: wsId(`${ownerId}\u0000${m.id}\u0000${path}`), projectId: p.id, machineId: m.id, path }
    }),
  )
  let messages = 0
  let events = 0
  const sessionIds: string[] = []
  const projectIds = [projectId]
  const eventsPerSession = o.events / o.sessions
  /** one session of workspace w: its conversation (a short transcript) and its hook events, with its aggregates */
  const seedSession = (w: Ws, id: string) => {
    let t = now - Math.floor(rng.next() * 90 * DAY_MS)
    const prompt = text.prose(rng.int(1, 3))
    insertConversation.run(id, ownerId, prompt.slice(0, 200), w.path, 'main', w.id, t, t, t)
    // a short transcript: prompt, response, tool use, result, response
    let parent: string | null = null
    const model = rng.pick(MAIN_MODELS)
    for (let k = 0; k < 5; k++) {
      const mid = rng.uuid()
      const role = k % 2 === 0 ? 'user' : 'assistant'
      const body = k === 0 ? prompt : text.prose(rng.int(1, 4))
      const u =
        role === 'assistant' ? [rng.int(1, 40), rng.int(8, 2500), rng.int(0, 8000), rng.int(4000, 120_000)] : null
      const cost = u
        ? pricing.costOf(model, {
            inputTokens: u[0] as number,
            outputTokens: u[1] as number,
            cacheCreationTokens: u[2] as number,
            cacheReadTokens: u[3] as number,
          })
        : 0
      t += rng.int(1000, 60_000)
      insertMessage.run(
        mid,
        ownerId,
        id,
        parent,
        role,
        role,
        JSON.stringify(role === 'user' ? body : [{ type: 'text', text: body }]),
        body,
        role === 'assistant' ? model : null,
        u ? `msg_01${rng.b62(22)}:req_011${rng.b62(21)}` : null,
        u?.[0] ?? 0,
        u?.[1] ?? 0,
        u?.[2] ?? 0,
        u?.[3] ?? 0,
        cost,
        t,
        now,
      )
      parent = mid
      messages++
    }
    // hook events: SessionStart, then tool calls, then Stop
    const n = Math.max(2, Math.round(eventsPerSession * rng.skewed(1, 2)))
    t -= 4 * 60_000
    for (let e = 0; e < n; e++) {
      const type = e === 0 ? 'SessionStart' : e === n - 1 ? 'Stop' : e % 2 ? 'PreToolUse' : 'PostToolUse'
      const tool = type.endsWith('ToolUse') ? rng.pick(TOOLS) : null
      const toolUseId = tool ? `toolu_01${rng.b62(22)}` : null
      const payload = {
        session_id: id,
        transcript_path: `/home/dev/.claude/projects/${w.path.replaceAll('/', '-')}/${id}.jsonl`,
        cwd: w.path,
        permission_mode: 'default',
        hook_event_name: type,
        ...(tool && { tool_name: tool, tool_use_id: toolUseId, tool_input: { command: `bun test ${text.word()}` } }),
      }
      t += rng.int(500, 30_000)
      insertEvent.run(
        Bun.randomUUIDv7(),
        ownerId,
        `hook:${sha256(JSON.stringify(payload))}`,
        type,
        id,
        w.id,
        w.machineId,
        w.projectId,
        tool,
        toolUseId,
        JSON.stringify(payload),
        t,
        t,
      )
      events++
    }
    refreshConversationAggregates(db, id, now)
  }
  sqlite.transaction(() => {
    insertProject.run(
      projectId,
      ownerId,
      'https://github.com/acme/shop',
      'shop',
      'https://github.com/acme/shop',
      'shop',
      now,
      now,
    )
    for (const p of others)
      insertProject.run(
        p.id,
        ownerId,
        `https://github.com/acme/${p.repo}`,
        p.repo,
        `https://github.com/acme/${p.repo}`,
        p.repo,
        now,
        now,
      )
    for (const m of machines) insertMachine.run(m.id, ownerId, m.hostname, m.os, now, now - 90 * DAY_MS)
    for (const w of [...spaces, ...otherSpaces])
      insertWorkspace.run(w.id, ownerId, w.projectId, w.machineId, w.path, 'main', now, now - 90 * DAY_MS)
    for (let s = 0; s < o.sessions + o.sessions / 10; s++) {
      // a tenth more sessions in the other projects
      const w = (s < o.sessions ? spaces[Math.floor(spaces.length * rng.next() ** 1.5)] : rng.pick(otherSpaces)) as Ws
      const id = rng.uuid()
      if (s < o.sessions) sessionIds.push(id)
      seedSession(w, id)
    }
    // further projects of the same size (workspaces on the same machines), after the others: the first project's rows
    // are the same whatever their number
    for (let p = 2; p <= o.projects; p++) {
      const id = Bun.randomUUIDv7()
      projectIds.push(id)
      const repo = `shop-${p}`
      insertProject.run(
        id,
        ownerId,
        `https://github.com/acme/${repo}`,
        repo,
        `https://github.com/acme/${repo}`,
        repo,
        now,
        now,
      )
      const mine = spacesOf(id, repo)
      for (const w of mine)
        insertWorkspace.run(w.id, ownerId, w.projectId, w.machineId, w.path, 'main', now, now - 90 * DAY_MS)
      for (let s = 0; s < o.sessions; s++) {
        const w = mine[Math.floor(mine.length * rng.next() ** 1.5)] as Ws
        seedSession(w, rng.uuid())
      }
    }
    sqlite.exec(`INSERT INTO messages_fts(messages_fts) VALUES('rebuild')`)
  })()
  return {
    projectId,
    projectIds,
    workspaces: spaces.length,
    machines: machines.length,
    sessions: sessionIds.length,
    events: (sqlite.query('SELECT count(*) AS n FROM events WHERE project_id = ?').get(projectId) as { n: number }).n,
    messages,
    allEvents: events,
    seedSeconds: (performance.now() - started) / 1000,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The floor of POST /api/events: the statement the events repository runs, for the same rows, raw bun:sqlite, one
// transaction per 1,000 rows, on a migrated database.

/** One batch event as the bench sends it (and as the floor stores it). */
export function batchEvent(batch: number, i: number, tag: string) {
  return {
    event_id: `${tag}-${batch}-${i}`,
    type: i % 2 ? 'tool.end' : 'tool.start',
    session_id: `session-${batch % 50}`,
    machine_id: 'bench-machine',
    tool_name: 'Bash',
    tool_use_id: `toolu_${batch}_${i}`,
    payload: { command: 'bun test', exit_code: 0, duration_ms: 1200 + i },
  }
}

function eventsFloor(db: Db, ownerId: string, batches: number) {
  const insert = db.$client.prepare(
    `INSERT OR IGNORE INTO events (id, owner_id, event_id, type, session_id, workspace_id, machine_id, project_id,
       tool_name, tool_use_id, payload, timestamp, created_at)
     VALUES ($id, $ownerId, $eventId, $type, $sessionId, $workspaceId, $machineId, $projectId, $toolName, $toolUseId,
       $payload, $timestamp, $createdAt)`,
  )
  let rows = 0
  const started = performance.now()
  for (let b = 0; b < batches; b++) {
    const now = Date.now()
    db.$client
      .transaction(() => {
        for (let i = 0; i < 1000; i++) {
          const e = batchEvent(b, i, 'floor')
          rows += insert.run({
            id: Bun.randomUUIDv7(),
            ownerId,
            eventId: e.event_id,
            type: e.type,
            sessionId: e.session_id,
            workspaceId: null,
            machineId: e.machine_id,
            projectId: null,
            toolName: e.tool_name,
            toolUseId: e.tool_use_id,
            payload: JSON.stringify(e.payload),
            timestamp: now,
            createdAt: now,
          }).changes
        }
      })
      .immediate()
  }
  const seconds = (performance.now() - started) / 1000
  return { rows, seconds, eventsPerSecond: rows / seconds }
}

// ---------------------------------------------------------------------------------------------------------------

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      messages: { type: 'string', default: '1000000' },
      conversations: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '42' },
      workspaces: { type: 'string', default: '200' },
      machines: { type: 'string', default: '20' },
      sessions: { type: 'string', default: '10000' },
      events: { type: 'string', default: '50000' },
      batches: { type: 'string', default: '200' },
      projects: { type: 'string', default: '1' },
    },
  })
  const [what, dbPath] = positionals
  if (!what || !dbPath || !['user', 'corpus', 'hierarchy', 'events-floor'].includes(what)) {
    console.error('usage: bun bench/api-seed.ts user|corpus|hierarchy|events-floor <db> [options]')
    process.exit(2)
  }
  const db = openDatabase(dbPath)
  runMigrations(db)
  const user = await seedUser(db)
  let result: unknown
  if (what === 'user') {
    closeDatabase(db)
    result = user
  } else if (what === 'corpus') {
    closeDatabase(db)
    result = {
      ...user,
      ...seedCorpus(dbPath, Number(values.messages), Number(values.conversations), Number(values.seed), user),
    }
  } else if (what === 'hierarchy') {
    const r = seedHierarchy(db, user, {
      workspaces: Number(values.workspaces),
      machines: Number(values.machines),
      sessions: Number(values.sessions),
      events: Number(values.events),
      seed: Number(values.seed),
      projects: Math.max(1, Number(values.projects)),
    })
    closeDatabase(db)
    result = { ...user, ...r }
  } else {
    const r = eventsFloor(db, user.userId, Number(values.batches))
    closeDatabase(db)
    result = r
  }
  console.log(JSON.stringify(result))
}
