import { parseArgs } from 'node:util'
import { CliError } from './errors'

export type ImportOptions = {
  paths: string[]
  json: boolean
  user?: string
  server?: string
  apiKey?: string
}

/** A usage mistake: the CLI prints it with the usage text and exits 2. */
export class UsageError extends CliError {}

/** Flags of `import` and `watch`. The API key may also come from OBSERVATORY_API_KEY (kept out of `ps` output). */
export function parseImportArgs(argv: string[], env: Record<string, string | undefined> = process.env): ImportOptions {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const { values, positionals } = parsed
  const server = values.server
  const apiKey = values['api-key'] ?? env.OBSERVATORY_API_KEY
  if (server && values.user)
    throw new UsageError('--user is for the local database; with --server the API key decides the owner')
  if (server && !apiKey) throw new UsageError('--server needs --api-key KEY (or OBSERVATORY_API_KEY)')
  return {
    paths: positionals,
    json: values.json ?? false,
    ...(values.user !== undefined && { user: values.user }),
    ...(server !== undefined && { server }),
    ...(server !== undefined && apiKey !== undefined && { apiKey }),
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      user: { type: 'string' },
      json: { type: 'boolean' },
      server: { type: 'string' },
      'api-key': { type: 'string' },
    },
  })
}
