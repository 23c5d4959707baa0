import { resolve } from 'node:path'
import { parseImportArgs, UsageError } from './cli/args'
import { CliError, messageOf } from './cli/errors'
import { runImport } from './cli/import'
import { runUserAdd } from './cli/user'
import { runWatch } from './cli/watch'
import { ConfigError, loadConfig } from './config'
import { backupTo, integrityOf, restoreFrom } from './db/backup'
import { closeDatabase, openDatabase } from './db/client'
import { runMigrations } from './db/migrate'

const USAGE = `observatory <command> [options]

Commands:
  serve                 start the server (same as \`bun start\`)
  migrate               apply pending database migrations and exit
  import [paths…]       import Claude Code transcripts (*.jsonl files, or folders searched for them)
  watch [paths…]        import, then keep importing what is appended and new files, until Ctrl-C
  user add <email>      create an account in the local database (the first one is an admin); the password is
                        read from stdin, or typed at a terminal; --name NAME, --role admin|member|viewer
  backup <file>         write a consistent copy of the database to <file> (safe while the server runs)
  restore <file>        put a backup in place of the database (stop the server first); the old file is kept
  help                  show this text

Paths default to $CLAUDE_CONFIG_DIR/projects (each folder of a comma-separated list),
else ~/.claude/projects and ~/.config/claude/projects. Importing again only reads what is new.

Options for import and watch:
  --user <email>        owner of the imported data (local database; default: the only user, else the first admin)
  --json                print the summary as one JSON object on stdout (watch: one object per line)
  --server <url>        send the files to a remote Observatory instead of the local database
  --api-key <key>       API key for --server (or set OBSERVATORY_API_KEY)

The local database comes from the environment (DATA_DIR, DB_PATH; see the README); it is safe to
import while the server runs on the same database.`

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv
  if ((command === 'import' || command === 'watch') && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(USAGE)
    return 0
  }
  switch (command) {
    case 'serve':
      await import('./index')
      return 0
    case 'migrate': {
      const config = loadConfig()
      const db = openDatabase(config.dbPath)
      runMigrations(db)
      closeDatabase(db)
      console.log(`migrated ${config.dbPath}`)
      return 0
    }
    case 'backup':
    case 'restore': {
      const [file] = rest
      if (!file) {
        console.error(`observatory: ${command} needs a file\n\n${USAGE}`)
        return 2
      }
      const config = loadConfig()
      if (command === 'restore') {
        let kept: string | null
        try {
          ;({ kept } = restoreFrom(resolve(file), config.dbPath))
        } catch (e) {
          throw new CliError(`cannot restore from ${file}: ${messageOf(e)}`)
        }
        console.log(
          `restored ${config.dbPath} from ${file}${kept ? ` (the previous database is kept as ${kept})` : ''}`,
        )
        return 0
      }
      const db = openDatabase(config.dbPath)
      try {
        runMigrations(db)
        await backupTo(db, resolve(file))
      } catch (e) {
        throw new CliError(`cannot back up to ${file}: ${messageOf(e)}`)
      } finally {
        closeDatabase(db)
      }
      console.log(`backed up ${config.dbPath} to ${file} (integrity: ${integrityOf(resolve(file))})`)
      return 0
    }
    case 'user':
      if (rest[0] !== 'add') throw new UsageError('the user command is `user add <email>`')
      return runUserAdd(rest.slice(1))
    case 'import':
      return runImport(parseImportArgs(rest))
    case 'watch':
      return runWatch(parseImportArgs(rest))
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return 0
    default:
      console.error(`observatory: unknown command "${command}"\n\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running; the others end here (a progress bar or watcher must not keep the process alive)
    if (process.argv[2] !== 'serve') process.exit(code)
  },
  (e) => {
    if (e instanceof UsageError) {
      console.error(`observatory: ${e.message}\n\n${USAGE}`)
      process.exit(2)
    }
    if (e instanceof ConfigError) console.error(`observatory: invalid configuration: ${e.message}`)
    else if (e instanceof CliError) console.error(`observatory: ${e.message}`)
    else console.error(e)
    process.exit(1)
  },
)
