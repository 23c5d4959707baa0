import { describe, expect, it } from 'bun:test'
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose'
import { bearer, countRows, errorOf, json, makeApp, PASSWORD, raw } from './helpers'

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')

describe('registration', () => {
  it('makes the first user admin, then closes registration unless ALLOW_SIGNUP', async () => {
    const { anon, db } = await makeApp()
    expect(countRows(db, 'users')).toBe(2) // admin registered, alice created by the admin
    const r = await anon.api.auth.register.post({ email: 'eve@example.com', password: PASSWORD, display_name: 'Eve' })
    expect(r.status).toBe(403)
    if (r.error?.status === 403) expect(r.error.value.code).toBe('REGISTRATION_CLOSED')
    expect(countRows(db, 'users')).toBe(2)

    const open = await makeApp({ ALLOW_SIGNUP: 'true' })
    const ok = await open.anon.api.auth.register.post({
      email: 'Eve@Example.com',
      password: PASSWORD,
      display_name: 'Eve',
    })
    expect(ok.status).toBe(201)
    expect(ok.data).toMatchObject({ email: 'eve@example.com', role: 'member', disabled: false })
    const again = await open.anon.api.auth.register.post({
      email: 'eve@example.com',
      password: PASSWORD,
      display_name: 'Eve',
    })
    expect(again.status).toBe(409)
  })

  it('rejects short, missing and huge passwords with 422, never echoing them', async () => {
    const { db, app } = await makeApp({ ALLOW_SIGNUP: 'true' })
    for (const password of ['short', 'x'.repeat(257), 'p'.repeat(1024 * 1024)]) {
      const r = await raw(
        app,
        '/api/auth/register',
        json('POST', { email: 'z@example.com', password, display_name: 'Z' }),
      )
      expect(r.status).toBe(422)
      const text = await r.text()
      expect(text).toContain('password')
      expect(text).not.toContain(password)
    }
    expect(countRows(db, 'users')).toBe(2)
  })

  it('does not let anyone choose their role or owner through a body', async () => {
    const { app, raw: asAlice, db } = await makeApp({ ALLOW_SIGNUP: 'true' })
    const withRole = await raw(
      app,
      '/api/auth/register',
      json('POST', { email: 'm@example.com', password: PASSWORD, display_name: 'M', role: 'admin' }),
    )
    expect(withRole.status).toBe(422)
    const withOwner = await asAlice('/api/conversations', json('POST', { title: 't', owner_id: 'someone' }))
    expect(withOwner.status).toBe(422)
    expect(countRows(db, 'users')).toBe(2)
    expect(countRows(db, 'conversations')).toBe(0)
  })
})

describe('login and tokens', () => {
  it('issues a 15-minute HS256 access token with pinned claims and a refresh token', async () => {
    const { anon, alice } = await makeApp()
    const r = await anon.api.auth.login.post({ email: 'ALICE@example.com', password: PASSWORD })
    expect(r.status).toBe(200)
    const tokens = r.data!
    expect(tokens.token_type).toBe('Bearer')
    expect(tokens.expires_in).toBe(900)
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('HS256')
    const claims = decodeJwt(tokens.access_token)
    expect(claims).toMatchObject({ iss: 'observatory', aud: 'observatory-api', sub: alice.id, typ: 'access' })
    expect(claims.exp! - claims.iat!).toBe(900)
    expect(tokens.refresh_token).toStartWith('ort_')
    expect(Buffer.from(tokens.refresh_token.slice(4), 'base64url').length).toBeGreaterThanOrEqual(16)
  })

  it('gives an unknown email and a wrong password the same 401', async () => {
    const { app } = await makeApp()
    const wrong = await raw(
      app,
      '/api/auth/login',
      json('POST', { email: 'alice@example.com', password: 'not it at all' }),
    )
    const unknown = await raw(
      app,
      '/api/auth/login',
      json('POST', { email: 'nobody@example.com', password: 'not it at all' }),
    )
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    const [a, b] = [await errorOf(wrong), await errorOf(unknown)]
    expect(a.code).toBe(b.code)
    expect(a.error).toBe(b.error)
  })

  it('refuses every broken access token with the same 401', async () => {
    const { app, config, alice, db } = await makeApp()
    const key = new TextEncoder().encode(config.jwtSecret)
    const now = Math.floor(Date.now() / 1000)
    const good = { typ: 'access', sub: alice.id, iss: 'observatory', aud: 'observatory-api', iat: now, exp: now + 600 }
    const sign = (claims: object, alg = 'HS256', secret = key) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg }).sign(secret)
    const { exp: _exp, ...noExp } = good
    const cases: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(good)}.`,
      'other algorithm': await sign(good, 'HS512'),
      'bad signature': await sign(good, 'HS256', new TextEncoder().encode('x'.repeat(40))),
      'no exp': await sign(noExp),
      expired: await sign({ ...good, iat: now - 3600, exp: now - 60 }),
      'wrong iss': await sign({ ...good, iss: 'someone-else' }),
      'wrong aud': await sign({ ...good, aud: 'another-api' }),
      'no type claim': await sign({ ...good, typ: undefined }),
      'refresh token as access token': alice.refreshToken,
      garbage: 'not.a.jwt',
    }
    const before = countRows(db, 'conversations')
    for (const [name, token] of Object.entries(cases)) {
      const r = await raw(app, '/api/conversations', json('POST', { title: name }, bearer(token)))
      expect({ name, status: r.status }).toEqual({ name, status: 401 })
      expect((await errorOf(r)).code).toBe('UNAUTHORIZED')
    }
    expect(countRows(db, 'conversations')).toBe(before)
    // the control: the same claims, correctly signed, are accepted
    const control = await raw(app, '/api/conversations', json('POST', { title: 'ok' }, bearer(await sign(good))))
    expect(control.status).toBe(201)
  })

  it('needs a credential on every /api route except the auth entry points, never from the query string', async () => {
    const { app, alice } = await makeApp()
    for (const path of ['/api/conversations', '/api/auth/me', '/api/users', '/api/auth/api-keys']) {
      const r = await raw(app, path)
      expect({ path, status: r.status }).toEqual({ path, status: 401 })
    }
    expect((await raw(app, `/api/conversations?access_token=${alice.token}`)).status).toBe(401)
    expect((await raw(app, '/api/conversations', { headers: { authorization: `Token ${alice.token}` } })).status).toBe(
      401,
    )
  })

  it('rotates refresh tokens, and a reused one revokes its whole family', async () => {
    const { anon } = await makeApp()
    const first = (await anon.api.auth.login.post({ email: 'alice@example.com', password: PASSWORD })).data!
    const second = await anon.api.auth.refresh.post({ refresh_token: first.refresh_token })
    expect(second.status).toBe(200)
    expect(second.data!.refresh_token).not.toBe(first.refresh_token)
    const third = await anon.api.auth.refresh.post({ refresh_token: second.data!.refresh_token })
    expect(third.status).toBe(200)
    // the first token again: theft detected, the family (including the live third token) dies
    const replay = await anon.api.auth.refresh.post({ refresh_token: first.refresh_token })
    expect(replay.status).toBe(401)
    expect((await anon.api.auth.refresh.post({ refresh_token: third.data!.refresh_token })).status).toBe(401)
    // another login is another family, unaffected
    const other = (await anon.api.auth.login.post({ email: 'alice@example.com', password: PASSWORD })).data!
    expect((await anon.api.auth.refresh.post({ refresh_token: other.refresh_token })).status).toBe(200)
    expect((await anon.api.auth.refresh.post({ refresh_token: 'ort_made-up' })).status).toBe(401)
  })

  it('logs out by revoking the refresh token family', async () => {
    const { anon } = await makeApp()
    const tokens = (await anon.api.auth.login.post({ email: 'alice@example.com', password: PASSWORD })).data!
    expect((await anon.api.auth.logout.post({ refresh_token: tokens.refresh_token })).status).toBe(204)
    expect((await anon.api.auth.refresh.post({ refresh_token: tokens.refresh_token })).status).toBe(401)
  })

  it('loads the user on every request: deleted, disabled and downgraded users lose access at once', async () => {
    const { admin, user } = await makeApp()
    const bob = await user('bob')
    const carol = await user('carol')
    const dave = await user('dave')
    expect((await bob.api.api.auth.me.get()).data?.email).toBe('bob@example.com')

    expect((await admin.api.api.users({ id: bob.id }).delete()).status).toBe(204)
    expect((await bob.api.api.auth.me.get()).status).toBe(401)
    expect((await bob.api.api.auth.refresh.post({ refresh_token: bob.refreshToken })).status).toBe(401)

    expect((await admin.api.api.users({ id: carol.id }).patch({ disabled: true })).data?.disabled).toBe(true)
    expect((await carol.api.api.auth.me.get()).status).toBe(401)

    expect((await dave.api.api.conversations.post({ title: 'before' })).status).toBe(201)
    await admin.api.api.users({ id: dave.id }).patch({ role: 'viewer' })
    const after = await dave.api.api.conversations.post({ title: 'after' })
    expect(after.status).toBe(403)
    expect((await dave.api.api.auth.me.get()).data?.role).toBe('viewer')
  })
})

describe('API keys', () => {
  it('shows a key once, stores only its hash, and accepts it as Bearer or X-API-Key', async () => {
    const { api, app, db, alice } = await makeApp()
    const created = await api.api.auth['api-keys'].post({ name: 'laptop' })
    expect(created.status).toBe(201)
    const key = created.data!.key
    expect(key).toMatch(/^obs_[A-Za-z0-9_-]{43}$/) // 256 bits
    expect(key.startsWith(created.data!.prefix)).toBe(true)
    const stored = db.$client.query('SELECT * FROM api_keys').all() as Record<string, unknown>[]
    expect(JSON.stringify(stored)).not.toContain(key)
    const list = await api.api.auth['api-keys'].get()
    expect(list.data?.total).toBe(1)
    expect(JSON.stringify(list.data)).not.toContain(key)
    expect(list.data?.items[0]?.last_used_at).toBeNull()

    for (const headers of [{ 'x-api-key': key }, bearer(key)]) {
      const me = await raw(app, '/api/auth/me', { headers })
      expect(me.status).toBe(200)
      expect(((await me.json()) as { id: string }).id).toBe(alice.id)
    }
    expect((await raw(app, `/api/auth/me?api_key=${key}`)).status).toBe(401)
    expect((await api.api.auth['api-keys'].get()).data?.items[0]?.last_used_at).not.toBeNull()
  })

  it('gives unknown, revoked and malformed keys the same 401', async () => {
    const { api, app } = await makeApp()
    const key = (await api.api.auth['api-keys'].post({ name: 'doomed' })).data!
    expect((await api.api.auth['api-keys']({ id: key.id }).delete()).status).toBe(204)
    const bodies = []
    for (const k of [key.key, `obs_${'A'.repeat(43)}`, 'obs_', 'nonsense', `${key.key}x`]) {
      const r = await raw(app, '/api/auth/me', { headers: { 'x-api-key': k } })
      expect(r.status).toBe(401)
      const { code, error } = await errorOf(r)
      bodies.push({ code, error })
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1)
    expect((await api.api.auth['api-keys']({ id: key.id }).delete()).status).toBe(404)
  })

  it("cannot revoke another user's key", async () => {
    const { api, user } = await makeApp()
    const key = (await api.api.auth['api-keys'].post({ name: 'mine' })).data!
    const bob = await user('bob')
    expect((await bob.api.api.auth['api-keys']({ id: key.id }).delete()).status).toBe(404)
    expect((await api.api.auth['api-keys'].get()).data?.items[0]?.revoked_at).toBeNull()
  })
})

describe('roles', () => {
  it('lets a viewer read its own data but refuses every write with 403, changing nothing', async () => {
    const { user, db } = await makeApp()
    const viewer = await user('vera', 'viewer')
    expect((await viewer.api.api.conversations.get({ query: {} })).status).toBe(200)
    const writes = [
      await viewer.api.api.conversations.post({ title: 'x' }),
      await viewer.api.api.conversations({ id: 'any' }).patch({ title: 'x' }),
      await viewer.api.api.conversations({ id: 'any' }).delete(),
      await viewer.api.api.conversations({ id: 'any' }).messages.post({ role: 'user', content: 'x' }),
    ]
    for (const r of writes) expect(r.status).toBe(403)
    expect(countRows(db, 'conversations')).toBe(0)
  })

  it('keeps user management to admins', async () => {
    const { api, admin, alice, db } = await makeApp()
    expect((await api.api.users.get({ query: {} })).status).toBe(403)
    expect((await api.api.users.post({ email: 'x@example.com', password: PASSWORD, display_name: 'X' })).status).toBe(
      403,
    )
    expect((await api.api.users({ id: alice.id }).patch({ role: 'admin' })).status).toBe(403)
    expect(countRows(db, 'users')).toBe(2)
    const list = await admin.api.api.users.get({ query: {} })
    expect(list.data?.total).toBe(2)
    expect(JSON.stringify(list.data)).not.toContain('argon2')
    // an admin cannot demote, disable or delete themselves
    expect((await admin.api.api.users({ id: admin.id }).patch({ role: 'member' })).status).toBe(403)
    expect((await admin.api.api.users({ id: admin.id }).patch({ disabled: true })).status).toBe(403)
    expect((await admin.api.api.users({ id: admin.id }).delete()).status).toBe(403)
    expect((await admin.api.api.users({ id: 'nobody' }).get()).status).toBe(404)
    expect((await admin.api.api.users({ id: admin.id }).get()).data?.role).toBe('admin')
  })
})

describe('ownership', () => {
  it("hides one user's conversations and messages from another (404 everywhere), but not from an admin", async () => {
    const { api, admin, alice, user, db } = await makeApp()
    const mine = (await api.api.conversations.post({ title: 'alice private' })).data!
    const msg = (await api.api.conversations({ id: mine.id }).messages.post({ role: 'user', content: 'secret' })).data!
    const bob = await user('bob')
    await bob.api.api.conversations.post({ title: 'bob own' })
    const c = bob.api.api.conversations({ id: mine.id })
    const attempts = [
      await c.get(),
      await c.patch({ title: 'stolen' }),
      await c.delete(),
      await c.messages.get({ query: {} }),
      await c.messages.post({ role: 'user', content: 'injected' }),
      await c.messages({ messageId: msg.id }).get(),
      await c.messages({ messageId: msg.id }).delete(),
    ]
    for (const r of attempts) {
      expect(r.status).toBe(404)
      expect((r.error?.value as { code: string }).code).toBe('NOT_FOUND')
    }
    const bobs = await bob.api.api.conversations.get({ query: {} })
    expect(bobs.data?.items.map((x) => x.title)).toEqual(['bob own'])
    expect(bobs.data?.total).toBe(1)
    expect((await api.api.conversations({ id: mine.id }).get()).data?.title).toBe('alice private')
    expect(countRows(db, 'messages')).toBe(1)

    const all = await admin.api.api.conversations.get({ query: {} })
    expect(all.data?.total).toBe(2)
    // an admin's message in alice's conversation still belongs to alice
    await admin.api.api.conversations({ id: mine.id }).messages.post({ role: 'system', content: 'note' })
    expect(db.$client.query('SELECT DISTINCT owner_id FROM messages').all()).toEqual([{ owner_id: alice.id }])
  })
})

describe('rate limits', () => {
  it('limits login attempts per identity and answers 429 with Retry-After', async () => {
    const { app, db } = await makeApp({ AUTH_RATE_LIMIT: '3', TRUST_PROXY: 'true' })
    const attempt = (ip: string) =>
      raw(
        app,
        '/api/auth/login',
        json('POST', { email: 'carol@example.com', password: 'wrong guess' }, { 'x-forwarded-for': ip }),
      )
    for (let i = 0; i < 3; i++) expect((await attempt(`10.0.0.${i}`)).status).toBe(401)
    const limited = await attempt('10.0.0.99') // a new address, the same identity
    expect(limited.status).toBe(429)
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    const body = await errorOf(limited)
    expect(body.code).toBe('RATE_LIMITED')
    expect(countRows(db, 'refresh_tokens')).toBe(2) // only the helper's two logins
  })

  it('limits per client address, ignoring X-Forwarded-For unless TRUST_PROXY', async () => {
    const { app } = await makeApp({ AUTH_RATE_LIMIT: '3' })
    const statuses = []
    for (let i = 0; i < 4; i++) {
      const r = await raw(
        app,
        '/api/auth/login',
        json(
          'POST',
          { email: `nobody${i}@example.com`, password: 'wrong guess' },
          { 'x-forwarded-for': `10.0.0.${i}` },
        ),
      )
      statuses.push(r.status)
    }
    // the helper's two logins already spent two of this address's three
    expect(statuses).toEqual([401, 429, 429, 429])
  })

  it('limits each credential on every route', async () => {
    const { api } = await makeApp({ RATE_LIMIT: '3' })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await api.api.conversations.get({ query: {} })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
  })
})

describe('CORS and security headers', () => {
  const origin = 'https://app.example.com'
  it('allows exactly the configured origins and answers preflight', async () => {
    const { app } = await makeApp({ CORS_ORIGINS: origin })
    const allowed = await raw(app, '/health', { headers: { origin } })
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin)
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull()
    for (const other of [
      'https://evil.example.org',
      'https://app.example.com.evil.org',
      'http://app.example.com',
      'null',
    ]) {
      const r = await raw(app, '/health', { headers: { origin: other } })
      expect({ other, acao: r.headers.get('access-control-allow-origin') }).toEqual({ other, acao: null })
    }
    const preflight = await raw(app, '/api/conversations', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    })
    expect(preflight.status).toBeLessThan(300)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
  })

  it('sends security headers on every response, HSTS when configured', async () => {
    const { app } = await makeApp({ HSTS_MAX_AGE: '31536000' })
    for (const path of ['/health', '/nope', '/swagger', '/api/conversations']) {
      const r = await raw(app, path)
      expect(r.headers.get('x-content-type-options')).toBe('nosniff')
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      expect(r.headers.get('referrer-policy')).toBe('no-referrer')
      expect(r.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
    }
    const plain = await makeApp()
    expect((await raw(plain.app, '/health')).headers.get('strict-transport-security')).toBeNull()
  })

  it('declares bearer and API-key security in the spec', async () => {
    const { app } = await makeApp()
    const spec = (await (await raw(app, '/swagger/json')).json()) as {
      components: { securitySchemes: Record<string, { type: string }> }
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>
    }
    expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(['apiKey', 'bearer'])
    const list = spec.paths['/api/conversations']?.get
    expect(list?.security).toEqual([{ bearer: [] }, { apiKey: [] }])
    expect(Object.keys(list?.responses ?? {})).toContain('401')
    expect(Object.keys(spec.paths['/api/conversations']?.post?.responses ?? {})).toContain('403')
  })
})
