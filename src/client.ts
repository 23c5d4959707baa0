import { treaty } from '@elysiajs/eden'
import type { App } from './app'

export type Credentials = {
  /** an access token from POST /api/auth/login, sent as `Authorization: Bearer …` */
  token?: string
  /** an API key (obs_…), sent as `X-API-Key` */
  apiKey?: string
}

/** A typed client for an Observatory server: every route, body and response as the server declares it. */
export function createClient(baseUrl: string, credentials: Credentials = {}) {
  const headers: Record<string, string> = {}
  if (credentials.token) headers.authorization = `Bearer ${credentials.token}`
  if (credentials.apiKey) headers['x-api-key'] = credentials.apiKey
  // parseDate: false keeps timestamps as the ISO strings the types declare.
  return treaty<App>(baseUrl, { headers, parseDate: false })
}

export type Client = ReturnType<typeof createClient>
export type { App }
