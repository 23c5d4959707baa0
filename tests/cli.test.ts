import { Database } from 'bun:sqlite'
import { afterAll, describe, expect, it } from 'bun:test'
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareTranscriptPaths, findTranscripts } from '../src/cli/discover'
import { isBusy, withBusyRetry } from '../src/cli/local'
import { createClient } from '../src/client'
import { openDatabase } from '../src/db/client'
import { runMigrations } from '../src/db/migrate'
import type { IngestRepository } from '../src/modules/ingest/repository'
import { createUserRepository } from '../src/modules/users/repository'
import { createUserService } from '../src/modules/users/service'
import { startServer } from './server-process'

// Real transcripts, copied byte for byte from ../shared/fixtures (MIT; licences and SOURCES.md beside them).
const SPOTTER = join(import.meta.dir, 'fixtures', 'claude-code', 'spotter')
const SESSION = 'ae4a77f8-aedd-4bc1-888f-c94edc91af04'
const CLI = join(import.meta.dir, '..', 'src', 'cli.ts')

const tmp = mkdtempSync(join(tmpdir(), 'observatory-cli-'))
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

// Each test spawns the CLI (one also the server): generous limits for a loaded machine; alone they take 1-3 s.
const SLOW = 30_000

/**
 * What the transcript lines say, counted here with a plain JSON.parse: one message per distinct uuid, the tool_use
 * blocks of those lines, the sessions, and each API response's usage once (its line with the largest total; progress
 * copies and <synthetic> lines left out).
 */
function expected(paths: string[]) {
  const uuids = new Set<string>()
  const sessions = new Set<string>()
  let toolUses = 0
  const responses = new Map<string, number[]>()
  for (const line of paths.flatMap(linesOf)) {
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
  return { messages: uuids.size, toolCalls: toolUses, conversations: sessions.size, usage }
}

/** A data folder with one registered user, and a projects folder holding a copy of the spotter session. */
async function world(name: string, { user = true } = {}) {
  const root = join(tmp, name)
  const dataDir = join(root, 'data')
  const projects = join(root, 'projects', '-home-marco-projects-spotter')
  mkdirSync(projects, { recursive: true })
  cpSync(join(SPOTTER, `${SESSION}.jsonl`), join(projects, `${SESSION}.jsonl`))
  cpSync(join(SPOTTER, SESSION), join(projects, SESSION), { recursive: true })
  if (user) {
    const db = openDatabase(join(dataDir, 'observatory.db'))
    runMigrations(db)
    await createUserService(createUserRepository(db), { allowSignup: false }).register({
      email: 'ada@example.com',
      password: 'a long passphrase',
      display_name: 'Ada',
    })
    db.$client.close(true) // close(true) really closes: close() leaves it open while prepared statements live
  }
  const files = [
    join(projects, `${SESSION}.jsonl`),
    join(projects, SESSION, 'subagents', 'agent-aac57f5.jsonl'),
    join(projects, SESSION, 'subagents', 'agent-acompact-946d2b.jsonl'),
  ]
  return { root, dataDir, projects: join(root, 'projects'), main: files[0] as string, files }
}

type Run = { code: number; stdout: string; stderr: string }

/** Runs the CLI as a user would, on its own data folder, away from the real ~/.claude. */
async function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    env: { ...process.env, NODE_ENV: 'test', HOME: tmp, CLAUDE_CONFIG_DIR: '', ...env },
    stdin: stdin === undefined ? 'ignore' : new Blob([stdin]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, stdout, stderr }
}

const json = (run: Run) => {
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`)
  return JSON.parse(run.stdout)
}

/** Two new transcript lines of the session: valid JSON, fresh uuids, the same sessionId. */
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
    return { uuid, text: `${JSON.stringify(line)}\n` }
  })
}

describe('observatory import', () => {
  it(
    'imports a folder (main file, then its subagents) with exact counts, tokens and cost',
    async () => {
      const w = await world('first')
      const want = expected(w.files)
      expect(want.messages).toBe(2401) // a sanity check of the fixture itself: 2427 lines, 26 without uuid
      // a symlink loop inside the folder must not import anything twice
      symlinkSync(w.projects, join(w.projects, 'loop'))

      const summary = json(await cli(['import', w.projects, '--json'], { DATA_DIR: w.dataDir }))
      expect(summary).toMatchObject({
        mode: 'local',
        owner: 'ada@example.com',
        files: 3,
        files_failed: 0,
        conversations: want.conversations,
        messages_added: want.messages,
        tool_calls_added: want.toolCalls,
        lines_skipped: 0,
        interrupted: false,
        usage: {
          input_tokens: want.usage[0],
          output_tokens: want.usage[1],
          cache_creation_input_tokens: want.usage[2],
          cache_read_input_tokens: want.usage[3],
        },
      })
      expect(summary.lines_read).toBe(2427)
      expect(summary.cost_usd).toBeGreaterThan(1)

      const db = new Database(join(w.dataDir, 'observatory.db'), { readonly: true })
      const rows = (sql: string) => (db.query(sql).get() as { n: number }).n
      expect(rows('SELECT count(*) AS n FROM messages')).toBe(want.messages)
      expect(rows('SELECT count(*) AS n FROM tool_calls')).toBe(want.toolCalls)
      expect(rows(`SELECT cost_usd * 1e6 AS n FROM conversations WHERE id = '${SESSION}'`)).toBeCloseTo(
        summary.cost_usd * 1e6,
        0,
      )
      // the source key is the absolute path, the name the path as typed
      const keys = db.query('SELECT source_key AS k FROM sources ORDER BY source_key').all() as { k: string }[]
      expect(keys.map((k) => k.k)).toEqual([...w.files].sort())
      db.close(true)

      // A second import finds nothing new.
      const again = await cli(['import', w.projects], { DATA_DIR: w.dataDir })
      expect(again.code).toBe(0)
      expect(again.stdout).toMatch(/messages added\s+0\n/)
      expect(again.stdout).toMatch(/tool calls added\s+0\n/)
      expect(again.stdout).toContain('Imported 3 files')
      // not a terminal: one plain progress line per file
      expect(again.stderr.match(/nothing new/g)?.length).toBe(3)

      // Two lines appended to the session: exactly those two are added.
      const template = linesOf(w.main).find((l) => l.type === 'user' && l.uuid) as Line
      const added = newLines(template, 2)
      appendFileSync(w.main, added.map((a) => a.text).join(''))
      const third = json(await cli(['import', w.projects, '--json'], { DATA_DIR: w.dataDir }))
      expect(third).toMatchObject({ messages_added: 2, tool_calls_added: 0, conversations: 1, lines_skipped: 0 })

      // A bad line is reported with file:line and reason, and is not a failure.
      appendFileSync(w.main, 'this is not json\n')
      const bad = await cli(['import', w.main, '--json'], { DATA_DIR: w.dataDir })
      expect(bad.code).toBe(0)
      expect(JSON.parse(bad.stdout)).toMatchObject({
        messages_added: 0,
        lines_skipped: 1,
        skipped: [{ line: 2385 + 2 + 1, reason: 'invalid_json' }],
      })
      expect(bad.stderr).toContain(`${w.main}:2388: invalid_json`)
    },
    SLOW,
  )

  it(
    'exits 1 telling how to make the first user when there is none, and imports once `user add` made one',
    async () => {
      const w = await world('nobody', { user: false })
      const env = { DATA_DIR: w.dataDir }
      const run = await cli(['import', w.projects], env)
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('npm run cli -- user add')
      expect(run.stderr).toContain('POST /api/auth/register')
      // a password too short, or none at all, makes no user
      const short = await cli(['user', 'add', 'ada@example.com'], env, 'short\n')
      expect([short.code, short.stderr.trim()]).toEqual([
        1,
        'observatory: invalid password: Expected string length greater or equal to 8',
      ])
      expect((await cli(['user', 'add', 'ada@example.com'], env)).code).toBe(1)
      const member = await cli(['user', 'add', 'ada@example.com', '--role', 'member'], env, 'correct horse battery\n')
      expect([member.code, member.stderr.trim()]).toEqual([
        1,
        'observatory: the first account is an admin: leave out --role',
      ])
      const made = await cli(['user', 'add', 'ada@example.com', '--name', 'Ada'], env, 'correct horse battery\n')
      expect(made.code).toBe(0)
      expect(made.stdout).toContain('created admin ada@example.com')
      expect((await cli(['user', 'add', 'ada@example.com'], env, 'correct horse battery\n')).stderr).toContain(
        'a user with this email already exists',
      )
      const imported = json(await cli(['import', w.projects, '--json'], env))
      expect(imported.messages_added).toBe(expected(w.files).messages)
      // the account signs in with the password given on stdin, and owns what was imported
      const db = openDatabase(join(w.dataDir, 'observatory.db'))
      const users = createUserService(createUserRepository(db), { allowSignup: false })
      const ada = await users.verifyPassword('ada@example.com', 'correct horse battery')
      expect(ada?.role).toBe('admin')
      const owners = db.$client.query('SELECT DISTINCT owner_id AS id FROM messages').all() as { id: string }[]
      expect(owners.map((o) => o.id)).toEqual([ada!.id])
      db.$client.close(true)
    },
    SLOW,
  )

  it(
    'exits 1 for a path that does not exist, an unknown --user and a bad configuration',
    async () => {
      const w = await world('errors')
      const missing = await cli(['import', join(w.root, 'nope')], { DATA_DIR: w.dataDir })
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain('nope: no such file or folder')
      const unknown = await cli(['import', w.projects, '--user', 'bob@example.com'], { DATA_DIR: w.dataDir })
      expect(unknown.code).toBe(1)
      expect(unknown.stderr).toContain('no user with the email bob@example.com')
      const config = await cli(['import', w.projects], { DATA_DIR: w.dataDir, MAX_BODY_MB: 'lots' })
      expect(config.code).toBe(1)
      expect(config.stderr).toContain('invalid configuration: MAX_BODY_MB')
      const usage = await cli(['import', '--frobnicate'], { DATA_DIR: w.dataDir })
      expect(usage.code).toBe(2)
      // nothing was imported by any of them
      const db = new Database(join(w.dataDir, 'observatory.db'), { readonly: true })
      expect((db.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(0)
      db.close(true)
    },
    SLOW,
  )

  it(
    'reads $CLAUDE_CONFIG_DIR/projects of each listed folder when no path is given, as the named user',
    async () => {
      const w = await world('defaults')
      const other = join(w.root, 'other-config')
      mkdirSync(join(other, 'projects', 'p'), { recursive: true })
      cpSync(join(SPOTTER, 'short.jsonl'), join(other, 'projects', 'p', 'short.jsonl'))
      const summary = json(
        await cli(['import', '--json', '--user', 'ADA@example.com'], {
          DATA_DIR: w.dataDir,
          CLAUDE_CONFIG_DIR: `${w.root},${other}`,
        }),
      )
      const want = expected([...w.files, join(SPOTTER, 'short.jsonl')])
      expect(summary).toMatchObject({ files: 4, messages_added: want.messages, conversations: want.conversations })
    },
    SLOW,
  )
})

describe('observatory watch', () => {
  it(
    'imports, then sees an appended line and a new file within a second, and stops cleanly on SIGTERM',
    async () => {
      const w = await world('watch')
      const proc = Bun.spawn([process.execPath, CLI, 'watch', w.projects, '--json'], {
        env: { ...process.env, NODE_ENV: 'test', HOME: tmp, DATA_DIR: w.dataDir },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const stdout = proc.stdout.getReader()
      let seen = ''
      const nextLine = async () => {
        while (!seen.includes('\n')) {
          const { value, done } = await stdout.read()
          if (done) throw new Error(`watch ended: ${seen}${await new Response(proc.stderr).text()}`)
          seen += new TextDecoder().decode(value)
        }
        const at = seen.indexOf('\n')
        const line = seen.slice(0, at)
        seen = seen.slice(at + 1)
        return JSON.parse(line)
      }
      try {
        const initial = await nextLine()
        expect(initial).toMatchObject({ event: 'initial', files: 3, messages_added: expected(w.files).messages })

        const db = new Database(join(w.dataDir, 'observatory.db'), { readonly: true })
        const has = db.query('SELECT count(*) AS n FROM messages WHERE id = $id')
        const visibleWithin = async (uuid: string, ms: number) => {
          const start = performance.now()
          while (performance.now() - start < ms) {
            if ((has.get({ id: uuid }) as { n: number }).n === 1) return performance.now() - start
            await Bun.sleep(25)
          }
          return null
        }
        const template = linesOf(w.main).find((l) => l.type === 'user' && l.uuid) as Line
        const [appended] = newLines(template, 1)
        appendFileSync(w.main, appended?.text ?? '')
        expect(await visibleWithin(appended?.uuid ?? '', 1500)).not.toBeNull()
        expect(await nextLine()).toMatchObject({ event: 'import', messages_added: 1, conversations: [SESSION] })

        // a new session in a new project folder
        const [fresh] = newLines({ ...template, sessionId: crypto.randomUUID() }, 1)
        mkdirSync(join(w.projects, '-home-ada-new'))
        writeFileSync(join(w.projects, '-home-ada-new', 'new.jsonl'), fresh?.text ?? '')
        expect(await visibleWithin(fresh?.uuid ?? '', 1500)).not.toBeNull()
        expect(await nextLine()).toMatchObject({ event: 'import', messages_added: 1 })
        db.close(true)
      } finally {
        proc.kill('SIGTERM')
      }
      expect(await proc.exited).toBe(0)
      expect(await new Response(proc.stderr).text()).toContain('stopped')
    },
    SLOW,
  )
})

describe('beside a running server', () => {
  it(
    'sends files with --server and imports locally while the server writes to the same database',
    async () => {
      const w = await world('server', { user: false })
      const { proc, url } = await startServer({ DATA_DIR: w.dataDir, NODE_ENV: 'test' })
      try {
        const anon = createClient(url)
        await anon.api.auth.register.post({
          email: 'ada@example.com',
          password: 'a long passphrase',
          display_name: 'A',
        })
        const login = await anon.api.auth.login.post({ email: 'ada@example.com', password: 'a long passphrase' })
        const token = login.data?.access_token ?? ''
        const key = (await createClient(url, { token }).api.auth['api-keys'].post({ name: 'cli' })).data?.key ?? ''
        expect(key).toStartWith('obs_')

        // Remote: the server imports what the CLI sends, incrementally by the client path.
        const want = expected(w.files)
        const remote = json(await cli(['import', w.projects, '--server', url, '--json'], { OBSERVATORY_API_KEY: key }))
        expect(remote).toMatchObject({
          mode: 'remote',
          owner: 'ada@example.com',
          files: 3,
          files_failed: 0,
          messages_added: want.messages,
          tool_calls_added: want.toolCalls,
          lines_skipped: 0,
        })
        const template = linesOf(w.main).find((l) => l.type === 'user' && l.uuid) as Line
        appendFileSync(
          w.main,
          newLines(template, 2)
            .map((a) => a.text)
            .join(''),
        )
        const again = json(await cli(['import', w.projects, '--server', url, '--api-key', key, '--json']))
        expect(again).toMatchObject({ files: 3, messages_added: 2 })
        const refused = await cli(['import', w.projects, '--server', url, '--api-key', 'obs_wrong'])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain('refused the API key')

        // Local, on the server's own database, while the server writes: no SQLITE_BUSY may escape.
        const others = ['short.jsonl', 'tool_heavy.jsonl', 'subagent.jsonl'].map((f) => join(SPOTTER, f))
        const api = createClient(url, { token })
        let writing = true
        const statuses: number[] = []
        const writer = (async () => {
          while (writing) statuses.push((await api.api.conversations.post({ title: 'during import' })).status)
        })()
        const local = await cli(['import', ...others, '--json'], { DATA_DIR: w.dataDir })
        writing = false
        await writer
        expect(local.stderr).not.toContain('SQLITE_BUSY')
        expect(json(local)).toMatchObject({ files: 3, messages_added: expected(others).messages, files_failed: 0 })
        expect(statuses.length).toBeGreaterThan(0)
        expect(statuses.every((s) => s === 201)).toBe(true)
      } finally {
        proc.kill('SIGTERM')
      }
      expect(await proc.exited).toBe(0)
    },
    SLOW,
  )
})

describe('helpers', () => {
  it('orders a session file before its subagents, and finds each file once through symlinks', async () => {
    const paths = ['/p/b.jsonl', '/p/a/subagents/agent-1.jsonl', '/p/a-2.jsonl', '/p/a.jsonl']
    expect(paths.sort(compareTranscriptPaths)).toEqual([
      '/p/a.jsonl',
      '/p/a/subagents/agent-1.jsonl',
      '/p/a-2.jsonl',
      '/p/b.jsonl',
    ])
    const w = await world('scan', { user: false })
    symlinkSync(join(w.projects, '-home-marco-projects-spotter'), join(w.projects, 'again'))
    const scan = await findTranscripts([w.projects])
    expect(scan.files.map((f) => f.path)).toEqual(w.files)
  })

  it('recognises SQLITE_BUSY from bun:sqlite and retries a chunk that met it', async () => {
    const path = join(tmp, 'busy.db')
    const a = openDatabase(path)
    runMigrations(a)
    const b = openDatabase(path)
    b.$client.exec('PRAGMA busy_timeout = 0')
    a.$client.exec('BEGIN IMMEDIATE')
    let error: unknown
    try {
      b.transaction(() => undefined, { behavior: 'immediate' })
    } catch (e) {
      error = e
    }
    a.$client.exec('ROLLBACK')
    expect(isBusy(error)).toBe(true)
    expect(isBusy(new Error('disk full'))).toBe(false)

    let calls = 0
    const repo = {
      applyChunk: async () => {
        if (++calls < 3) throw error
        return { messagesAdded: 1, toolCallsAdded: 0, conversationIds: [] }
      },
    } as unknown as IngestRepository
    const retried = withBusyRetry(repo, 5, 1)
    expect(await retried.applyChunk({} as Parameters<IngestRepository['applyChunk']>[0])).toMatchObject({
      messagesAdded: 1,
    })
    expect(calls).toBe(3)
    a.$client.close(true)
    b.$client.close(true)
  })
})
