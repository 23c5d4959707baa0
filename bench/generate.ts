/**
 * A seeded, deterministic generator of realistic Claude Code (2.1.x) transcripts, laid out as Claude Code does:
 * `<root>/projects/<project>/<sessionId>.jsonl` and `<root>/projects/<project>/<sessionId>/subagents/agent-*.jsonl`,
 * so both Observatory and ccusage (CLAUDE_CONFIG_DIR=<root>) can read it.
 *
 * What it writes, per docs/CLAUDE_CODE_DATA.md: user prompts; assistant responses split over one line per content
 * block (thinking, text, each tool_use) sharing message.id and requestId and repeating the usage, only the last line
 * with the final output_tokens; tool_use / tool_result pairs with toolUseResult; hook and bash progress lines; Task
 * calls with a subagent file and agent_progress copies (usage included) in the main file; turn_duration and
 * stop_hook_summary system lines; file-history snapshots; occasional summary lines (titling the previous session);
 * compactions (compact_boundary + an acompact agent file + the isCompactSummary user line).
 *
 * `manifest.json` at the root holds the ground truth: files, lines, bytes, uuid lines, and the token totals counted
 * once per API response from its last line.
 *
 *   bun bench/generate.ts --out DIR [--size-mb 200] [--sessions N] [--seed 42]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** mulberry32: a tiny, fast, seeded PRNG with a 2^32 period; plenty for test data. */
export function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Rng = ReturnType<typeof makeRng>

export function makeRng(seed: number) {
  const next = mulberry32(seed)
  const HEX = '0123456789abcdef'
  const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  const chars = (alphabet: string, n: number) => {
    let s = ''
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)]
    return s
  }
  const rng = {
    next,
    /** integer in [lo, hi] */
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    hex: (n: number) => chars(HEX, n),
    b62: (n: number) => chars(B62, n),
    uuid: () => {
      const h = chars(HEX, 32)
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[Math.floor(next() * 4)]}${h.slice(17, 20)}-${h.slice(20)}`
    },
    /** a heavy-tailed size: median `median`, most values within [median / spread, median * spread] */
    skewed: (median: number, spread: number) => Math.max(1, Math.round(median * spread ** ((next() * 2 - 1) ** 3))),
  }
  return rng
}

// ---------------------------------------------------------------------------------------------------------------
// Text: a pseudo-English vocabulary with a Zipf-like skew, and pools of prose and code to slice from (fast).

const SYLLABLES =
  'ba be bi bo bu ca ce ci co da de di do fa fe fi fo ga ge go ha he hi ho ja jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi xa ya yo za ze zi zo tion ment ing er est ly al'.split(
    ' ',
  )
const COMMON =
  'the a to of and in is it that for on with this as be are we can should use file test code function error value the the the'.split(
    ' ',
  )
const TECH =
  'import export const return async await query index schema migration request response handler router service repository session token cache stream buffer parser commit branch module config logger retry timeout payload endpoint'.split(
    ' ',
  )

type Text = { words: string[]; prose: string; code: string }

function buildText(rng: Rng): Text {
  const words: string[] = []
  for (let i = 0; i < 3000; i++) {
    let w = ''
    const n = rng.int(1, 4)
    for (let j = 0; j < n; j++) w += rng.pick(SYLLABLES)
    words.push(w)
  }
  const word = () => {
    const r = rng.next()
    if (r < 0.35) return rng.pick(COMMON)
    if (r < 0.5) return rng.pick(TECH)
    return words[Math.floor(words.length * rng.next() ** 2.5)] as string
  }
  const sentence = () => {
    const n = rng.int(5, 22)
    const ws: string[] = []
    for (let i = 0; i < n; i++) ws.push(word())
    const s = ws.join(' ')
    return `${s[0]?.toUpperCase()}${s.slice(1)}${rng.pick(['.', '.', '.', '?', ':'])}`
  }
  const prose: string[] = []
  let size = 0
  while (size < 1_000_000) {
    const para = Array.from({ length: rng.int(1, 5) }, sentence).join(' ')
    prose.push(para)
    size += para.length + 2
  }
  const ident = () => {
    const a = word()
    const b = rng.pick(TECH)
    return `${a}${b[0]?.toUpperCase()}${b.slice(1)}`
  }
  const codeLine = () => {
    const indent = '  '.repeat(rng.int(0, 3))
    switch (rng.int(0, 7)) {
      case 0:
        return `${indent}const ${ident()} = ${ident()}(${ident()}, ${rng.int(0, 999)})`
      case 1:
        return `${indent}if (${ident()} === ${ident()}) return ${ident()}`
      case 2:
        return `${indent}export function ${ident()}(${ident()}: string, ${ident()}: number) {`
      case 3:
        return `${indent}}`
      case 4:
        return `${indent}// ${sentence()}`
      case 5:
        return `${indent}await ${ident()}.${rng.pick(TECH)}({ ${ident()}, ${ident()}: '${word()}' })`
      case 6:
        return `${indent}import { ${ident()} } from './${word()}/${rng.pick(TECH)}'`
      default:
        return ''
    }
  }
  const code: string[] = []
  size = 0
  while (size < 1_000_000) {
    const l = codeLine()
    code.push(l)
    size += l.length + 1
  }
  return { words, prose: prose.join('\n\n'), code: code.join('\n') }
}

/** About `n` characters of a pool, starting at a line or word boundary. */
function slicePool(rng: Rng, pool: string, n: number, boundary: string) {
  const len = Math.min(n, pool.length - 1)
  let at = Math.floor(rng.next() * (pool.length - len))
  const b = pool.indexOf(boundary, at)
  if (b !== -1 && b + len < pool.length) at = b + 1
  return pool.slice(at, at + len)
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions.

export type Totals = { input: number; output: number; cacheCreation: number; cacheRead: number; responses: number }
const emptyTotals = (): Totals => ({ input: 0, output: 0, cacheCreation: 0, cacheRead: 0, responses: 0 })

export type Project = { dir: string; cwd: string; branch: string }

export type SessionSpec = {
  sessionId: string
  project: Project
  startMs: number
  /** stop starting new turns once the main file has this many characters */
  budgetChars?: number
  /** ... or once the session (main + subagents) has this many lines with a uuid */
  budgetUuidLines?: number
  /** a summary line for an earlier session, written first (as Claude Code does) */
  summary?: { leafUuid: string; title: string }
  subagents?: boolean
}

export type GeneratedSession = {
  /** file name (relative to the project dir) -> lines */
  files: Map<string, string[]>
  endMs: number
  leafUuid: string | null
  totals: Totals
  uuidLines: number
}

const MAIN_MODELS = ['claude-opus-4-6', 'claude-opus-4-6', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-6']
const AGENT_MODELS = ['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929']
const VERSIONS = ['2.1.39', '2.1.37', '2.1.31', '2.0.76']
const TOOLS = ['Bash', 'Bash', 'Read', 'Read', 'Read', 'Edit', 'Grep', 'Glob', 'Write', 'TodoWrite'] as const
const HOOKS = [
  '/home/dev/.claude/hooks/notify.sh',
  'bunx biome check --write',
  '$CLAUDE_PLUGIN_ROOT/scripts/capture.sh',
]

export function generateSession(rng: Rng, text: Text, spec: SessionSpec): GeneratedSession {
  const { sessionId, project } = spec
  const version = rng.pick(VERSIONS)
  const model = rng.pick(MAIN_MODELS)
  const slug = `${rng.pick(text.words)}-${rng.pick(text.words)}-${rng.pick(text.words)}`
  const oneHourCache = rng.chance(0.3)
  const compactAt = rng.int(110_000, 160_000)
  const files = new Map<string, string[]>()
  const main: string[] = []
  files.set(`${sessionId}.jsonl`, main)
  const totals = emptyTotals()
  let t = spec.startMs
  let mainChars = 0
  let uuidLines = 0

  const iso = () => new Date(t).toISOString()
  const tick = (lo: number, hi: number) => {
    t += rng.int(lo, hi)
  }
  const prose = (n: number) => slicePool(rng, text.prose, n, ' ')
  const code = (n: number) => slicePool(rng, text.code, n, '\n')
  const sentence = (lo: number, hi: number) =>
    Array.from({ length: rng.int(lo, hi) }, () => rng.pick(text.words)).join(' ')
  const filePath = () =>
    `${project.cwd}/${rng.pick(['src', 'src/lib', 'src/modules', 'tests', 'lib'])}/${rng.pick(text.words)}.ts`

  /** A thread: the main conversation or a subagent, with its own file, parent chain and context size. */
  type Thread = {
    lines: string[]
    agentId: string | null
    model: string
    parent: string | null
    context: number
    cached: number
  }
  const mainThread: Thread = {
    lines: main,
    agentId: null,
    model,
    parent: null,
    context: rng.int(12_000, 24_000),
    cached: 0,
  }

  const common = (th: Thread) => ({
    parentUuid: th.parent,
    isSidechain: th.agentId !== null,
    userType: 'external',
    cwd: project.cwd,
    sessionId,
    version,
    gitBranch: project.branch,
    ...(th.agentId !== null && { agentId: th.agentId }),
    slug,
  })
  const emit = (th: Thread, line: Record<string, unknown>, uuid?: string) => {
    const s = JSON.stringify(line)
    th.lines.push(s)
    if (th.lines === main) mainChars += s.length + 1
    if (uuid) {
      uuidLines++
      th.parent = uuid
    }
  }
  const userLine = (th: Thread, content: unknown, extra: Record<string, unknown> = {}) => {
    const uuid = rng.uuid()
    tick(50, 4000)
    emit(
      th,
      { ...common(th), type: 'user', message: { role: 'user', content }, uuid, timestamp: iso(), ...extra },
      uuid,
    )
    return uuid
  }
  const progress = (th: Thread, data: Record<string, unknown>, toolUseID: string, parentToolUseID: string) => {
    const uuid = rng.uuid()
    tick(5, 800)
    emit(th, { ...common(th), type: 'progress', data, toolUseID, parentToolUseID, uuid, timestamp: iso() }, uuid)
  }
  const system = (th: Thread, fields: Record<string, unknown>) => {
    const uuid = rng.uuid()
    tick(1, 50)
    emit(th, { ...common(th), type: 'system', ...fields, timestamp: iso(), uuid, isMeta: false }, uuid)
    return uuid
  }

  type Block = Record<string, unknown> & { type: string }
  /**
   * One API response: a line per content block, sharing message.id / requestId and repeating the usage; all but the
   * last line carry a placeholder output_tokens. Returns the tool_use blocks.
   */
  const respond = (th: Thread, opts: { tools: number; text?: boolean; copyTo?: Thread; toolUseId?: string }) => {
    const id = `msg_01${rng.b62(22)}`
    const requestId = `req_011C${rng.b62(20)}`
    const blocks: Block[] = []
    if (rng.chance(0.55))
      blocks.push({ type: 'thinking', thinking: prose(rng.skewed(400, 4)), signature: rng.b62(rng.int(200, 600)) })
    if (opts.text !== false && (opts.tools === 0 || rng.chance(0.6)))
      blocks.push({ type: 'text', text: prose(rng.skewed(opts.tools === 0 ? 900 : 180, 4)) })
    const tools: { id: string; name: string; input: Record<string, unknown> }[] = []
    for (let i = 0; i < opts.tools; i++) {
      const name = th.agentId === null && spec.subagents !== false && rng.chance(0.04) ? 'Task' : rng.pick(TOOLS)
      const toolId = `toolu_01${rng.b62(22)}`
      const input = toolInput(name)
      tools.push({ id: toolId, name, input })
      blocks.push({ type: 'tool_use', id: toolId, name, input, caller: { type: 'direct' } })
    }
    if (blocks.length === 0) blocks.push({ type: 'text', text: prose(rng.skewed(300, 3)) })

    const output = rng.skewed(350, 8) + 20
    const placeholder = rng.int(1, Math.min(12, output - 1))
    const input = rng.int(1, 9)
    const cacheCreation = Math.max(0, th.context - th.cached)
    const cacheRead = th.cached
    th.cached = th.context
    th.context += output
    totals.input += input
    totals.output += output
    totals.cacheCreation += cacheCreation
    totals.cacheRead += cacheRead
    totals.responses++
    const usage = (out: number) => ({
      input_tokens: input,
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: cacheRead,
      cache_creation: {
        ephemeral_5m_input_tokens: oneHourCache ? 0 : cacheCreation,
        ephemeral_1h_input_tokens: oneHourCache ? cacheCreation : 0,
      },
      output_tokens: out,
      service_tier: 'standard',
    })
    tick(1500, 12_000)
    blocks.forEach((block, i) => {
      const last = i === blocks.length - 1
      const uuid = rng.uuid()
      tick(20, 1500)
      const message = {
        model: th.model,
        id,
        type: 'message',
        role: 'assistant',
        content: [block],
        stop_reason: last ? (tools.length ? 'tool_use' : 'end_turn') : null,
        stop_sequence: null,
        usage: usage(last ? output : placeholder),
      }
      const line = { ...common(th), message, requestId, type: 'assistant', uuid, timestamp: iso() }
      emit(th, line, uuid)
      // the parent's file gets a copy of every subagent message, usage included (never to be counted)
      if (opts.copyTo && opts.toolUseId)
        progress(
          opts.copyTo,
          {
            message: { type: 'assistant', timestamp: iso(), message, requestId, uuid },
            normalizedMessages: [],
            type: 'agent_progress',
            prompt: '',
            agentId: th.agentId,
          },
          `agent_msg_01${rng.b62(22)}`,
          opts.toolUseId,
        )
    })
    return tools
  }

  function toolInput(name: string): Record<string, unknown> {
    switch (name) {
      case 'Bash':
        return {
          command: `${rng.pick(['bun test', 'git status', 'ls -la', 'bun run tsc', 'rg'])} ${rng.pick(text.words)}`,
          description: sentence(3, 8),
        }
      case 'Read':
        return { file_path: filePath() }
      case 'Edit':
        return { file_path: filePath(), old_string: code(rng.skewed(200, 3)), new_string: code(rng.skewed(240, 3)) }
      case 'Write':
        return { file_path: filePath(), content: code(rng.skewed(1500, 3)) }
      case 'Grep':
        return { pattern: rng.pick(text.words), path: project.cwd, output_mode: 'files_with_matches' }
      case 'Glob':
        return { pattern: `**/*${rng.pick(text.words)}*.ts` }
      case 'TodoWrite':
        return {
          todos: Array.from({ length: rng.int(2, 6) }, () => ({
            content: sentence(4, 10),
            status: rng.pick(['pending', 'in_progress', 'completed']),
            activeForm: sentence(3, 6),
          })),
        }
      default:
        return { description: sentence(3, 6), prompt: prose(rng.skewed(500, 3)), subagent_type: 'general-purpose' }
    }
  }

  /** Runs one tool call: its progress lines, then the tool_result line; a Task runs a subagent. */
  const runTool = (th: Thread, tool: { id: string; name: string; input: Record<string, unknown> }, from: string) => {
    if (tool.name === 'Task') return runSubagent(th, tool, from)
    if (rng.chance(0.6))
      progress(
        th,
        {
          type: 'hook_progress',
          hookEvent: 'PreToolUse',
          hookName: `PreToolUse:${tool.name}`,
          command: rng.pick(HOOKS),
        },
        tool.id,
        tool.id,
      )
    let result: string
    let structured: unknown
    const isError = rng.chance(0.04)
    switch (tool.name) {
      case 'Bash': {
        const big = rng.chance(0.02)
        result = code(big ? rng.int(20_000, 150_000) : rng.skewed(700, 6))
        const outputs = rng.int(0, 3)
        let acc = ''
        for (let i = 0; i < outputs; i++) {
          const chunk = code(rng.skewed(120, 3))
          acc += `${chunk}\n`
          progress(
            th,
            {
              type: 'bash_progress',
              output: chunk,
              fullOutput: acc,
              elapsedTimeSeconds: i + 1,
              totalLines: acc.split('\n').length,
              timeoutMs: 120_000,
            },
            `bash-progress-${i}`,
            tool.id,
          )
        }
        structured = { stdout: result, stderr: '', interrupted: false, isImage: false, noOutputExpected: false }
        break
      }
      case 'Read': {
        const body = code(rng.skewed(2500, 4))
        const lines = body.split('\n')
        result = lines.map((l, i) => `${String(i + 1).padStart(6)}→${l}`).join('\n')
        structured = {
          type: 'text',
          file: {
            filePath: tool.input.file_path,
            content: body,
            numLines: lines.length,
            startLine: 1,
            totalLines: lines.length,
          },
        }
        break
      }
      case 'Edit':
        result = `The file ${tool.input.file_path} has been updated. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${code(rng.skewed(600, 3))}`
        structured = {
          filePath: tool.input.file_path,
          oldString: tool.input.old_string,
          newString: tool.input.new_string,
          structuredPatch: [{ oldStart: rng.int(1, 300), oldLines: 3, newStart: 1, newLines: 4, lines: [] }],
          userModified: false,
          replaceAll: false,
        }
        break
      case 'Grep':
      case 'Glob': {
        const n = rng.int(0, 25)
        const found = Array.from({ length: n }, filePath)
        result = n ? `Found ${n} files\n${found.join('\n')}` : 'No files found'
        structured = { mode: 'files_with_matches', filenames: found, numFiles: n }
        break
      }
      default:
        result =
          'Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress.'
        structured = { oldTodos: [], newTodos: tool.input.todos }
    }
    if (isError) result = `<tool_use_error>${prose(rng.skewed(120, 2))}</tool_use_error>`
    if (rng.chance(0.5))
      progress(
        th,
        {
          type: 'hook_progress',
          hookEvent: 'PostToolUse',
          hookName: `PostToolUse:${tool.name}`,
          command: rng.pick(HOOKS),
        },
        tool.id,
        tool.id,
      )
    th.context += Math.round(result.length / 3.5)
    userLine(th, [{ tool_use_id: tool.id, type: 'tool_result', content: result, is_error: isError }], {
      toolUseResult: isError ? `Error: ${result}` : structured,
      sourceToolAssistantUUID: from,
    })
  }

  /** A Task call: the subagent's own file, with a copy of each of its messages in the parent file. */
  const runSubagent = (
    parent: Thread,
    tool: { id: string; name: string; input: Record<string, unknown> },
    from: string,
  ) => {
    const agentId = rng.hex(17)
    const th: Thread = {
      lines: [],
      agentId,
      model: rng.pick(AGENT_MODELS),
      parent: null,
      context: rng.int(9000, 15_000),
      cached: 0,
    }
    files.set(`${sessionId}/subagents/agent-${agentId}.jsonl`, th.lines)
    userLine(th, String(tool.input.prompt))
    const steps = rng.int(1, 6)
    let last = ''
    for (let s = 0; s < steps; s++) {
      const final = s === steps - 1
      const tools = respond(th, { tools: final ? 0 : rng.int(1, 3), copyTo: parent, toolUseId: tool.id })
      last = th.parent ?? ''
      for (const tu of tools) runTool(th, tu, last)
    }
    const answer = prose(rng.skewed(1200, 3))
    parent.context += Math.round(answer.length / 3.5)
    userLine(parent, [{ tool_use_id: tool.id, type: 'tool_result', content: [{ type: 'text', text: answer }] }], {
      toolUseResult: {
        status: 'completed',
        prompt: tool.input.prompt,
        agentId,
        content: [{ type: 'text', text: answer }],
        totalDurationMs: rng.int(5000, 300_000),
        totalTokens: th.context,
        totalToolUseCount: steps,
        // the aggregate a Task result carries: never to be counted
        usage: { input_tokens: 10, output_tokens: 500, cache_read_input_tokens: th.context },
      },
      sourceToolAssistantUUID: from,
    })
  }

  /** Auto-compaction: an acompact agent summarises, a boundary resets the chain, the summary opens the next part. */
  const compact = (th: Thread) => {
    const preTokens = th.context
    const agent: Thread = {
      lines: [],
      agentId: `acompact-${rng.hex(6)}`,
      model: th.model,
      parent: th.parent,
      context: th.context,
      cached: th.cached,
    }
    files.set(`${sessionId}/subagents/agent-${agent.agentId}.jsonl`, agent.lines)
    userLine(agent, 'Your task is to create a detailed summary of the conversation so far.')
    respond(agent, { tools: 0 })
    const leaf = th.parent
    th.parent = null
    const boundary = system(th, {
      subtype: 'compact_boundary',
      content: 'Conversation compacted',
      logicalParentUuid: leaf,
      level: 'info',
      compactMetadata: { trigger: 'auto', preTokens },
    })
    th.parent = boundary
    userLine(th, `This session is being continued from a previous conversation.\n\n${prose(rng.skewed(3000, 2))}`, {
      isCompactSummary: true,
      isVisibleInTranscriptOnly: true,
    })
    th.context = rng.int(15_000, 30_000)
    th.cached = 0
  }

  // --- the session ---
  if (spec.summary)
    main.push(JSON.stringify({ type: 'summary', summary: spec.summary.title, leafUuid: spec.summary.leafUuid }))
  const snapshot = (messageId: string) =>
    main.push(
      JSON.stringify({
        type: 'file-history-snapshot',
        messageId,
        snapshot: { messageId, trackedFileBackups: {}, timestamp: iso() },
        isSnapshotUpdate: false,
      }),
    )
  for (let i = 0, n = rng.int(1, 4); i < n; i++)
    progress(
      mainThread,
      { type: 'hook_progress', hookEvent: 'SessionStart', hookName: 'SessionStart:startup', command: rng.pick(HOOKS) },
      rng.uuid(),
      rng.uuid(),
    )

  const done = () =>
    (spec.budgetChars !== undefined && mainChars >= spec.budgetChars) ||
    (spec.budgetUuidLines !== undefined && uuidLines >= spec.budgetUuidLines)
  let turns = 0
  while (!done() || turns === 0) {
    turns++
    const turnStart = t
    tick(20_000, 600_000)
    const promptId = userLine(mainThread, prose(rng.skewed(220, 4)), {
      thinkingMetadata: { maxThinkingTokens: 31_999 },
      todos: [],
      permissionMode: rng.pick(['default', 'acceptEdits', 'bypassPermissions']),
    })
    if (rng.chance(0.5)) snapshot(promptId)
    const steps = rng.int(1, 10)
    for (let s = 0; s < steps; s++) {
      const final = s === steps - 1
      const tools = respond(mainThread, { tools: final ? 0 : rng.int(1, 3) })
      const from = mainThread.parent ?? ''
      for (const tool of tools) runTool(mainThread, tool, from)
      if (mainThread.context > compactAt) compact(mainThread)
    }
    if (rng.chance(0.4))
      system(mainThread, {
        subtype: 'stop_hook_summary',
        hookCount: 1,
        hookInfos: [{ command: rng.pick(HOOKS) }],
        hookErrors: [],
        preventedContinuation: false,
        stopReason: '',
        hasOutput: false,
        level: 'suggestion',
      })
    if (rng.chance(0.6)) system(mainThread, { subtype: 'turn_duration', durationMs: t - turnStart })
  }
  return { files, endMs: t, leafUuid: mainThread.parent, totals, uuidLines }
}

// ---------------------------------------------------------------------------------------------------------------
// Corpora.

export type Manifest = {
  seed: number
  sizeMb: number
  sessions: number
  projects: number
  files: number
  lines: number
  uuidLines: number
  bytes: number
  totals: Totals
}

const projectOf = (rng: Rng, text: Text, i: number): Project => {
  const name = `${rng.pick(text.words)}-${rng.pick(text.words)}-${i}`
  const cwd = `/home/dev/projects/${name}`
  return { dir: cwd.replaceAll('/', '-'), cwd, branch: rng.pick(['main', 'main', `feat/${rng.pick(text.words)}`]) }
}

/** Writes a corpus of about `sizeMb` MB (main files) into `<root>/projects/` and returns its manifest. */
export function generateCorpus({
  root,
  sizeMb,
  sessions,
  seed = 42,
}: {
  root: string
  sizeMb: number
  sessions?: number
  seed?: number
}): Manifest {
  const rng = makeRng(seed)
  const text = buildText(rng)
  const sessionCount = Math.max(1, sessions ?? Math.ceil(sizeMb / 1.2))
  const projectCount = Math.max(1, Math.min(24, Math.ceil(sessionCount / 12)))
  const projects = Array.from({ length: projectCount }, (_, i) => projectOf(rng, text, i))
  const perSession = (sizeMb * 1024 * 1024) / sessionCount
  const totals = emptyTotals()
  const manifest: Manifest = {
    seed,
    sizeMb,
    sessions: sessionCount,
    projects: projectCount,
    files: 0,
    lines: 0,
    uuidLines: 0,
    bytes: 0,
    totals,
  }
  const lastLeaf = new Map<string, { leafUuid: string; title: string }>()
  let t = Date.UTC(2026, 0, 5, 9, 0, 0)
  // budgets vary around the mean; the remainder is carried so the corpus lands near its size
  let carry = 0
  for (let s = 0; s < sessionCount; s++) {
    const project = projects[s % projectCount] as Project
    const left = sessionCount - s
    const want =
      left === 1 ? perSession + carry : Math.max(20_000, (perSession + carry / left) * (0.4 + rng.next() * 1.2))
    const previous = lastLeaf.get(project.dir)
    const session = generateSession(rng, text, {
      sessionId: rng.uuid(),
      project,
      startMs: t,
      budgetChars: want * 0.8,
      summary: previous && rng.chance(0.3) ? previous : undefined,
    })
    t = session.endMs + rng.int(60_000, 8 * 3600_000)
    if (session.leafUuid)
      lastLeaf.set(project.dir, {
        leafUuid: session.leafUuid,
        title: `${rng.pick(text.words)} ${rng.pick(text.words)}`,
      })
    let written = 0
    for (const [name, lines] of session.files) {
      const path = join(root, 'projects', project.dir, name)
      mkdirSync(join(path, '..'), { recursive: true })
      const body = `${lines.join('\n')}\n`
      writeFileSync(path, body)
      const bytes = Buffer.byteLength(body)
      written += bytes
      manifest.files++
      manifest.lines += lines.length
    }
    manifest.bytes += written
    carry += perSession - written
    manifest.uuidLines += session.uuidLines
    for (const k of ['input', 'output', 'cacheCreation', 'cacheRead', 'responses'] as const)
      totals[k] += session.totals[k]
  }
  writeFileSync(join(root, 'manifest.json'), JSON.stringify(manifest, null, 2))
  return manifest
}

/** One session of about `uuidLines` messages (subagents included), for seeding a long conversation. */
export function generateLongSession(root: string, { uuidLines, seed = 7 }: { uuidLines: number; seed?: number }) {
  const rng = makeRng(seed)
  const text = buildText(rng)
  const project = projectOf(rng, text, 0)
  const sessionId = rng.uuid()
  const session = generateSession(rng, text, {
    sessionId,
    project,
    startMs: Date.UTC(2026, 0, 5, 9),
    budgetUuidLines: uuidLines,
  })
  const paths: string[] = []
  for (const [name, lines] of session.files) {
    const path = join(root, 'projects', project.dir, name)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, `${lines.join('\n')}\n`)
    paths.push(path)
  }
  return { sessionId, paths, uuidLines: session.uuidLines }
}

/** One session whose main file reaches about `chars` characters; its lines only (subagent files are not kept). */
export function generateMainFile({ chars, seed = 11 }: { chars: number; seed?: number }) {
  const rng = makeRng(seed)
  const text = buildText(rng)
  const project = projectOf(rng, text, 0)
  const sessionId = rng.uuid()
  const session = generateSession(rng, text, {
    sessionId,
    project,
    startMs: Date.UTC(2026, 0, 5, 9),
    budgetChars: chars,
  })
  return { sessionId, project, lines: session.files.get(`${sessionId}.jsonl`) as string[] }
}

if (import.meta.main) {
  const { parseArgs } = await import('node:util')
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      'size-mb': { type: 'string', default: '200' },
      sessions: { type: 'string' },
      seed: { type: 'string', default: '42' },
    },
  })
  if (!values.out) {
    console.error('usage: bun bench/generate.ts --out DIR [--size-mb 200] [--sessions N] [--seed 42]')
    process.exit(2)
  }
  const started = performance.now()
  const manifest = generateCorpus({
    root: values.out,
    sizeMb: Number(values['size-mb']),
    sessions: values.sessions ? Number(values.sessions) : undefined,
    seed: Number(values.seed),
  })
  const seconds = (performance.now() - started) / 1000
  console.log(JSON.stringify({ ...manifest, seconds: Math.round(seconds * 10) / 10 }, null, 2))
}
