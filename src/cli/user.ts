import { parseArgs } from 'node:util'
import { Value } from '@sinclair/typebox/value'
import { loadConfig } from '../config'
import { closeDatabase, openDatabase } from '../db/client'
import { runMigrations } from '../db/migrate'
import { AppError } from '../lib/errors'
import { UserModel } from '../modules/users/model'
import { createUserRepository } from '../modules/users/repository'
import { createUserService } from '../modules/users/service'
import { UsageError } from './args'
import { CliError } from './errors'

/** The password: piped on stdin (one line), or typed at a terminal without echo. */
async function readPassword(stdin: NodeJS.ReadStream): Promise<string> {
  if (!stdin.isTTY) {
    let text = ''
    for await (const chunk of stdin) text += chunk
    return text.replace(/\r?\n$/, '')
  }
  process.stderr.write('password: ')
  stdin.setRawMode(true)
  let typed = ''
  try {
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return typed
        if (ch === '\u0003') throw new CliError('cancelled')
        typed = ch === '\u007f' ? typed.slice(0, -1) : typed + ch
      }
    }
    return typed
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    process.stderr.write('\n')
  }
}

/**
 * `user add <email>`: an account made on the server's machine, such as the first one before an import (it becomes an
 * admin, as the first to register does). The password comes on stdin, or is typed at a terminal.
 */
export async function runUserAdd(argv: string[], stdin: NodeJS.ReadStream = process.stdin): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const [email, ...extra] = parsed.positionals
  if (!email || extra.length > 0) throw new UsageError('user add needs one email')
  const role = parsed.values.role
  if (role !== undefined && role !== 'admin' && role !== 'member' && role !== 'viewer')
    throw new UsageError(`--role is admin, member or viewer, not "${role}"`)

  const config = loadConfig()
  const db = openDatabase(config.dbPath)
  try {
    runMigrations(db)
    const repo = createUserRepository(db)
    const first = (await repo.list(1, 0)).total === 0
    if (first && role !== undefined && role !== 'admin')
      throw new CliError('the first account is an admin: leave out --role')
    const input = {
      email,
      password: await readPassword(stdin),
      display_name: parsed.values.name ?? email.split('@')[0] ?? email,
      role: role ?? (first ? 'admin' : 'member'),
    }
    const schema = UserModel['user.Create']
    const error = Value.Errors(schema, input).First()
    if (error) throw new CliError(`invalid ${error.path.slice(1) || 'input'}: ${error.message}`)
    const users = createUserService(repo, { allowSignup: false })
    // the first account as sign-up makes it (an admin, only if there is still none), any other as an admin does
    const { role: _, ...registration } = input
    const user = await (first ? users.register(registration) : users.create(input as typeof schema.static)).catch(
      (e: unknown) => {
        throw e instanceof AppError ? new CliError(e.message) : e
      },
    )
    console.log(`created ${user.role} ${user.email} (${user.id})`)
    return 0
  } finally {
    closeDatabase(db)
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { name: { type: 'string' }, role: { type: 'string' } },
  })
}
