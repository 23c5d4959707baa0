import { dirname } from 'node:path'
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'

const TAGS = [
  { name: 'auth', description: 'Sign-up, login, tokens and API keys' },
  { name: 'users', description: 'User management (admins)' },
  { name: 'conversations', description: 'Agent sessions and their totals' },
  { name: 'messages', description: 'Messages of a conversation' },
  { name: 'files', description: 'Transcript uploads and server-side imports' },
  { name: 'search', description: 'Full-text search over messages' },
  { name: 'analytics', description: 'Token, cost and tool reports' },
  { name: 'hierarchy', description: 'Projects, machines, workspaces and sessions' },
  { name: 'events', description: 'Claude Code hooks and agent events' },
  { name: 'live', description: 'Live updates: Server-Sent Events and WebSocket' },
  { name: 'admin', description: 'Backups (admins)' },
  { name: 'health', description: 'The service itself' },
]

/** OpenAPI spec at /swagger/json and Swagger UI at /swagger, its assets served from the installed package. */
export const docsModule = () => {
  const dist = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
  return new Elysia({ name: 'docs' })
    .get('/swagger/assets/swagger-ui-bundle.js', () => Bun.file(`${dist}/swagger-ui-bundle.js`), {
      detail: { hide: true },
    })
    .get('/swagger/assets/swagger-ui.css', () => Bun.file(`${dist}/swagger-ui.css`), { detail: { hide: true } })
    .use(
      openapi({
        provider: 'swagger-ui',
        path: '/swagger',
        specPath: '/swagger/json',
        swagger: { cdn: '/swagger/assets/swagger-ui-bundle.js', theme: '/swagger/assets/swagger-ui.css' },
        documentation: {
          info: {
            title: 'Observatory API',
            version: '0.1.0',
            description: 'Keeps, searches and analyses the sessions of AI coding agents (Claude Code first).',
          },
          tags: TAGS,
          components: {
            securitySchemes: {
              bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or obs_ API key' },
              apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
            },
          },
        },
      }),
    )
}
