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

type Operation = {
  requestBody?: { content?: Record<string, unknown> }
  responses?: Record<string, { description?: string; content?: Record<string, unknown> }>
  'x-media-types'?: string[]
}
const SPEC_PATH = '/swagger/json'
type Spec = { openapi: string; paths: Record<string, Record<string, Operation>> }

/**
 * What the generator gets wrong, set right on the generated document (in place, so once per document):
 * - a response without a body (204) came with `content: { type: "undefined" }`: it has no content;
 * - a route answering another media type than JSON names it in `detail['x-media-types']`: its 200 gets those;
 * - a JSON body came offered as a form too (urlencoded, multipart), which the server answers with 415: JSON only;
 * - the WebSocket came as a method `ws` under `/api/live/`, which OpenAPI has not: it is the GET of `/api/live` that
 *   upgrades (101), or answers 401 without a credential and 422 for a bad filter;
 * - the 413 (body over the limit) and 415 (a body neither JSON nor multipart) that every route with a body may answer
 *   came only where a route named them;
 * - a model used inside another was copied in with its `$id`, and an `$id` may appear once in a document: references
 *   go by path (`#/components/schemas/…`), so the ids go.
 */
function repair(spec: Spec) {
  const dropIds = (node: unknown) => {
    if (node === null || typeof node !== 'object') return
    const schema = node as Record<string, unknown>
    if (typeof schema.$id === 'string' && schema.$id.startsWith('#/components/schemas/')) delete schema.$id
    for (const child of Object.values(schema)) dropIds(child)
  }
  dropIds(spec)
  const error = { 'application/json': { schema: { $ref: '#/components/schemas/error' } } }
  for (const [path, operations] of Object.entries(spec.paths)) {
    const upgrade = operations.ws
    if (upgrade) {
      delete operations.ws
      if (Object.keys(operations).length === 0) delete spec.paths[path]
      const at = path.replace(/(.)\/$/, '$1')
      spec.paths[at] = {
        ...spec.paths[at],
        get: {
          ...upgrade,
          responses: {
            '101': { description: 'Switching Protocols: the WebSocket' },
            '401': { description: 'No valid credential or ticket', content: error },
            '422': { description: 'A filter that does not match its schema', content: error },
          },
        },
      }
    }
    for (const operation of Object.values(operations)) {
      if (operation.requestBody && operation.responses) {
        operation.responses['413'] ??= { description: 'The body is larger than the limit', content: error }
        operation.responses['415'] ??= {
          description: 'The body is neither application/json nor (uploads) multipart/form-data',
          content: error,
        }
      }
      const body = operation.requestBody?.content
      if (body?.['application/json'])
        for (const type of Object.keys(body)) if (type !== 'application/json') delete body[type]
      for (const response of Object.values(operation.responses ?? {}))
        if (response.content && Object.keys(response.content).some((type) => !type.includes('/')))
          delete response.content
      const types = operation['x-media-types']
      const ok = operation.responses?.['200']
      if (types && ok?.content) {
        const schema = Object.values(ok.content)[0]
        ok.content = Object.fromEntries(types.map((type) => [type, schema]))
      }
      delete operation['x-media-types']
    }
  }
}

/** OpenAPI spec at /swagger/json and Swagger UI at /swagger, its assets served from the installed package. */
export const docsModule = () => {
  const dist = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
  const spec = openapi({
    provider: 'swagger-ui',
    path: '/swagger',
    specPath: SPEC_PATH,
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
  })
  // The plugin's spec route, wrapped before it is mounted to repair what it generates (hooks of ours would not
  // reach the plugin's own route, and a guard around it hides the app's routes from the generator).
  const route = spec.routes.find((r) => r.path === SPEC_PATH)
  if (!route) throw new Error(`@elysiajs/openapi no longer serves ${SPEC_PATH}`)
  const generate = route.handler as (...args: unknown[]) => Spec
  route.handler = function repaired(this: unknown, ...args: unknown[]) {
    const document = generate.apply(this, args)
    repair(document)
    return document
  } as typeof route.handler
  // The page loads the spec from `swagger/json`, relative to its own address (so it works under a path prefix):
  // from `/swagger/` that would be `/swagger/swagger/json`, so that address is sent to the one without the slash.
  const pageRoute = spec.routes.find((r) => r.path === '/swagger' && r.method === 'GET')
  if (!pageRoute) throw new Error('@elysiajs/openapi no longer serves /swagger')
  // (the plugin gives the page as a Response made once)
  const page = pageRoute.handler as unknown as Response
  if (!(page instanceof Response)) throw new Error('@elysiajs/openapi no longer makes its page once')
  pageRoute.handler = ((context: { request: Request }) =>
    new URL(context.request.url).pathname.endsWith('/')
      ? new Response(null, { status: 308, headers: { location: '../swagger' } })
      : page.clone()) as unknown as typeof pageRoute.handler
  return new Elysia({ name: 'docs' })
    .get('/swagger/assets/swagger-ui-bundle.js', () => Bun.file(`${dist}/swagger-ui-bundle.js`), {
      detail: { hide: true },
    })
    .get('/swagger/assets/swagger-ui.css', () => Bun.file(`${dist}/swagger-ui.css`), { detail: { hide: true } })
    .use(spec)
}
