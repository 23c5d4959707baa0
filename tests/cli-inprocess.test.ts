import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it, spyOn } from 'bun:test'
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { type ImportOptions, parseImportArgs, UsageError } from '../src/cli/args'
import { defaultRoots, displayNameOf, findTranscripts, type Transcript } from '../src/cli/discover'
import { CliError, messageOf } from '../src/cli/errors'
import { formatSummary, importAll, listenForStop, resolveRoots, runImport, summarize } from '../src/cli/import'
import { isBusy, openLocalTarget, resolveOwner, retryBusy } from '../src/cli/local'
import { bytes, createReporter, describeOutcome, duration, type Reporter } from '../src/cli/progress'
import { openRemoteTarget } from '../src/cli/remote'
import type { FileOutcome, FileProgress, Target } from '../src/cli/target'
import { runWatch } from '../src/cli/watch'
import { loadConfig } from '../src/config'
import { openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import { createUserRepository } from '../src/modules/users/repository'
import { createUserService } from '../src/modules/users/service'
import { makeApp } from './helpers'

// The same CLI as tests/cli.test.ts, driven in-process: that file proves it end to end through real processes, this
// one reaches the branches (errors, remote answers, watch events) that only run inside the test process count.

// Real transcripts, copied byte for byte from ../shared/fixtures (MIT; licences and SOURCES.md beside them).
const SPOTTER = join(import.meta.dir, 'fixtures', 'claude-code', 'spotter')
const SHORT_SESSION = '55604662-cf2a-4331-851a-ec234028f8ca'
const TOOLS_SESSION = 'd6e0bada-1959-4eec-a9d2-0bfade768d8f'
const PASSWORD = 'a long passphrase'

const tmp = mkdtempSync(join(tmpdir(), 'observatory-cli-inprocess-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

type Line = Record<string, unknown> & {
  uuid?: string
  sessionId?: string
  type?: string
  requestId?: string
  message?: { id?: string; model?: string; content?: unknown; usage?: Record<string, number> }
}

const linesOf = (path: string): Line[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l))

/**
 * What the transcript lines say, counted with a plain JSON.parse: one message per distinct uuid, the tool_use blocks
 * of those lines, the sessions, the lines, and each API response's usage once (its line with the largest total).
 */
function expected(paths: string[]) {
  const uuids = new Set<string>()
  const sessions = new Set<string>()
  let toolUses = 0
  let lines = 0
  const responses = new Map<string, number[]>()
  for (const line of paths.flatMap(linesOf)) {
    lines++
    if (line.sessionId) sessions.add(line.sessionId)
    if (line.uuid && !uuids.has(line.uuid)) {
      uuids.add(line.uuid)
      const content = line.message?.content
      if (Array.isArray(content)) toolUses += content.filter((b) => b?.type === 'tool_use').length
    }
    const m = line.message
    if (line.type !== 'assistant' || !m?.usage || m.model === '<synthetic>') continue
    const u = [
      m.usage.input_tokens ?? 0,
      m.usage.output_tokens ?? 0,
      m.usage.cache_creation_input_tokens ?? 0,
      m.usage.cache_read_input_tokens ?? 0,
    ]
    const key = `${m.id}:${line.requestId}`
    const sum = (x: number[]) => x.reduce((a, b) => a + b, 0)
    const seen = responses.get(key)
    if (!seen || sum(u) > sum(seen)) responses.set(key, u)
  }
  const usage = [0, 0, 0, 0]
  for (const u of responses.values()) for (let i = 0; i < 4; i++) (usage[i] as number) += u[i] as number
  return { messages: uuids.size, toolCalls: toolUses, conversations: sessions.size, lines, usage }
}

/** New transcript lines for a session: valid JSON, fresh uuids, each a user message. */
function newLines(template: Line, n: number) {
  let parent = template.uuid
  return Array.from({ length: n }, (_, i) => {
    const uuid = crypto.randomUUID()
    const line = {
      ...template,
      type: 'user',
      uuid,
      parentUuid: parent,
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      message: { role: 'user', content: `appended line ${i}` },
    }
    parent = uuid
    return JSON.stringify(line)
  }).join('\n')
}

const append = (path: string, n: number, session?: string) => {
  const template = linesOf(path).find((l) => l.type === 'user' && l.uuid) as Line
  appendFileSync(path, `${newLines(session ? { ...template, sessionId: session } : template, n)}\n`)
}

/** A projects folder with copies of two spotter sessions, and a database with one registered user (unless 0). */
async function world(name: string, users = 1) {
  const root = join(tmp, name)
  const projects = join(root, 'projects')
  const dir = join(projects, '-home-ada-p')
  mkdirSync(dir, { recursive: true })
  const short = join(dir, 'short.jsonl')
  const tools = join(dir, 'tool_heavy.jsonl')
  cpSync(join(SPOTTER, 'short.jsonl'), short)
  cpSync(join(SPOTTER, 'tool_heavy.jsonl'), tools)
  const dbPath = join(root, 'observatory.db')
  if (users > 0) {
    const db = openDatabase(dbPath)
    runMigrations(db)
    await createUserService(createUserRepository(db), { allowSignup: false }).register({
      email: 'ada@example.com',
      password: PASSWORD,
      display_name: 'Ada',
    })
    db.$client.close(true) // close(true) really closes: close() leaves it open while prepared statements live
  }
  return { root, projects, dir, short, tools, dbPath, files: [short, tools] }
}

/** A stand-in for stderr that keeps what was written, and a reporter writing to it. */
function recorder(isTTY = false) {
  let text = ''
  const stream = {
    isTTY,
    columns: 160,
    write(chunk: unknown) {
      text += String(chunk)
      return true
    },
  } as unknown as NodeJS.WriteStream
  return { stream, text: () => text, reporter: createReporter(stream, isTTY) }
}

/** Captures process.stdout (where the CLI prints its summary) until `release`. */
function captureStdout() {
  let text = ''
  const spy = spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => {
    text += String(chunk)
    return true
  }) as typeof process.stdout.write)
  return { text: () => text, release: () => spy.mockRestore() }
}

/** Sets environment variables (undefined: unset) until `restore`. */
function setEnv(vars: Record<string, string | undefined>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k]
      else process.env[k] = x
    }
  }
  apply(vars)
  return { restore: () => apply(saved) }
}

/** Runs `import` as cli.ts would: options in, exit code and the two outputs back. */
async function runCli(opts: ImportOptions, env: Record<string, string | undefined> = {}, reporter?: Reporter) {
  const err = recorder()
  const out = captureStdout()
  const vars = setEnv({ CLAUDE_CONFIG_DIR: undefined, ...env })
  try {
    const code = await runImport(opts, reporter ?? err.reporter)
    return { code, stdout: out.text(), stderr: err.text() }
  } finally {
    vars.restore()
    out.release()
  }
}

async function until(check: () => boolean, what: string, ms = 4000) {
  const start = performance.now()
  while (!check()) {
    if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

const caught = async (p: Promise<unknown>) => {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

describe('args', () => {
  it('parses the flags of import and watch, and refuses contradictions as usage errors', async () => {
    expect(parseImportArgs(['a', '--json', 'b', '--user', 'ada@example.com'], {})).toEqual({
      paths: ['a', 'b'],
      json: true,
      user: 'ada@example.com',
    })
    expect(parseImportArgs(['--server', 'http://h', '--api-key', 'k'], {})).toEqual({
      paths: [],
      json: false,
      server: 'http://h',
      apiKey: 'k',
    })
    // the key may come from the environment (kept out of `ps`), and is dropped without a server
    expect(parseImportArgs(['--server', 'http://h'], { OBSERVATORY_API_KEY: 'env-key' }).apiKey).toBe('env-key')
    expect(parseImportArgs(['--api-key', 'k'], {})).toEqual({ paths: [], json: false })
    expect(() => parseImportArgs(['--server', 'http://h', '--api-key', 'k', '--user', 'a@b.c'], {})).toThrow(
      '--user is for the local database; with --server the API key decides the owner',
    )
    expect(() => parseImportArgs(['--server', 'http://h'], {})).toThrow(
      '--server needs --api-key KEY (or OBSERVATORY_API_KEY)',
    )
    const unknown = await caught(Promise.resolve().then(() => parseImportArgs(['--frobnicate'], {})))
    expect(unknown).toBeInstanceOf(UsageError)
    expect(unknown).toBeInstanceOf(CliError)
    expect(messageOf(unknown)).toContain('--frobnicate')
    expect(messageOf('plain text')).toBe('plain text')
  })
})

describe('discover', () => {
  it('finds the default transcript folders from CLAUDE_CONFIG_DIR, else the home folder', () => {
    const home = join(tmp, 'home')
    mkdirSync(join(home, '.claude', 'projects'), { recursive: true })
    const claude = join(home, '.claude', 'projects')
    expect(defaultRoots({}, home)).toEqual({
      candidates: [claude, join(home, '.config', 'claude', 'projects')],
      existing: [claude],
    })
    // comma-separated, trimmed, ~ expanded, empty entries ignored
    const elsewhere = join(tmp, 'elsewhere')
    expect(defaultRoots({ CLAUDE_CONFIG_DIR: ` ~/.claude , ${elsewhere},, ` }, home)).toEqual({
      candidates: [claude, join(elsewhere, 'projects')],
      existing: [claude],
    })
    expect(defaultRoots({ CLAUDE_CONFIG_DIR: '~' }, home).candidates).toEqual([join(home, 'projects')])
    expect(displayNameOf('/srv/a/b.jsonl', '/srv')).toBe('a/b.jsonl')
    expect(displayNameOf('/elsewhere/b.jsonl', '/srv')).toBe('/elsewhere/b.jsonl')
    expect(displayNameOf('/srv', '/srv')).toBe('/srv')
  })

  it('walks folders for *.jsonl, follows symlinks once each, and names what it cannot read', async () => {
    const root = join(tmp, 'scan')
    const p = join(root, 'projects', 'p')
    const outside = join(root, 'outside')
    mkdirSync(join(p, 's', 'subagents'), { recursive: true })
    mkdirSync(join(outside, 'deep'), { recursive: true })
    for (const f of [join(p, 's.jsonl'), join(p, 's', 'subagents', 'agent-1.jsonl'), join(p, 'notes.txt')])
      writeFileSync(f, '{}\n')
    writeFileSync(join(outside, 'linked.jsonl'), '{}\n{}\n')
    writeFileSync(join(outside, 'deep', 'd.jsonl'), '{}\n')
    symlinkSync(join(outside, 'linked.jsonl'), join(p, 'alias.jsonl'))
    symlinkSync(join(outside, 'linked.jsonl'), join(p, 'alias.txt')) // not named *.jsonl: left out
    symlinkSync(join(outside, 'deep'), join(p, 'deep-link'))
    symlinkSync(join(root, 'gone.jsonl'), join(p, 'broken.jsonl'))
    symlinkSync(join(p, 's.jsonl'), join(p, 'again.jsonl')) // the same file: kept once, under its real path
    symlinkSync(join(root, 'projects'), join(p, 'loop'))

    const scan = await findTranscripts(['projects'], root)
    expect(scan.files.map((f) => f.displayName)).toEqual([
      'projects/p/alias.jsonl',
      'projects/p/deep-link/d.jsonl',
      'projects/p/s.jsonl',
      'projects/p/s/subagents/agent-1.jsonl',
    ])
    expect(scan.files[0]).toMatchObject({ path: join(p, 'alias.jsonl'), size: 6 })
    expect([...scan.dirs.keys()].sort()).toEqual(
      [join(root, 'projects'), p, join(p, 'deep-link'), join(p, 's'), join(p, 's', 'subagents')].sort(),
    )
    expect(scan.warnings).toEqual([])

    // a file given twice (once through a link) is read once
    const given = await findTranscripts([join(outside, 'linked.jsonl'), join(p, 'alias.jsonl')], root)
    expect(given.files.map((f) => f.displayName)).toEqual(['outside/linked.jsonl'])

    const missing = await caught(findTranscripts(['nope'], root))
    expect(missing).toBeInstanceOf(CliError)
    expect(messageOf(missing)).toBe('nope: no such file or folder')
    expect(messageOf(await caught(findTranscripts(['/dev/null'])))).toBe('/dev/null: not a file or folder')
    const under = join(p, 's.jsonl', 'x')
    expect(messageOf(await caught(findTranscripts([under])))).toStartWith(`${under}: ENOTDIR`)
  })

  it('takes a file named alone only when its head is JSONL, whatever its name', async () => {
    const dir = join(tmp, 'named')
    mkdirSync(dir, { recursive: true })
    const files = {
      'notes.md': '# notes\n{"a":1}\n',
      'list.jsonl': '[{"a":1}]\n',
      'cut.jsonl': '{"a":\n',
      'log.txt': '\n{"sessionId":"s"}\n',
      'empty.jsonl': '',
      'growing.jsonl': '{"sessionId":"s","pad":"', // an unfinished first line may still come whole
    }
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    for (const name of ['notes.md', 'list.jsonl', 'cut.jsonl']) {
      const refused = await caught(findTranscripts([name], dir))
      expect(refused).toBeInstanceOf(CliError)
      expect(messageOf(refused)).toBe(`${name}: not a JSONL transcript (its first line is not a JSON object)`)
    }
    const taken = await findTranscripts(['log.txt', 'empty.jsonl', 'growing.jsonl'], dir)
    expect(taken.files.map((f) => f.displayName).sort()).toEqual(['empty.jsonl', 'growing.jsonl', 'log.txt'])
  })
})

describe('local database', () => {
  it('picks the owner: the named user, else the only one, else the first enabled admin', async () => {
    const db = openDatabase(join(tmp, 'owners.db'))
    runMigrations(db)
    const repo = createUserRepository(db)
    const users = createUserService(repo, { allowSignup: false })
    expect(messageOf(await caught(resolveOwner(repo)))).toBe(
      'there are no users yet: create the first (an admin) with `npm run cli -- user add you@example.com`, or register through the server (POST /api/auth/register)',
    )
    const ada = await users.register({ email: 'ada@example.com', password: PASSWORD, display_name: 'Ada' })
    expect((await resolveOwner(repo)).id).toBe(ada.id)
    expect((await resolveOwner(repo, 'ADA@Example.com')).id).toBe(ada.id)
    expect(messageOf(await caught(resolveOwner(repo, 'bob@example.com')))).toBe(
      'no user with the email bob@example.com',
    )

    await repo.update(ada.id, { disabled: true })
    expect(messageOf(await caught(resolveOwner(repo)))).toBe('the only account, ada@example.com, is disabled')
    expect(messageOf(await caught(resolveOwner(repo, 'ada@example.com')))).toBe(
      'the account ada@example.com is disabled',
    )
    const bob = await users.create({ email: 'bob@example.com', password: PASSWORD, display_name: 'Bob' })
    expect(messageOf(await caught(resolveOwner(repo)))).toBe(
      'there are several users and no enabled admin: name the owner with --user <email>',
    )
    expect((await resolveOwner(repo, 'bob@example.com')).id).toBe(bob.id)
    const cy = await users.create({ email: 'cy@example.com', password: PASSWORD, display_name: 'Cy', role: 'admin' })
    expect((await resolveOwner(repo)).id).toBe(cy.id)
    // a viewer only reads, over the API as here
    await users.create({ email: 'di@example.com', password: PASSWORD, display_name: 'Di', role: 'viewer' })
    expect(messageOf(await caught(resolveOwner(repo, 'di@example.com')))).toBe(
      'di@example.com is a viewer, who only reads: import as a member or an admin',
    )
    db.$client.close(true)
  })

  it('imports a file through the ingest service with exact counts, then nothing new, and sums stored usage', async () => {
    const w = await world('local-target')
    const config = loadConfig({ NODE_ENV: 'test', DB_PATH: w.dbPath })
    const target = await openLocalTarget(config, {})
    expect(target).toMatchObject({ mode: 'local', destination: w.dbPath, owner: 'ada@example.com' })
    const [file] = (await findTranscripts([w.short])).files as [Transcript]
    const size = statSync(w.short).size
    const want = expected([w.short])
    const progress: FileProgress[] = []
    expect(await target.importFile(file, (p) => void progress.push(p))).toEqual({
      bytesDone: size,
      bytesTotal: size,
      linesDone: want.lines,
      messagesAdded: want.messages,
      toolCallsAdded: want.toolCalls,
      linesSkipped: 0,
      conversationIds: [SHORT_SESSION],
      skipped: [],
    })
    expect(progress.at(-1)?.bytesDone).toBe(size)
    const totals = await target.totals([SHORT_SESSION, 'not-a-conversation'])
    expect(totals).toMatchObject({
      inputTokens: want.usage[0],
      outputTokens: want.usage[1],
      cacheCreationTokens: want.usage[2],
      cacheReadTokens: want.usage[3],
    })
    expect(totals?.costUsd).toBeGreaterThan(0)
    expect(await target.totals([])).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationTokens: 0,
      cacheReadTokens: 0,
      costUsd: 0,
    })
    expect(await target.importFile(file, () => {})).toMatchObject({ linesDone: 0, messagesAdded: 0 })
    await target.close()
    // a wrong owner is refused before anything is read, and the database is closed again
    expect(messageOf(await caught(openLocalTarget(config, { userEmail: 'bob@example.com' })))).toBe(
      'no user with the email bob@example.com',
    )
  })

  it('retries while the database is busy, and only then', async () => {
    const locked = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_SNAPSHOT' })
    const busy = new Error('wrapped by the ORM', { cause: locked })
    expect(isBusy(busy)).toBe(true)
    expect(isBusy({ code: 'SQLITE_LOCKED' })).toBe(true)
    expect(isBusy(null)).toBe(false)
    let calls = 0
    const flaky = () => {
      if (++calls < 3) throw busy
      return 'done'
    }
    expect(await retryBusy(flaky, 5, 1)).toBe('done')
    expect(calls).toBe(3)
    calls = 0
    const alwaysBusy = () => {
      calls++
      throw busy
    }
    expect(await caught(retryBusy(alwaysBusy, 2, 1))).toBe(busy)
    expect(calls).toBe(2)
    calls = 0
    const full = () => {
      calls++
      throw new Error('disk full')
    }
    expect(messageOf(await caught(retryBusy(full, 5, 1)))).toBe('disk full')
    expect(calls).toBe(1)
  })
})

describe('import', () => {
  it('imports a folder, then nothing new, then exactly the appended lines and a bad one', async () => {
    const w = await world('run')
    const want = expected(w.files)
    const first = await runCli(
      { paths: [w.projects], json: true },
      { DB_PATH: w.dbPath, OBSERVATORY_MACHINE_ID: 'ada-devbox' },
    )
    expect(first.code).toBe(0)
    // the sessions are placed on this machine, in the folder they ran in (the lines' cwd)
    const placed = new Database(w.dbPath, { readonly: true })
    expect(
      placed
        .query(
          `SELECT c.id, w.machine_id, w.path FROM conversations c JOIN workspaces w ON w.id = c.workspace_id
           ORDER BY c.id`,
        )
        .all(),
    ).toEqual(
      ['55604662-cf2a-4331-851a-ec234028f8ca', 'd6e0bada-1959-4eec-a9d2-0bfade768d8f'].map((id) => ({
        id,
        machine_id: 'ada-devbox',
        path: '/home/marco/projects/spotter',
      })),
    )
    placed.close()
    expect(JSON.parse(first.stdout)).toMatchObject({
      mode: 'local',
      destination: w.dbPath,
      owner: 'ada@example.com',
      files: 2,
      files_failed: 0,
      conversations: 2,
      messages_added: want.messages,
      tool_calls_added: want.toolCalls,
      lines_skipped: 0,
      lines_read: want.lines,
      usage: {
        input_tokens: want.usage[0],
        output_tokens: want.usage[1],
        cache_creation_input_tokens: want.usage[2],
        cache_read_input_tokens: want.usage[3],
        total_tokens: want.usage.reduce((a, b) => a + b, 0),
      },
      interrupted: false,
      skipped: [],
      failed: [],
    })
    const short = expected([w.short])
    expect(first.stderr).toContain(`[1/2] ${w.short}: +${short.messages} messages, +${short.toolCalls} tool calls\n`)

    const again = await runCli({ paths: [w.projects], json: false }, { DB_PATH: w.dbPath })
    expect(again.code).toBe(0)
    expect(again.stdout).toStartWith(`Imported 2 files into ${w.dbPath} as ada@example.com in `)
    expect(again.stdout).toMatch(/conversations touched {2}0\n {2}messages added {9}0\n/)
    expect(again.stdout).not.toContain('tokens')
    expect(again.stderr.match(/: nothing new\n/g)?.length).toBe(2)

    append(w.short, 2)
    appendFileSync(w.short, 'this is not json\n')
    const third = await runCli({ paths: [w.short], json: false, user: 'ADA@example.com' }, { DB_PATH: w.dbPath })
    expect(third.code).toBe(0) // a skipped line is not a failure
    expect(third.stdout).toStartWith('Imported 1 file into')
    expect(third.stdout).toMatch(/messages added {9}2\n {2}tool calls added {7}0\n {2}lines skipped {10}1\n/)
    // the tokens of the whole conversation touched, as now stored (the appended user lines have none)
    const [input, output, writes, reads] = short.usage.map((n) => n.toLocaleString('en-US'))
    expect(third.stdout).toContain(
      `  tokens                 ${input} input, ${output} output, ${writes} cache writes, ${reads} cache reads ` +
        '(in the conversations touched)\n',
    )
    expect(third.stdout).toMatch(/\n {2}cost {19}\$\d+\.\d\d\n$/)
    expect(third.stderr).toContain(`[1/1] ${w.short}: +2 messages, +0 tool calls, 1 line skipped\n`)
    expect(third.stderr).toContain(`  ${w.short}:${short.lines + 3}: invalid_json: `)
  })

  it('reads the default folders when no path is given, and says when there is nothing to read', async () => {
    const w = await world('defaults')
    const run = await runCli({ paths: [], json: true }, { DB_PATH: w.dbPath, CLAUDE_CONFIG_DIR: w.root })
    expect(JSON.parse(run.stdout)).toMatchObject({ files: 2, messages_added: expected(w.files).messages })

    const empty = join(w.root, 'empty')
    mkdirSync(empty)
    const none = await runCli({ paths: [empty], json: false }, { DB_PATH: w.dbPath })
    expect(none.code).toBe(0)
    expect(none.stdout).toStartWith('Imported 0 files into')
    expect(none.stderr).toBe('no transcripts (*.jsonl) found\n')

    expect(resolveRoots(['given'], {})).toEqual(['given'])
    const nowhere = join(tmp, 'no-such-config')
    expect(() => resolveRoots([], { CLAUDE_CONFIG_DIR: nowhere })).toThrow(
      `no Claude Code transcripts folder found (looked in ${join(nowhere, 'projects')}); name one`,
    )
    // no user: the error comes before anything is imported
    const nobody = await world('nobody', 0)
    expect(
      messageOf(await caught(runCli({ paths: [nobody.projects], json: true }, { DB_PATH: nobody.dbPath }))),
    ).toContain('there are no users yet: create the first')
  })

  it('stops after the chunk that committed on SIGINT (exit 130), and the next run continues from there', async () => {
    const w = await world('interrupt')
    const want = expected(w.files)
    const err = recorder()
    const interrupting: Reporter = {
      ...err.reporter,
      fileProgress(file, p) {
        err.reporter.fileProgress(file, p)
        process.emit('SIGINT')
      },
    }
    const stopped = await runCli({ paths: [w.projects], json: true }, { DB_PATH: w.dbPath }, interrupting)
    expect(stopped.code).toBe(130)
    const summary = JSON.parse(stopped.stdout)
    expect(summary).toMatchObject({ interrupted: true, files: 1, files_failed: 0 })
    expect(summary.messages_added).toBeGreaterThan(0)
    const rest = await runCli({ paths: [w.projects], json: true }, { DB_PATH: w.dbPath })
    expect(rest.code).toBe(0)
    expect(JSON.parse(rest.stdout).messages_added).toBe(want.messages - summary.messages_added)
    expect(process.listenerCount('SIGINT')).toBe(0) // the handlers went with the run
  })

  it('reports a file that fails and goes on, but ends on an error of the destination itself', async () => {
    const dir = join(tmp, 'fake-target')
    mkdirSync(dir)
    const files: Transcript[] = ['a', 'b', 'c'].map((name) => {
      const path = join(dir, `${name}.jsonl`)
      writeFileSync(path, `{"n":"${name}"}\n`)
      return { path, displayName: `${name}.jsonl`, size: 0, mtimeMs: 0 }
    })
    const skipped = [1, 2, 3, 4].map((line) => ({ line, reason: 'invalid_json', message: `bad ${line}` }))
    const fake = (failure: Error): Target => ({
      mode: 'remote',
      destination: 'https://fake.example',
      owner: null,
      async importFile(file, onProgress) {
        if (file.displayName === 'b.jsonl') throw failure
        const p = { bytesDone: file.size, bytesTotal: file.size, linesDone: 5, messagesAdded: 1, toolCallsAdded: 0 }
        await onProgress({ ...p, linesSkipped: 4 })
        return { ...p, linesSkipped: 4, conversationIds: null, skipped }
      },
      totals: async () => null,
      close: async () => {},
    })
    const stop = listenForStop()
    try {
      const err = recorder()
      const pass = await importAll(fake(new Error('disk on fire')), files, err.reporter, stop)
      expect(pass).toMatchObject({
        files: 2,
        messagesAdded: 2,
        linesSkipped: 8,
        linesDone: 10,
        conversationsKnown: false,
      })
      expect(pass.failed).toEqual([{ file: 'b.jsonl', error: 'disk on fire' }])
      // three skipped lines kept per file, the rest counted
      expect(pass.skipped.map((s) => `${s.file}:${s.line}`)).toEqual([
        'a.jsonl:1',
        'a.jsonl:2',
        'a.jsonl:3',
        'c.jsonl:1',
        'c.jsonl:2',
        'c.jsonl:3',
      ])
      expect(err.text()).toContain('[2/3] b.jsonl: failed: disk on fire\n')
      expect(err.text()).toContain(
        '[3/3] c.jsonl: +1 message, +0 tool calls, 4 lines skipped\n  c.jsonl:1: invalid_json',
      )
      expect(err.text()).toContain('  c.jsonl: 1 more skipped lines\n')
      expect(files[0]?.size).toBe(statSync(files[0]?.path as string).size) // sizes refreshed before reading

      const summary = await summarize(fake(new Error('x')), pass, performance.now())
      expect(summary).toMatchObject({ conversations: null, usage: null, cost_usd: null, files_failed: 1 })
      const text = formatSummary(summary)
      expect(text).toStartWith('Imported 2 files to https://fake.example in ')
      expect(text).toContain('  conversations touched  unknown\n')
      expect(text).toEndWith('  files failed           1')

      const fatal = new CliError('https://fake.example refused the API key: 401')
      expect(await caught(importAll(fake(fatal), files, recorder().reporter, stop))).toBe(fatal)
    } finally {
      stop.dispose()
    }
  })
})

describe('progress', () => {
  it('formats sizes, durations and outcomes', () => {
    expect([0, 1536, 5 * 1024 ** 3, 3 * 1024 ** 5].map(bytes)).toEqual(['0 B', '1.5 KB', '5.0 GB', '3072.0 TB'])
    expect([Number.POSITIVE_INFINITY, 1234, 42_000, 125_000, 3_725_000].map(duration)).toEqual([
      '?',
      '1.2s',
      '42s',
      '2m05s',
      '1h02m',
    ])
    const outcome = (o: Partial<FileOutcome>): FileOutcome => ({
      bytesDone: 0,
      bytesTotal: 0,
      linesDone: 0,
      messagesAdded: 0,
      toolCallsAdded: 0,
      linesSkipped: 0,
      conversationIds: [],
      skipped: [],
      ...o,
    })
    expect(describeOutcome(outcome({}))).toBe('nothing new')
    expect(describeOutcome(outcome({ messagesAdded: 1, toolCallsAdded: 1234 }))).toBe('+1 message, +1,234 tool calls')
  })

  it('prints a plain line every few seconds while a long file runs when stderr is not a terminal', () => {
    let now = 1000
    const clock = spyOn(performance, 'now').mockImplementation(() => now)
    try {
      const err = recorder()
      const file = { path: '/x/f.jsonl', displayName: 'f.jsonl', size: 1024, mtimeMs: 0 }
      err.reporter.begin([file])
      err.reporter.fileStart(file)
      const p = { bytesTotal: 1024, messagesAdded: 0, toolCallsAdded: 0, linesSkipped: 0 }
      now = 3000 // too soon
      err.reporter.fileProgress(file, { ...p, bytesDone: 256, linesDone: 5 })
      expect(err.text()).toBe('')
      now = 7000
      err.reporter.fileProgress(file, { ...p, bytesDone: 512, linesDone: 12 })
      expect(err.text()).toBe('[1/1] f.jsonl: 50% (512 B of 1.0 KB), 2 lines/s, ETA 6.0s\n')
      err.reporter.end()
    } finally {
      clock.mockRestore()
    }
  })

  it('draws a bar on a terminal, with failures and skipped lines logged above it', async () => {
    const err = recorder(true)
    const files = [
      { path: '/x/a.jsonl', displayName: 'a.jsonl', size: 100, mtimeMs: 0 },
      { path: '/x/b.jsonl', displayName: `${'long-name-'.repeat(6)}b.jsonl`, size: 300, mtimeMs: 0 },
    ]
    const r = err.reporter
    r.begin(files)
    r.fileStart(files[0] as Transcript)
    r.fileProgress(files[0] as Transcript, {
      bytesDone: 50,
      bytesTotal: 100,
      linesDone: 1,
      messagesAdded: 1,
      toolCallsAdded: 0,
      linesSkipped: 0,
    })
    r.fileDone(files[0] as Transcript, {
      bytesDone: 100,
      bytesTotal: 100,
      linesDone: 2,
      messagesAdded: 1,
      toolCallsAdded: 0,
      linesSkipped: 1,
      conversationIds: [],
      skipped: [{ line: 2, reason: 'invalid_json', message: 'Unexpected token' }],
    })
    r.fileStart(files[1] as Transcript)
    r.fileFailed(files[1] as Transcript, 'gone')
    r.log('a note')
    await Bun.sleep(250) // the bar redraws (and prints what was logged) on its own timer
    r.end()
    const text = err.text()
    expect(text).toContain('a.jsonl:2: invalid_json: Unexpected token\n')
    expect(text).toContain(`${files[1]?.displayName}: failed: gone\n`)
    expect(text).toContain('a note\n')
    expect(text).not.toContain('[1/2]') // the bar says where it is; no plain progress lines
    expect(text).toContain('lines/s')
  })
})

/** A stand-in Observatory: answers by file name, so each remote outcome can be provoked. */
function fakeServer() {
  const badLine = { line: 2, offset: 10, reason: 'invalid_json', message: 'Unexpected token' }
  const state = { revoked: false, posts: 0, polls: new Map<string, number>() }
  const status = (id: string, over: Record<string, unknown> = {}) => ({
    id,
    name: id,
    size: 0,
    status: 'pending',
    bytes_done: 0,
    lines_done: 0,
    messages_added: 0,
    tool_calls_added: 0,
    lines_skipped: 0,
    error: null,
    first_errors: [],
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    finished_at: null,
    ...over,
  })
  const denied = () => Response.json({ error: 'invalid API key', code: 'UNAUTHORIZED' }, { status: 401 })
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/api/auth/me') return Response.json({ id: 'u1', email: 'ada@example.com', role: 'admin' })
      if (path === '/api/files' && req.method === 'POST') {
        if (state.revoked) return denied()
        state.posts++
        const name = basename(String((await req.formData()).get('source_key')), '.jsonl')
        if (name === 'refused') return Response.json({ error: 'boom', code: 'INTERNAL' }, { status: 500 })
        return Response.json(status(name), { status: 202 })
      }
      if (path === '/api/files/source') return Response.json({ error: 'none', code: 'NOT_FOUND' }, { status: 404 })
      if (/^\/api\/files\/\w+\/errors$/.test(path))
        return Response.json({ items: [badLine], total: 1, limit: 20, offset: 0 })
      const file = path.match(/^\/api\/files\/(\w+)$/)?.[1]
      if (file) {
        const polls = (state.polls.get(file) ?? 0) + 1
        state.polls.set(file, polls)
        if (file === 'lost') return Response.json({ error: 'no such upload', code: 'NOT_FOUND' }, { status: 404 })
        if (file === 'broken') return Response.json(status(file, { status: 'error', error: 'not a transcript' }))
        if (polls === 1) return Response.json(status(file, { status: 'processing', bytes_done: 10, lines_done: 1 }))
        return Response.json(
          status(file, {
            status: 'completed',
            bytes_done: 20,
            lines_done: 2,
            messages_added: 3,
            tool_calls_added: 1,
            lines_skipped: 1,
            first_errors: [badLine],
            conversation_ids: ['c1'],
          }),
        )
      }
      if (path === '/api/conversations/c1')
        return Response.json({
          usage: { input_tokens: 10, output_tokens: 20, cache_creation_input_tokens: 30, cache_read_input_tokens: 40 },
          cost_usd: 0.5,
        })
      return Response.json({ error: 'not found', code: 'NOT_FOUND' }, { status: 404 })
    },
  })
  return { url: server.url.href.replace(/\/$/, ''), state, stop: () => server.stop(true) }
}

describe('remote server', () => {
  it('sends files to a running Observatory, which imports them and then only what was appended', async () => {
    const w = await world('remote', 0)
    const { app, admin } = await makeApp({ DATA_DIR: join(w.root, 'server') })
    app.listen({ port: 0, hostname: '127.0.0.1' })
    try {
      const url = (app.server?.url.href ?? '').replace(/\/$/, '')
      const key = (await admin.api.api.auth['api-keys'].post({ name: 'cli' })).data?.key ?? ''
      const want = expected(w.files)
      const run = await runCli(
        { paths: [w.projects], json: true, server: url, apiKey: key },
        { OBSERVATORY_MACHINE_ID: 'ada-remote' },
      )
      expect(run.code).toBe(0)
      // the server placed the sessions on the machine the CLI named
      const machines = (await admin.api.api.machines({ id: 'ada-remote' }).get()).data
      expect(machines?.workspaces.map((x) => x.path)).toEqual(['/home/marco/projects/spotter'])
      expect(JSON.parse(run.stdout)).toMatchObject({
        mode: 'remote',
        destination: url,
        owner: 'admin@example.com',
        files: 2,
        files_failed: 0,
        conversations: 2, // each file's session, as the files API names them
        messages_added: want.messages,
        tool_calls_added: want.toolCalls,
        lines_skipped: 0,
        lines_read: want.lines,
        usage: {
          input_tokens: want.usage[0],
          output_tokens: want.usage[1],
          cache_creation_input_tokens: want.usage[2],
          cache_read_input_tokens: want.usage[3],
        },
      })
      expect(JSON.parse(run.stdout).cost_usd).toBeGreaterThan(0)
      // a machine id the server would refuse is refused before anything is sent
      const badMachine = await caught(
        runCli(
          { paths: [w.projects], json: true, server: url, apiKey: key },
          { OBSERVATORY_MACHINE_ID: "Ada's laptop" },
        ),
      )
      expect(badMachine).toBeInstanceOf(CliError)
      expect(messageOf(badMachine)).toStartWith(`OBSERVATORY_MACHINE_ID: "Ada's laptop" is not a machine id`)
      // run again: nothing new, no conversation touched
      const again = await runCli({ paths: [w.projects], json: true, server: url, apiKey: key })
      expect(JSON.parse(again.stdout)).toMatchObject({
        conversations: 0,
        messages_added: 0,
        usage: { total_tokens: 0 },
      })

      const target = await openRemoteTarget({ server: `${url}//`, apiKey: key })
      expect(target).toMatchObject({ mode: 'remote', destination: url, owner: 'admin@example.com' })
      const totals = await target.totals([SHORT_SESSION, TOOLS_SESSION])
      expect(totals).toMatchObject({
        inputTokens: want.usage[0],
        outputTokens: want.usage[1],
        cacheCreationTokens: want.usage[2],
        cacheReadTokens: want.usage[3],
      })
      expect(totals?.costUsd).toBeGreaterThan(0)
      expect(await target.totals(['not-a-conversation'])).toBeNull()
      // only the appended lines travel, and a line still being written waits for its end
      const before = statSync(w.short).size
      append(w.short, 2)
      const appended = statSync(w.short).size - before
      appendFileSync(w.short, '{"type":"user","uuid":"half-writ')
      const sent: number[] = []
      const fetchBefore = globalThis.fetch
      globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
        if (init?.body instanceof FormData) sent.push((init.body.get('file') as File).size)
        return fetchBefore(input, init)
      }) as typeof fetch
      const userLine = (uuid: string) =>
        `${JSON.stringify({ type: 'user', uuid, sessionId: 'remote-new', timestamp: '2026-01-01T00:00:00Z', message: { role: 'user', content: uuid } })}\n`
      const fresh = join(w.dir, 'fresh.jsonl')
      try {
        const [file] = (await findTranscripts([w.short])).files as [Transcript]
        expect(await target.importFile(file, () => {})).toMatchObject({
          linesDone: 2,
          messagesAdded: 2,
          linesSkipped: 0,
        })
        expect(await target.importFile(file, () => {})).toMatchObject({ linesDone: 0, messagesAdded: 0 })
        expect(sent).toEqual([appended])

        // a file sent whole for the first time goes without its line still being written; that line follows alone
        writeFileSync(fresh, userLine('f-1') + userLine('f-2') + userLine('f-3').slice(0, 20))
        const freshFile = { path: fresh, displayName: 'fresh.jsonl', size: 0, mtimeMs: 0 }
        expect(await target.importFile(freshFile, () => {})).toMatchObject({ linesDone: 2, messagesAdded: 2 })
        appendFileSync(fresh, userLine('f-3').slice(20))
        expect(await target.importFile(freshFile, () => {})).toMatchObject({ linesDone: 1, messagesAdded: 1 })
        expect(sent.slice(1)).toEqual([(userLine('f-1') + userLine('f-2')).length, userLine('f-3').length])

        // new lines that do not start like a transcript go as an append all the same, the bad one reported
        const odd = '[1,2]\n'
        appendFileSync(fresh, odd + userLine('f-4'))
        expect(await target.importFile(freshFile, () => {})).toMatchObject({
          linesDone: 2,
          messagesAdded: 1,
          skipped: [{ line: 4, reason: 'not_object' }], // after f-1, f-2 and f-3
        })
        expect(sent.slice(3)).toEqual([odd.length + userLine('f-4').length])
      } finally {
        globalThis.fetch = fetchBefore
      }
      // an empty file is not sent (the server refuses empty uploads)
      const emptyPath = join(w.dir, 'empty.jsonl')
      writeFileSync(emptyPath, '')
      expect(
        await target.importFile({ path: emptyPath, displayName: 'empty.jsonl', size: 0, mtimeMs: 0 }, () => {}),
      ).toEqual({
        bytesDone: 0,
        bytesTotal: 0,
        linesDone: 0,
        messagesAdded: 0,
        toolCallsAdded: 0,
        linesSkipped: 0,
        conversationIds: [],
        skipped: [],
      })
      await target.close()
      expect(messageOf(await caught(openRemoteTarget({ server: url, apiKey: 'obs_wrong' })))).toStartWith(
        `${url} refused the API key: 401`,
      )
    } finally {
      await app.stop(true)
    }
  })

  it('reports each way an upload can fail, and exits 1', async () => {
    const fake = fakeServer()
    try {
      const dir = join(tmp, 'remote-failures')
      mkdirSync(dir)
      for (const name of ['broken', 'lost', 'ok', 'refused']) writeFileSync(join(dir, `${name}.jsonl`), '{"a":1}\n{]\n')
      const err = recorder()
      const run = await runCli({ paths: [dir], json: false, server: fake.url, apiKey: 'k' }, {}, err.reporter)
      expect(run.code).toBe(1)
      expect(run.stdout).toStartWith(`Imported 1 file to ${fake.url} as ada@example.com in `)
      expect(run.stdout).toContain('  conversations touched  1\n')
      expect(run.stdout).toContain('  tokens                 10 input, 20 output, 30 cache writes, 40 cache reads')
      expect(run.stdout).toContain('  cost                   $0.50\n')
      expect(run.stdout).toContain('  files failed           3')
      expect(err.text()).toContain(
        `[1/4] ${join(dir, 'broken.jsonl')}: failed: the server could not import it: not a transcript\n`,
      )
      expect(err.text()).toContain(
        `[2/4] ${join(dir, 'lost.jsonl')}: failed: status of upload lost: 404 NOT_FOUND: no such upload\n`,
      )
      expect(err.text()).toContain(`[3/4] ${join(dir, 'ok.jsonl')}: +3 messages, +1 tool call, 1 line skipped\n`)
      expect(err.text()).toContain(`  ${join(dir, 'ok.jsonl')}:2: invalid_json: Unexpected token\n`)
      expect(err.text()).toContain(`[4/4] ${join(dir, 'refused.jsonl')}: failed: upload refused: 500 INTERNAL: boom\n`)
      expect(fake.state.polls.get('ok')).toBe(2) // pending, then completed
    } finally {
      fake.stop()
    }
  })

  it('refuses a URL that is not http(s), a server that cannot be reached, and one that is not Observatory', async () => {
    for (const server of ['ftp://example.com', 'not a url'])
      expect(messageOf(await caught(openRemoteTarget({ server, apiKey: 'k' })))).toBe(
        `--server: "${server}" is not an http(s) URL such as https://observatory.example.com`,
      )
    const unreachable = await caught(openRemoteTarget({ server: 'http://127.0.0.1:1', apiKey: 'k' }))
    expect(unreachable).toBeInstanceOf(CliError)
    expect(messageOf(unreachable)).toContain('cannot reach http://127.0.0.1:1')

    const other = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req) => {
        const path = new URL(req.url).pathname
        if (path === '/api/auth/me') return Response.json({ email: 'ada@example.com' })
        if (path === '/forbidden/api/auth/me')
          return Response.json({ error: 'key revoked', code: 'FORBIDDEN' }, { status: 403 })
        return new Response('nothing here', { status: path.startsWith('/broken') ? 500 : 404 })
      },
    })
    try {
      const base = other.url.href.replace(/\/$/, '')
      const target = await openRemoteTarget({ server: base, apiKey: 'k' })
      const file = join(tmp, 'one.jsonl')
      writeFileSync(file, '{}\n')
      expect(
        messageOf(
          await caught(target.importFile({ path: file, displayName: 'one.jsonl', size: 3, mtimeMs: 0 }, () => {})),
        ),
      ).toBe(`${base} has no POST /api/files route: is it an Observatory server?`)
      expect(messageOf(await caught(openRemoteTarget({ server: `${base}/forbidden`, apiKey: 'k' })))).toBe(
        `${base}/forbidden refused the API key: 403 FORBIDDEN: key revoked`,
      )
      expect(messageOf(await caught(openRemoteTarget({ server: `${base}/broken`, apiKey: 'k' })))).toBe(
        `${base}/broken: 500`,
      )
    } finally {
      other.stop(true)
    }
  })
})

/** Starts `watch` in-process; SIGTERM (as cli.ts receives it) ends it. */
function startWatch(opts: ImportOptions, env: Record<string, string | undefined> = {}, reporter?: Reporter) {
  const err = recorder()
  const out = captureStdout()
  const vars = setEnv({ CLAUDE_CONFIG_DIR: undefined, ...env })
  let running = true
  const done = runWatch(opts, reporter ?? err.reporter).finally(() => {
    running = false
    vars.restore()
    out.release()
  })
  // one signal only: a second one while stopping would exit the test process, as it exits the CLI
  let signalled = false
  const stop = () => {
    if (running && !signalled) process.emit('SIGTERM')
    signalled = true
    return done.catch(() => -1)
  }
  const events = () =>
    out
      .text()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
  return { done, stop, stdout: out.text, stderr: err.text, events }
}

describe('watch', () => {
  it('imports, then follows appended lines, new files and bad lines, retries a failure, and stops on SIGTERM', async () => {
    const w = await world('watch')
    const want = expected(w.files)
    const watch = startWatch({ paths: [w.projects], json: true }, { DB_PATH: w.dbPath })
    try {
      await until(() => watch.events().length === 1, 'the initial import')
      expect(watch.events()[0]).toMatchObject({
        event: 'initial',
        files: 2,
        conversations: 2,
        messages_added: want.messages,
        tool_calls_added: want.toolCalls,
      })
      await until(() => watch.stderr().includes('(Ctrl-C to stop)'), 'watching')
      expect(watch.stderr()).toContain(`watching 2 files in ${w.projects} (Ctrl-C to stop)\n`)

      append(w.short, 2)
      await until(() => watch.events().length === 2, 'the appended lines')
      expect(watch.events()[1]).toMatchObject({
        event: 'import',
        file: w.short,
        conversations: [SHORT_SESSION],
        messages_added: 2,
        tool_calls_added: 0,
        lines_skipped: 0,
        skipped: [],
      })

      const session = crypto.randomUUID()
      const fresh = join(w.projects, '-home-ada-new', 'new.jsonl')
      mkdirSync(join(w.projects, '-home-ada-new'))
      writeFileSync(fresh, `${newLines({ ...linesOf(w.short)[1], sessionId: session } as Line, 1)}\n`)
      await until(() => watch.events().length === 3, 'the new file')
      expect(watch.events()[2]).toMatchObject({ file: fresh, conversations: [session], messages_added: 1 })

      const toolsLines = expected([w.tools]).lines
      appendFileSync(w.tools, 'this is not json\n')
      await until(() => watch.events().length === 4, 'the bad line')
      expect(watch.events()[3]).toMatchObject({
        file: w.tools,
        messages_added: 0,
        lines_skipped: 1,
        skipped: [{ file: w.tools, line: toolsLines + 1, reason: 'invalid_json' }],
      })

      // a file that cannot be read is retried later; one that went away is forgotten
      rmSync(fresh)
      rmSync(w.short)
      mkdirSync(w.short)
      await until(() => watch.stderr().includes('(retrying in 5s)'), 'the failure')
      expect(watch.stderr()).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d ${w.short}: failed: .+ \\(retrying in 5s\\)\n`))

      expect(await watch.stop()).toBe(0)
      expect(watch.stderr()).toEndWith('stopped\n')
      expect(watch.events()).toHaveLength(4)
    } finally {
      await watch.stop()
    }
    expect(process.listenerCount('SIGTERM')).toBe(0)
  })

  it('prints plain lines without --json, and ends with the error when the server refuses the key', async () => {
    const fake = fakeServer()
    let afterStop = async () => 0
    try {
      const dir = join(tmp, 'watch-remote')
      mkdirSync(dir)
      const ok = join(dir, 'ok.jsonl')
      writeFileSync(ok, '{"a":1}\n')
      writeFileSync(join(dir, 'broken.jsonl'), '{"a":1}\n')
      const watch = startWatch({ paths: [dir], json: false, server: fake.url, apiKey: 'k' })
      afterStop = watch.stop
      await until(() => watch.stderr().includes('(Ctrl-C to stop)'), 'watching')
      expect(watch.stdout()).toStartWith(`Imported 1 file to ${fake.url} as ada@example.com in `)
      expect(watch.stdout()).toContain('  files failed           1\n')

      appendFileSync(ok, '{"a":2}\n')
      await until(() => watch.stdout().includes('ok.jsonl: '), 'the appended line')
      expect(watch.stdout()).toMatch(
        new RegExp(`\n\\d\\d:\\d\\d:\\d\\d ${ok}: \\+3 messages, \\+1 tool call, 1 line skipped\n`),
      )
      expect(watch.stderr()).toContain(`  ${ok}:2: invalid_json: Unexpected token\n`)

      fake.state.revoked = true
      appendFileSync(ok, '{"a":3}\n')
      const error = await caught(watch.done)
      expect(error).toBeInstanceOf(CliError)
      expect(messageOf(error)).toBe(`${fake.url} refused the API key: 401 UNAUTHORIZED: invalid API key`)
      expect(process.listenerCount('SIGTERM')).toBe(0)
    } finally {
      await afterStop()
      fake.stop()
    }
  })

  it('returns after the initial import when stopped during it', async () => {
    const w = await world('watch-stop')
    const err = recorder()
    const stopping: Reporter = {
      ...err.reporter,
      fileStart(file) {
        err.reporter.fileStart(file)
        process.emit('SIGTERM')
      },
    }
    const watch = startWatch({ paths: [w.projects], json: true }, { DB_PATH: w.dbPath }, stopping)
    expect(await watch.done).toBe(0)
    expect(watch.events()).toMatchObject([{ event: 'initial', interrupted: true, files: 1 }])
    expect(err.text()).not.toContain('watching')
  })
})
