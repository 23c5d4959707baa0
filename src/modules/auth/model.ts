import { t } from 'elysia'
import { Integer, Timestamp } from '../../lib/models'
import { Email } from '../users/model'

export const TokenPair = t.Object(
  {
    access_token: t.String({ description: 'JWT (HS256), sent as `Authorization: Bearer …`' }),
    refresh_token: t.String({ description: 'Opaque; exchange it at /api/auth/refresh before it expires (30 days)' }),
    token_type: t.Literal('Bearer'),
    expires_in: Integer({ description: 'Seconds until the access token expires' }),
  },
  {
    examples: [
      { access_token: 'eyJhbGciOiJIUzI1NiJ9…', refresh_token: 'ort_…', token_type: 'Bearer', expires_in: 900 },
    ],
  },
)

const apiKeyExample = {
  id: '0190f5c2-0000-7000-8000-00000000000a',
  name: 'laptop hooks',
  prefix: 'obs_4fQz9k2a',
  created_at: '2026-01-01T12:00:00.000Z',
  last_used_at: null,
  revoked_at: null,
}

export const ApiKey = t.Object(
  {
    id: t.String(),
    name: t.String(),
    prefix: t.String({ description: 'The first characters of the key, to recognise it' }),
    created_at: Timestamp,
    last_used_at: t.Union([Timestamp, t.Null()], {
      description: 'When the key was last used, to the minute: it moves at most once a minute',
    }),
    revoked_at: t.Union([Timestamp, t.Null()]),
  },
  { examples: [apiKeyExample] },
)

export const AuthModel = {
  'auth.Login': t.Object(
    { email: Email, password: t.String({ minLength: 1, maxLength: 256 }) },
    { additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'correct horse battery' }] },
  ),
  'auth.Refresh': t.Object(
    { refresh_token: t.String({ minLength: 1, maxLength: 200 }) },
    { additionalProperties: false },
  ),
  'auth.TokenPair': TokenPair,
  'auth.ApiKey': ApiKey,
  'auth.ApiKeyList': t.Object(
    { items: t.Array(ApiKey), total: Integer() },
    { examples: [{ items: [apiKeyExample], total: 1 }] },
  ),
  'auth.NewApiKey': t.Composite([ApiKey, t.Object({ key: t.String({ description: 'Shown once; store it now' }) })], {
    examples: [
      {
        id: '0190f5c2-0000-7000-8000-00000000000a',
        name: 'laptop hooks',
        prefix: 'obs_4fQz9k',
        created_at: '2026-01-01T12:00:00.000Z',
        last_used_at: null,
        revoked_at: null,
        key: 'obs_4fQz9k…',
      },
    ],
  }),
  'auth.CreateApiKey': t.Object(
    { name: t.String({ minLength: 1, maxLength: 100 }) },
    { additionalProperties: false, examples: [{ name: 'laptop hooks' }] },
  ),
}
