import { ConfigError, loadConfig } from './config'
import { closeDatabase, openDatabase } from './db/client'
import { runMigrations } from './db/migrate'

const USAGE = `observatory <command>

Commands:
  serve      start the server (same as \`bun start\`)
  migrate    apply pending database migrations and exit
  help       show this text

Configuration comes from the environment; see the README.`

async function main(argv: string[]) {
  const [command = 'help'] = argv
  switch (command) {
    case 'serve':
      await import('./index')
      return
    case 'migrate': {
      const config = loadConfig()
      const db = openDatabase(config.dbPath)
      runMigrations(db)
      closeDatabase(db)
      console.log(`migrated ${config.dbPath}`)
      return
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return
    default:
      console.error(`observatory: unknown command "${command}"\n\n${USAGE}`)
      process.exit(2)
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof ConfigError ? `observatory: invalid configuration: ${e.message}` : e)
  process.exit(1)
})
