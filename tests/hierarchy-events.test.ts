import { describe, expect, it, setSystemTime } from 'bun:test'
import { basename, join } from 'node:path'
import { HOOK_RETRY_MS } from '../src/modules/events/service'
import { normalizeRemote } from '../src/modules/hierarchy/remote'
import { FIXTURES } from './fixture-expectations'
import { countRows, errorOf, json, makeApp } from './helpers'

describe('git remote normalisation', () => {
  it('gives every clone URL of a repository one name, with owner and repo', () => {
    for (const url of [
      'git@github.com:ada/shop.git',
      'git@github.com:ada/shop',
      'https://github.com/ada/shop.git',
      'https://github.com/ada/shop',
      'https://ada:secret@GitHub.com/ada/shop.git/',
      'ssh://git@github.com/ada/shop.git',
      'ssh://git@github.com:22/ada/shop',
      'git://github.com/ada/shop.git',
      'https://github.com/ada/shop.GIT',
      'https://github.com/%61da/shop',
    ])
      expect({ url, n: normalizeRemote(url) }).toEqual({
        url,
        n: { url: 'https://github.com/ada/shop', host: 'github.com', owner: 'ada', repo: 'shop' },
      })
    expect(normalizeRemote('git@gitlab.com:group/sub/tool.git')).toEqual({
      url: 'https://gitlab.com/group/sub/tool',
      host: 'gitlab.com',
      owner: 'group/sub',
      repo: 'tool',
    })
  })

  it('refuses what is not a repository, saying why', () => {
    for (const [url, why] of [
      ['hello', 'not a URL'],
      ['https://github.com', 'owner and a repository'],
      ['https://github.com/ada', 'owner and a repository'],
      ['ftp://host/a/b', 'not a git transport'],
      ['https://github.com/ada/sh op', 'characters'],
      ['https://github.com/a%2Fb/c', 'characters'],
      ['http://github.com/%ZZ/b', 'malformed %-escape'],
    ] as const)
      expect(() => normalizeRemote(url)).toThrow(why)
  })
})

describe('hierarchy', () => {
  it('upserts machines and workspaces idempotently and resolves projects from remotes or paths', async () => {
    const { api, user, db, raw } = await makeApp()
    const first = await api.api.machines.post({ machine_id: 'm-1', hostname: 'ada-laptop', os: 'linux' })
    expect(first.status).toBe(201)
    const again = await api.api.machines.post({ machine_id: 'm-1', ip: '10.0.0.5' })
    expect(again.status).toBe(200)
    expect(again.data).toMatchObject({ id: 'm-1', hostname: 'ada-laptop', os: 'linux', ip: '10.0.0.5' })
    expect(countRows(db, 'machines')).toBe(1)

    const ws1 = await api.api.workspaces.post({
      workspace_id: 'w-1',
      machine_id: 'm-1',
      path: '/src/shop',
      branch: 'main',
      git_remote: 'git@github.com:ada/shop.git',
    })
    expect(ws1.status).toBe(201)
    const ws2 = await api.api.workspaces.post({
      workspace_id: 'w-2',
      machine_id: 'm-2',
      path: '/work/shop',
      git_remote: 'https://github.com/ada/shop',
    })
    expect(ws2.data?.project_id).toBe(ws1.data!.project_id)
    const again2 = await api.api.workspaces.post({
      workspace_id: 'w-1',
      machine_id: 'm-1',
      path: '/src/shop',
      commit: 'abc123',
      git_remote: 'git@github.com:ada/shop.git',
    })
    expect(again2.status).toBe(200)
    expect(again2.data).toMatchObject({ branch: 'main', commit: 'abc123' })
    const local = await api.api.workspaces.post({ workspace_id: 'w-3', path: '/tmp/scratch' })
    expect(local.data?.project_id).not.toBe(ws1.data!.project_id)

    const detail = await api.api.workspaces({ id: 'w-1' }).get()
    expect(detail.data?.project).toMatchObject({
      key: 'https://github.com/ada/shop',
      repo_owner: 'ada',
      repo: 'shop',
      name: 'shop',
    })
    expect(detail.data?.machine?.hostname).toBe('ada-laptop')
    const projects = await api.api.projects.get()
    expect(projects.data?.total).toBe(2)
    expect(projects.data?.items.find((p) => p.id === ws1.data!.project_id)?.workspaces).toBe(2)
    const machine = await api.api.machines({ id: 'm-1' }).get()
    expect(machine.data?.workspaces.map((w) => w.id)).toEqual(['w-1'])
    // the lists page like every other: limit and offset, with the total
    const allMachines = (await api.api.machines.get()).data!
    const firstPage = (await api.api.machines.get({ query: { limit: 1 } })).data!
    const rest = (await api.api.machines.get({ query: { limit: 50, offset: 1 } })).data!
    expect([firstPage.total, firstPage.items.length, rest.items.length]).toEqual([
      allMachines.total,
      1,
      allMachines.total - 1,
    ])
    expect([...firstPage.items, ...rest.items].map((m) => m.id)).toEqual(allMachines.items.map((m) => m.id))
    const oneProject = (await api.api.projects.get({ query: { limit: 1, offset: 1 } })).data!
    expect([oneProject.total, oneProject.items.map((p) => p.id)]).toEqual([2, [projects.data!.items[1]!.id]])
    expect((await raw('/api/machines?limit=abc')).status).toBe(422)
    expect((await raw('/api/projects?limit=0')).status).toBe(422)

    const bad = await api.api.workspaces.post({
      workspace_id: 'w-4',
      path: '/x',
      git_remote: 'https://github.com/only-owner',
    })
    expect(bad.status).toBe(422)
    expect((bad.error as { value?: { error: string } } | null)?.value?.error).toContain('git_remote')

    // another account cannot take over a workspace id, nor see any of it; its machine ids are its own
    const bob = await user('bob')
    expect((await bob.api.api.workspaces.post({ workspace_id: 'w-1', path: '/evil' })).status).toBe(409)
    expect((await bob.api.api.machines({ id: 'm-1' }).get()).status).toBe(404)
    expect((await bob.api.api.workspaces({ id: 'w-1' }).get()).status).toBe(404)
    expect((await bob.api.api.projects.get()).data?.total).toBe(0)
    expect((await bob.api.api.machines.get()).data?.total).toBe(0)
    expect((await bob.api.api.machines.post({ machine_id: 'm-1', hostname: 'bobs-laptop' })).status).toBe(201)
    expect((await bob.api.api.machines({ id: 'm-1' }).get()).data).toMatchObject({
      hostname: 'bobs-laptop',
      workspaces: [],
    })
    expect((await api.api.machines({ id: 'm-1' }).get()).data).toMatchObject({
      hostname: 'ada-laptop',
      workspaces: [{ id: 'w-1' }],
    })
    expect((await bob.api.api.machines.get()).data?.total).toBe(1)
    expect((await bob.api.api.projects({ id: ws1.data!.project_id }).hierarchy.get()).status).toBe(404)
    expect((await api.api.workspaces({ id: 'w-1' }).get()).data?.path).toBe('/src/shop')
  })

  it('returns machines → workspaces → sessions with event counts', async () => {
    const ctx = await makeApp()
    const { api, raw, user } = ctx
    const w = (
      await api.api.workspaces.post({
        workspace_id: 'w-1',
        machine_id: 'm-1',
        path: '/src/shop',
        git_remote: 'git@github.com:ada/shop.git',
      })
    ).data!
    await api.api.workspaces.post({
      workspace_id: 'w-2',
      machine_id: 'm-2',
      path: '/src/shop',
      git_remote: 'git@github.com:ada/shop.git',
    })
    expect((await api.api.sessions.post({ session_id: 's-1', workspace_id: 'w-1' })).status).toBe(201)
    expect((await api.api.sessions.post({ session_id: 's-1', workspace_id: 'w-1' })).status).toBe(200)
    await api.api.sessions.post({ session_id: 's-2', workspace_id: 'w-2', title: 'second' })
    const batch = await api.api.events.post({
      events: [
        { event_id: 'e1', type: 'build', session_id: 's-1', workspace_id: 'w-1' },
        { event_id: 'e2', type: 'build', session_id: 's-1', workspace_id: 'w-1' },
        { event_id: 'e3', type: 'test', session_id: 's-2', workspace_id: 'w-2' },
      ],
    })
    expect(batch.data?.created).toBe(3)
    const h = (await api.api.projects({ id: w.project_id }).hierarchy.get()).data!
    expect(h.project.key).toBe('https://github.com/ada/shop')
    const tree = h.machines.map((m) => ({
      machine: m.machine?.id,
      workspaces: m.workspaces.map((x) => ({ id: x.id, sessions: x.sessions.map((s) => [s.id, s.event_count]) })),
    }))
    expect(tree).toEqual([
      { machine: 'm-1', workspaces: [{ id: 'w-1', sessions: [['s-1', 2]] }] },
      { machine: 'm-2', workspaces: [{ id: 'w-2', sessions: [['s-2', 1]] }] },
    ])
    const events = await api.api.projects({ id: w.project_id }).events.get({ query: { type: 'build' } })
    expect(events.data?.items.map((e) => e.event_id)).toEqual(['e1', 'e2'])
    const onM2 = await api.api.projects({ id: w.project_id }).events.get({ query: { machine_id: 'm-2' } })
    expect(onM2.data?.items.map((e) => e.event_id)).toEqual(['e3'])
    expect((await api.api.sessions({ id: 's-2' }).events.get({ query: {} })).data?.total).toBe(1)
    expect((await api.api.sessions.post({ session_id: 's-3', workspace_id: 'nope' })).status).toBe(404)
    // another account posting to the same session id adds nothing to this account's counts
    const bob = await user('bob')
    const foreign = await bob.api.api.events.post({ events: [{ event_id: 'b1', type: 'build', session_id: 's-1' }] })
    expect(foreign.data?.created).toBe(1)
    const again = (await api.api.projects({ id: w.project_id }).hierarchy.get()).data!
    const s1 = again.machines.flatMap((m) => m.workspaces.flatMap((x) => x.sessions)).find((s) => s.id === 's-1')
    expect(s1?.event_count).toBe(2)
    expect((await api.api.sessions({ id: 's-1' }).events.get({ query: {} })).data?.total).toBe(2)
    const { admin } = ctx
    expect((await admin.api.api.sessions({ id: 's-1' }).events.get({ query: {} })).data?.total).toBe(2) // an admin too

    // a workspace lists its latest sessions and counts them all; the conversation list pages through the rest
    for (const id of ['s-4', 's-5']) {
      await Bun.sleep(2) // distinct start times
      expect((await api.api.sessions.post({ session_id: id, workspace_id: 'w-1' })).status).toBe(201)
    }
    const latest = await api.api.projects({ id: w.project_id }).hierarchy.get({ query: { sessions_per_workspace: 1 } })
    const w1 = latest.data!.machines.flatMap((m) => m.workspaces).find((x) => x.id === 'w-1')!
    expect([w1.session_count, w1.sessions.map((s) => s.id)]).toEqual([3, ['s-5']])
    const all = await api.api.projects({ id: w.project_id }).hierarchy.get()
    const w1All = all.data!.machines.flatMap((m) => m.workspaces).find((x) => x.id === 'w-1')!
    expect(w1All.sessions.map((s) => s.id)).toEqual(['s-5', 's-4', 's-1'])
    const listed = await api.api.conversations.get({ query: { workspace_id: 'w-1', sort_by: 'created_at' } })
    expect([listed.data?.total, listed.data?.items.map((c) => c.id)]).toEqual([3, ['s-5', 's-4', 's-1']])
    const tooMany = await raw(`/api/projects/${w.project_id}/hierarchy?sessions_per_workspace=1001`)
    expect(tooMany.status).toBe(422)

    // events that came before their session count once it exists; a third one after it, and bob's to the same id never
    const early = ['early-1', 'early-2'].map((id) => ({ event_id: id, type: 'build', session_id: 's-6' }))
    expect((await api.api.events.post({ events: early })).data?.created).toBe(2)
    expect((await bob.api.api.events.post({ events: [{ event_id: 'b2', type: 'x', session_id: 's-6' }] })).status).toBe(
      200,
    )
    expect((await api.api.sessions.post({ session_id: 's-6', workspace_id: 'w-2' })).status).toBe(201)
    await api.api.events.post({ events: [{ event_id: 'late', type: 'test', session_id: 's-6' }] })
    const counts = (await api.api.projects({ id: w.project_id }).hierarchy.get()).data!.machines.flatMap((m) =>
      m.workspaces.flatMap((x) => x.sessions.map((s) => [s.id, s.event_count])),
    )
    expect(Object.fromEntries(counts)).toEqual({ 's-1': 2, 's-2': 1, 's-4': 0, 's-5': 0, 's-6': 3 })
  })
})

const hook = (name: string, extra: Record<string, unknown> = {}) => ({
  session_id: 'hook-session',
  transcript_path: '/home/ada/.claude/projects/-src-shop/hook-session.jsonl',
  cwd: '/src/shop',
  permission_mode: 'default',
  hook_event_name: name,
  ...extra,
})

describe('Claude Code hooks', () => {
  const payloads = [
    hook('SessionStart', { source: 'startup', model: 'claude-sonnet-4-5' }),
    hook('UserPromptSubmit', { prompt: 'fix the build' }),
    hook('PreToolUse', { tool_name: 'Bash', tool_input: { command: 'bun test' }, tool_use_id: 'toolu_H1' }),
    hook('PermissionRequest', {
      tool_name: 'Bash',
      tool_input: { command: 'rm -rf dist' },
      permission_suggestions: [],
    }),
    hook('PostToolUse', {
      tool_name: 'Bash',
      tool_input: { command: 'bun test' },
      tool_response: { stdout: 'ok' },
      tool_use_id: 'toolu_H1',
    }),
    hook('PreToolUse', { tool_name: 'Read', tool_input: { file_path: '/nope' }, tool_use_id: 'toolu_H2' }),
    hook('PostToolUseFailure', {
      tool_name: 'Read',
      tool_input: { file_path: '/nope' },
      tool_use_id: 'toolu_H2',
      error: 'ENOENT',
      is_interrupt: false,
    }),
    hook('Notification', { message: 'Claude needs your permission', notification_type: 'permission_prompt' }),
    hook('SubagentStart', { agent_id: 'a1', agent_type: 'Explore' }),
    hook('SubagentStop', { stop_hook_active: false, agent_id: 'a1', agent_transcript_path: '/x/agent-a1.jsonl' }),
    hook('PreCompact', { trigger: 'auto', custom_instructions: '' }),
    hook('Stop', { stop_hook_active: false }),
    hook('SessionEnd', { reason: 'exit' }),
    hook('BrandNewEvent', { surprise: { nested: [1, 2, 3] } }),
  ]

  it('takes every event type as sent, keeps unknown events and fields, and answers {}', async () => {
    const { app, alice, db } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    for (const p of payloads) {
      const r = await app.handle(
        new Request(
          'http://localhost/api/hooks/claude-code',
          json('POST', p, { 'x-api-key': key, 'x-observatory-machine-id': 'laptop-1' }),
        ),
      )
      expect({ event: p.hook_event_name, status: r.status, body: await r.json() }).toEqual({
        event: p.hook_event_name,
        status: 200,
        body: {},
      })
    }
    const api = alice.api
    const events = await api.api.sessions({ id: 'hook-session' }).events.get({ query: { limit: 100 } })
    expect(events.data?.items.map((e) => e.type)).toEqual(payloads.map((p) => p.hook_event_name))
    expect(events.data?.items.at(-1)?.payload).toEqual(payloads.at(-1)!)
    // the session, its workspace (from cwd) and machine were created
    const session = await api.api.conversations({ id: 'hook-session' }).get()
    expect(session.status).toBe(200)
    expect(events.data?.items.every((e) => e.machine_id === 'laptop-1' && e.workspace_id && e.project_id)).toBe(true)
    // tool calls live before any transcript: a finished one, and a failed one
    const calls = db.$client
      .query('SELECT id, name, result, is_error, duration_ms FROM tool_calls ORDER BY id')
      .all() as Record<string, unknown>[]
    expect(calls.map((c) => [c.id, c.name, c.is_error])).toEqual([
      ['toolu_H1', 'Bash', 0],
      ['toolu_H2', 'Read', 1],
    ])
    expect(calls[0]?.result).toBe('{"stdout":"ok"}')
    expect(calls[0]?.duration_ms).not.toBeNull()
    // the same payload again soon (a retry) is the same event; later (the next turn's Stop), a new one
    const stop = payloads.find((p) => p.hook_event_name === 'Stop')!
    const send = (p: Record<string, unknown>) =>
      app.handle(new Request('http://localhost/api/hooks/claude-code', json('POST', p, { 'x-api-key': key })))
    const sent = Date.now()
    try {
      setSystemTime(sent + 1_000)
      await send(payloads[0]!)
      await send(stop)
      expect(countRows(db, 'events')).toBe(payloads.length)
      setSystemTime(sent + 2 * HOOK_RETRY_MS + 1_000)
      await send(stop)
      setSystemTime(sent + 2 * HOOK_RETRY_MS + 2_000)
      await send(stop)
      // just past the window after the last one kept: a new turn's Stop
      setSystemTime(sent + 3 * HOOK_RETRY_MS + 1_500)
      await send(stop)
    } finally {
      setSystemTime()
    }
    expect(countRows(db, 'events')).toBe(payloads.length + 2)
    const stops = await api.api.sessions({ id: 'hook-session' }).events.get({ query: { type: 'Stop' } })
    expect(stops.data?.total).toBe(3)
  })

  it('keeps a session in one workspace when only some of its hooks name the machine, or when it was linked', async () => {
    const { app, alice } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    const send = (p: Record<string, unknown>, headers: Record<string, string> = {}) =>
      app.handle(
        new Request('http://localhost/api/hooks/claude-code', json('POST', p, { 'x-api-key': key, ...headers })),
      )
    // as a settings.json that sends the machine header on SessionStart only
    await send(hook('SessionStart', { source: 'startup' }), { 'x-observatory-machine-id': 'laptop-1' })
    await send(hook('UserPromptSubmit', { prompt: 'fix the build' }))
    await send(hook('Stop', { stop_hook_active: false }))
    const events = (await alice.api.api.sessions({ id: 'hook-session' }).events.get({ query: {} })).data!.items
    expect(events.map((e) => e.type)).toEqual(['SessionStart', 'UserPromptSubmit', 'Stop'])
    expect(new Set(events.map((e) => e.workspace_id)).size).toBe(1)
    expect(events.map((e) => e.machine_id)).toEqual(['laptop-1', 'laptop-1', 'laptop-1'])
    const project = events[0]!.project_id!
    const tree = (await alice.api.api.projects({ id: project }).hierarchy.get()).data!
    expect(tree.machines.map((m) => [m.machine?.id, m.workspaces.map((w) => w.session_count)])).toEqual([
      ['laptop-1', [1]],
    ])

    // a session linked to a workspace through the API stays there when its hooks arrive from the same path
    const linked = (
      await alice.api.api.workspaces.post({
        workspace_id: 'w-shop',
        path: '/src/shop',
        git_remote: 'git@github.com:ada/shop.git',
      })
    ).data!
    expect((await alice.api.api.sessions.post({ session_id: 'linked-session', workspace_id: 'w-shop' })).status).toBe(
      201,
    )
    await send(hook('UserPromptSubmit', { session_id: 'linked-session', prompt: 'hello' }))
    const listed = await alice.api.api.conversations.get({ query: { workspace_id: 'w-shop' } })
    expect(listed.data?.items.map((c) => c.id)).toEqual(['linked-session'])
    const linkedEvents = (await alice.api.api.sessions({ id: 'linked-session' }).events.get({ query: {} })).data!
    expect(linkedEvents.items.map((e) => [e.workspace_id, e.project_id])).toEqual([['w-shop', linked.project_id]])
  })

  it('gives two accounts whose laptops share a hostname a machine each', async () => {
    const { app, alice, user, admin } = await makeApp()
    const bob = await user('bob')
    const send = async (who: typeof alice, p: Record<string, unknown>) => {
      const key = (await who.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
      const headers = { 'x-api-key': key, 'x-observatory-machine-id': 'MacBook-Pro' }
      return app.handle(new Request('http://localhost/api/hooks/claude-code', json('POST', p, headers)))
    }
    expect((await send(bob, hook('SessionStart', { session_id: 'bobs-session' }))).status).toBe(200)
    expect((await send(alice, hook('SessionStart', { session_id: 'alices-session' }))).status).toBe(200)
    expect((await send(alice, hook('Stop', { session_id: 'alices-session' }))).status).toBe(200)
    for (const [who, session] of [
      [alice, 'alices-session'],
      [bob, 'bobs-session'],
    ] as const) {
      const events = await who.api.api.sessions({ id: session }).events.get({ query: {} })
      expect(new Set(events.data?.items.map((e) => e.machine_id))).toEqual(new Set(['MacBook-Pro']))
      const tree = (await who.api.api.projects({ id: events.data!.items[0]!.project_id! }).hierarchy.get()).data!
      expect(
        tree.machines.map((m) => [m.machine?.id, m.workspaces.flatMap((w) => w.sessions.map((x) => x.id))]),
      ).toEqual([['MacBook-Pro', [session]]])
      const machine = (await who.api.api.machines({ id: 'MacBook-Pro' }).get()).data
      expect(machine?.workspaces.map((w) => w.id)).toEqual([tree.machines[0]?.workspaces[0]?.id ?? ''])
    }
    // an admin asking for the id gets their own first, else the one seen last (alice's, by her Stop); the list has both
    expect((await admin.api.api.machines({ id: 'MacBook-Pro' }).get()).data?.owner_id).toBe(alice.id)
    const listed = (await admin.api.api.machines.get()).data?.items.map((m) => [m.id, m.owner_id])
    expect(listed).toEqual([
      ['MacBook-Pro', alice.id],
      ['MacBook-Pro', bob.id],
    ])
  })

  it('keeps a hook tool call and the same call from the transcript as one tool call', async () => {
    const { alice, db, app } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    const session = '55604662-cf2a-4331-851a-ec234028f8ca'
    const transcript = join(FIXTURES, 'spotter', 'short.jsonl')
    const toolUse = (await Bun.file(transcript).text()).match(/"type":"tool_use","id":"(toolu_\w+)","name":"(\w+)"/)!
    for (const name of ['PreToolUse', 'PostToolUse'])
      await app.handle(
        new Request(
          'http://localhost/api/hooks/claude-code',
          json(
            'POST',
            {
              ...hook(name),
              session_id: session,
              tool_name: toolUse[2],
              tool_use_id: toolUse[1],
              tool_input: {},
              tool_response: 'done',
            },
            { 'x-api-key': key },
          ),
        ),
      )
    const before = countRows(db, 'tool_calls')
    const posted = await alice.api.api.files.post({
      file: new File([await Bun.file(transcript).bytes()], basename(transcript)),
    })
    for (
      let i = 0;
      i < 300 && (await alice.api.api.files({ id: posted.data!.id }).get()).data?.status !== 'completed';
      i++
    )
      await Bun.sleep(10)
    const rows = db.$client.query('SELECT count(*) AS n FROM tool_calls WHERE id = ?').get(toolUse[1]!) as { n: number }
    expect(rows.n).toBe(1)
    const distinct = new Set(
      [...(await Bun.file(transcript).text()).matchAll(/"type":"tool_use","id":"(toolu_\w+)"/g)].map((m) => m[1]),
    )
    expect(countRows(db, 'tool_calls')).toBe(distinct.size)
    expect(before).toBe(1)
  })

  it('refuses a hook without a credential or without session_id, and never answers a well-formed one with an error', async () => {
    const { app, alice } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    expect(
      (await app.handle(new Request('http://localhost/api/hooks/claude-code', json('POST', hook('Stop'))))).status,
    ).toBe(401)
    const missing = await app.handle(
      new Request(
        'http://localhost/api/hooks/claude-code',
        json('POST', { hook_event_name: 'Stop' }, { 'x-api-key': key }),
      ),
    )
    expect(missing.status).toBe(422)
    // odd but well-formed: no cwd, a control character in an unknown field
    const odd = await app.handle(
      new Request(
        'http://localhost/api/hooks/claude-code',
        json('POST', { ...hook('Stop'), cwd: undefined, weird: '\u0000' }, { 'x-api-key': key }),
      ),
    )
    expect(odd.status).toBe(200)

    // a machine header is an id as POST /api/machines takes it (an empty one, from an unset variable, names none)
    let turn = 0
    const withMachine = (headers: Record<string, string>) =>
      app.handle(
        new Request(
          'http://localhost/api/hooks/claude-code',
          json('POST', hook('UserPromptSubmit', { session_id: 'machine-headers', prompt: `turn ${++turn}` }), {
            'x-api-key': key,
            ...headers,
          }),
        ),
      )
    const refused: Record<string, string>[] = [
      { 'x-observatory-machine-id': 'my laptop/../x' },
      { 'x-observatory-machine-id': 'm'.repeat(129) },
      { 'x-observatory-machine-id': 'ok', 'x-observatory-hostname': 'h'.repeat(256) },
    ]
    for (const headers of refused) {
      const r = await withMachine(headers)
      expect({ headers, status: r.status }).toEqual({ headers, status: 422 })
      expect((await errorOf(r)).error).toContain('headers x-observatory-')
    }
    expect((await alice.api.api.sessions({ id: 'machine-headers' }).events.get({ query: {} })).status).toBe(404)
    expect((await withMachine({ 'x-observatory-machine-id': '' })).status).toBe(200)
    expect((await withMachine({ 'x-observatory-machine-id': 'ada-laptop.local' })).status).toBe(200)
    const placed = (await alice.api.api.sessions({ id: 'machine-headers' }).events.get({ query: {} })).data!.items
    expect(placed.map((e) => e.machine_id)).toEqual([null, 'ada-laptop.local'])
  })
  it('follows a workspace into the project its remote names, and never makes anything for another account', async () => {
    const { app, alice, user } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    const send = (p: Record<string, unknown>, k = key) =>
      app.handle(
        new Request(
          'http://localhost/api/hooks/claude-code',
          json('POST', p, { 'x-api-key': k, 'x-observatory-machine-id': 'laptop-1' }),
        ),
      )
    await send(hook('SessionStart', { source: 'startup' }))
    const first = (await alice.api.api.sessions({ id: 'hook-session' }).events.get({ query: {} })).data!.items[0]!
    const workspaceId = first.workspace_id!
    // the client tells the workspace's remote: the workspace moves to that repository's project
    const moved = (
      await alice.api.api.workspaces.post({
        workspace_id: workspaceId,
        path: '/src/shop',
        git_remote: 'git@github.com:ada/shop.git',
      })
    ).data!
    expect(moved.project_id).not.toBe(first.project_id)
    // the next hooks land there, and do not take the workspace back to the folder's project
    await send(hook('UserPromptSubmit', { prompt: 'and now?' }))
    await send(hook('Stop', { stop_hook_active: false }))
    const after = (await alice.api.api.sessions({ id: 'hook-session' }).events.get({ query: {} })).data!.items
    expect(after.map((e) => [e.type, e.workspace_id, e.project_id])).toEqual([
      ['SessionStart', workspaceId, first.project_id],
      ['UserPromptSubmit', workspaceId, moved.project_id],
      ['Stop', workspaceId, moved.project_id],
    ])
    expect((await alice.api.api.workspaces({ id: workspaceId }).get()).data?.project.key).toBe(
      'https://github.com/ada/shop',
    )
    const listed = await alice.api.api.projects({ id: moved.project_id }).events.get({ query: {} })
    expect(listed.data?.total).toBe(2)

    // another account's hook on alice's session is kept, unlinked, and makes bob no machine, project or workspace
    const bob = await user('bob')
    const bobKey = (await bob.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    expect((await send(hook('Stop', { cwd: '/home/bob/app' }), bobKey)).status).toBe(200)
    const theirs = (await bob.api.api.sessions({ id: 'hook-session' }).events.get({ query: {} })).data!
    expect(theirs.items.map((e) => [e.type, e.workspace_id, e.project_id])).toEqual([['Stop', null, null]])
    expect((await bob.api.api.projects.get({ query: {} })).data?.total).toBe(0)
    expect((await bob.api.api.machines.get({ query: {} })).data?.total).toBe(0)
  })
})

describe('batch events', () => {
  it('reports created, duplicate and error per item, and a re-sent batch creates nothing', async () => {
    const { api, db } = await makeApp()
    const events = [
      { event_id: 'b1', type: 'deploy', payload: { env: 'prod' } },
      { event_id: 'b2', type: 'deploy', timestamp: '2026-01-01T00:00:00.000Z' },
      { type: 'no id' },
      { event_id: 'b3', type: 'x', timestamp: 'yesterday' },
      'not an object',
    ]
    const first = await api.api.events.post({ events })
    expect(first.data).toMatchObject({ created: 2, duplicates: 0, errors: 3 })
    expect(first.data?.results.map((r) => [r.index, r.status])).toEqual([
      [0, 'created'],
      [1, 'created'],
      [2, 'error'],
      [3, 'error'],
      [4, 'error'],
    ])
    expect(first.data?.results[2]?.reason).toContain('event_id')
    expect(first.data?.results[3]?.reason).toContain('timestamp')
    const again = await api.api.events.post({ events })
    expect(again.data).toMatchObject({ created: 0, duplicates: 2, errors: 3 })
    expect(countRows(db, 'events')).toBe(2)
  })

  it('refuses times that are not real ones, in events and in the filters of event lists and search', async () => {
    const { api, raw } = await makeApp()
    const times = ['2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2026-01-01T00:00:00', '2026-01-01T24:30:00Z']
    const batch = await api.api.events.post({
      events: times.map((timestamp, i) => ({ event_id: `t${i}`, type: 'x', timestamp })),
    })
    expect(batch.data?.results.map((r) => [r.status, r.reason])).toEqual(
      times.map(() => [
        'error',
        '/timestamp: must be an ISO-8601 date-time with its offset (Z or ±hh:mm), a real one from 1970 on',
      ]),
    )
    const w = (await api.api.workspaces.post({ workspace_id: 'w-t', path: '/src/t' })).data!
    for (const path of [
      `/api/projects/${w.project_id}/events?from=2026-02-30T00:00:00Z`,
      '/api/sessions/s/events?to=1969-12-31T23:59:59Z',
      '/api/search?q=x&from=2026-02-29T00:00:00Z',
      '/api/conversations?date_from=2026-04-31T00:00:00Z',
    ]) {
      const r = await raw(path)
      expect({ path, status: r.status }).toEqual({ path, status: 422 })
      expect((await errorOf(r)).error).toContain('a real one from 1970 on')
    }
    expect((await raw(`/api/projects/${w.project_id}/events?from=2028-02-29T23:59:59.999%2B14:00`)).status).toBe(200)
    // an empty type filter is a mistake, not a filter that matches nothing
    expect((await raw(`/api/projects/${w.project_id}/events?type=`)).status).toBe(422)
  })

  it('refuses more than 1,000 events with 413 and stores none', async () => {
    const { raw, db } = await makeApp()
    const events = Array.from({ length: 1001 }, (_, i) => ({ event_id: `e${i}`, type: 't' }))
    const r = await raw('/api/events', json('POST', { events }))
    expect(r.status).toBe(413)
    expect((await errorOf(r)).code).toBe('PAYLOAD_TOO_LARGE')
    expect(countRows(db, 'events')).toBe(0)
    const ok = await raw('/api/events', json('POST', { events: events.slice(0, 1000) }))
    expect(((await ok.json()) as { created: number }).created).toBe(1000)
  })

  it("keeps one user's events from another", async () => {
    const { api, user } = await makeApp()
    await api.api.events.post({ events: [{ event_id: 'mine', type: 't', session_id: 's-x' }] })
    const bob = await user('bob')
    const theirs = await bob.api.api.events.post({ events: [{ event_id: 'mine', type: 't' }] })
    expect(theirs.data?.created).toBe(1) // event ids are per account
    expect((await bob.api.api.sessions({ id: 's-x' }).events.get({ query: {} })).status).toBe(404)
  })

  it('places an event that names only its session where the session ran, and lists a session known only by events', async () => {
    const { api } = await makeApp()
    const w = (await api.api.workspaces.post({ workspace_id: 'w-ci', path: '/src/ci' })).data!
    await api.api.sessions.post({ session_id: 's-placed', workspace_id: 'w-ci' })
    const batch = await api.api.events.post({
      events: [
        { event_id: 'placed', type: 'ci.build', session_id: 's-placed' },
        { event_id: 'loose', type: 'ci.build', session_id: 'ci-1' },
        { event_id: 'loose-2', type: 'ci.test', session_id: 'ci-1' },
      ],
    })
    expect(batch.data?.created).toBe(3)
    const inProject = await api.api.projects({ id: w.project_id }).events.get({ query: { type: 'ci.build' } })
    expect(inProject.data?.items.map((e) => [e.event_id, e.workspace_id])).toEqual([['placed', 'w-ci']])
    // no conversation is named ci-1: its events are still the caller's to read
    const loose = await api.api.sessions({ id: 'ci-1' }).events.get({ query: {} })
    expect(loose.data?.items.map((e) => [e.event_id, e.project_id])).toEqual([
      ['loose', null],
      ['loose-2', null],
    ])
    expect((await api.api.sessions({ id: 'ci-1' }).events.get({ query: { type: 'none' } })).data?.total).toBe(0)
    expect((await api.api.sessions({ id: 'ci-2' }).events.get({ query: {} })).status).toBe(404)
  })
})

describe('imported sessions', () => {
  it('join the hierarchy: the folder they ran in, on the machine the upload names, in that folder’s project', async () => {
    const { alice, db } = await makeApp()
    const spotter = (name: string) => join(FIXTURES, 'spotter', name)
    // (a variable: Eden types the upload's optional headers as a whole that may be undefined)
    const upload = async (path: string, headers: Record<string, string> = {}) => {
      const posted = await alice.api.api.files.post(
        { file: new File([await Bun.file(path).bytes()], basename(path)) },
        { headers },
      )
      for (let i = 0; i < 300; i++) {
        const f = (await alice.api.api.files({ id: posted.data!.id }).get()).data
        if (f?.status === 'completed') return f
        await Bun.sleep(10)
      }
      throw new Error('import did not finish')
    }
    // the folder and sessions, as the lines say
    const cwdOf = async (path: string) => new Set((await Bun.file(path).text()).match(/"cwd":"[^"]*"/g))
    expect(await cwdOf(spotter('short.jsonl'))).toEqual(new Set(['"cwd":"/home/marco/projects/spotter"']))
    expect(await cwdOf(spotter('tool_heavy.jsonl'))).toEqual(new Set(['"cwd":"/home/marco/projects/spotter"']))
    await upload(spotter('short.jsonl'), {
      'x-observatory-machine-id': 'marcos-laptop',
      'x-observatory-hostname': 'mbp',
    })
    await upload(spotter('tool_heavy.jsonl')) // no machine named
    const projects = (await alice.api.api.projects.get()).data!
    expect(projects.items.map((p) => [p.key, p.workspaces, p.sessions])).toEqual([
      ['path:/home/marco/projects/spotter', 2, 2],
    ])
    const tree = (await alice.api.api.projects({ id: projects.items[0]!.id }).hierarchy.get()).data!.machines.map(
      (m) => ({
        machine: m.machine && [m.machine.id, m.machine.hostname],
        workspaces: m.workspaces.map((w) => ({
          path: w.path,
          sessions: w.sessions.map((x) => [x.id, x.message_count]),
        })),
      }),
    )
    const messages = (id: string) =>
      (db.$client.query('SELECT count(*) AS n FROM messages WHERE conversation_id = ?').get(id) as { n: number }).n
    const [short, heavy] = ['55604662-cf2a-4331-851a-ec234028f8ca', 'd6e0bada-1959-4eec-a9d2-0bfade768d8f']
    expect(tree).toEqual([
      { machine: null, workspaces: [{ path: '/home/marco/projects/spotter', sessions: [[heavy, messages(heavy)]] }] },
      {
        machine: ['marcos-laptop', 'mbp'],
        workspaces: [{ path: '/home/marco/projects/spotter', sessions: [[short, messages(short)]] }],
      },
    ])
    expect(messages(short)).toBeGreaterThan(0)
  })

  it('stay where hooks placed them', async () => {
    const { app, alice } = await makeApp()
    const key = (await alice.api.api.auth['api-keys'].post({ name: 'hooks' })).data!.key
    const session = '55604662-cf2a-4331-851a-ec234028f8ca'
    await app.handle(
      new Request(
        'http://localhost/api/hooks/claude-code',
        json(
          'POST',
          { ...hook('SessionStart', { source: 'startup' }), session_id: session },
          {
            'x-api-key': key,
            'x-observatory-machine-id': 'laptop-1',
          },
        ),
      ),
    )
    const path = join(FIXTURES, 'spotter', 'short.jsonl')
    const headers: Record<string, string> = { 'x-observatory-machine-id': 'another-machine' }
    const posted = await alice.api.api.files.post(
      { file: new File([await Bun.file(path).bytes()], basename(path)) },
      { headers },
    )
    for (
      let i = 0;
      i < 300 && (await alice.api.api.files({ id: posted.data!.id }).get()).data?.status !== 'completed';
      i++
    )
      await Bun.sleep(10)
    const projects = (await alice.api.api.projects.get()).data!.items
    expect(projects.map((p) => [p.key, p.sessions])).toEqual([['path:/src/shop', 1]])
    const machines = (await alice.api.api.machines.get()).data!.items.map((m) => m.id)
    expect(machines).toEqual(['laptop-1'])
  })
})

describe('session upserts', () => {
  it('write only what changes: a repeated upsert leaves the row as it was and writes nothing', async () => {
    const { db, api } = await makeApp()
    const changes = () => (db.$client.query('SELECT total_changes() AS n').get() as { n: number }).n
    await api.api.workspaces.post({ workspace_id: 'w-up', machine_id: 'm-up', path: '/src/up' })
    const first = await api.api.sessions.post({ session_id: 's-up', workspace_id: 'w-up', git_branch: 'main' })
    expect(first.status).toBe(201)
    const before = changes()
    const again = await api.api.sessions.post({ session_id: 's-up', workspace_id: 'w-up', git_branch: 'main' })
    expect([again.status, again.data]).toEqual([200, first.data!])
    expect(changes()).toBe(before)
    const renamed = await api.api.sessions.post({ session_id: 's-up', title: 'named' })
    expect([renamed.data?.title, changes()]).toEqual(['named', before + 1])
  })
})
