/**
 * Seeds a running server's database for the HTTP part (run as a child while the server runs; WAL lets both write):
 * 10,000 conversations inserted directly with raw bun:sqlite, and one long conversation of about 10,000 messages
 * imported from a generated transcript through the ingest service, as a real import would store it.
 *
 *   bun bench/http-seed.ts <db path> <owner id> <scratch dir>
 *
 * Prints one JSON line: { conversations, longConversationId, longMessages }.
 */
import { openDatabase } from '../src/db/client'
import { createPricing } from '../src/lib/pricing'
import { createIngestRepository } from '../src/modules/ingest/repository'
import { createIngestService } from '../src/modules/ingest/service'
import { generateLongSession, makeRng } from './generate'

const SEED_CONVERSATIONS = 10_000
const SEED_MESSAGES = 10_000

const [dbPath, ownerId, scratch] = process.argv.slice(2)
if (!dbPath || !ownerId || !scratch) {
  console.error('usage: bun bench/http-seed.ts <db path> <owner id> <scratch dir>')
  process.exit(2)
}
const db = openDatabase(dbPath)
const rng = makeRng(1234)
const models = ['claude-opus-4-6', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001']
const insert = db.$client.prepare(
  `INSERT INTO conversations (id, owner_id, title, title_source, first_prompt, project_path, git_branch, source,
     agent_version, models, metadata, message_count, input_tokens, output_tokens, cache_creation_tokens,
     cache_read_tokens, cost_usd, started_at, ended_at, created_at, updated_at)
   VALUES (?, ?, ?, 'prompt', ?, ?, 'main', 'claude-code', '2.1.39', ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
)
const start = Date.UTC(2025, 6, 1)
db.$client
  .transaction(() => {
    for (let i = 0; i < SEED_CONVERSATIONS; i++) {
      const startedAt = start + i * 45 * 60_000 + rng.int(0, 30 * 60_000)
      const endedAt = startedAt + rng.int(60_000, 4 * 3600_000)
      const prompt = `Please look at the ${rng.hex(6)} module and fix the failing test in case ${i}`
      insert.run(
        rng.uuid(),
        ownerId,
        prompt,
        prompt,
        `/home/dev/projects/project-${i % 40}`,
        JSON.stringify([rng.pick(models)]),
        rng.int(10, 3000),
        rng.int(100, 20_000),
        rng.int(1000, 400_000),
        rng.int(10_000, 2_000_000),
        rng.int(100_000, 60_000_000),
        rng.next() * 40,
        startedAt,
        endedAt,
        startedAt,
        endedAt,
      )
    }
  })
  .immediate()

const long = generateLongSession(scratch, { uuidLines: SEED_MESSAGES })
const ingest = createIngestService(createIngestRepository(db), { pricing: createPricing({}) })
for (const path of long.paths) await ingest.importFile({ ownerId, path, sourceKey: path, displayName: path })
const messages = (
  db.$client.query('SELECT count(*) AS n FROM messages WHERE conversation_id = ?').get(long.sessionId) as { n: number }
).n
const conversations = (db.$client.query('SELECT count(*) AS n FROM conversations').get() as { n: number }).n
db.$client.close()
console.log(JSON.stringify({ conversations, longConversationId: long.sessionId, longMessages: messages }))
