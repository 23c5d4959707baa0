import { afterAll, describe, expect, it } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeApp } from './helpers'

const dir = mkdtempSync(join(tmpdir(), 'observatory-full-'))
const small = join(dir, 'small-disk')
const sources = join(dir, 'sources')
mkdirSync(small)
mkdirSync(sources)

/** A tiny filesystem for the database; null (and the test skipped) where mounting is not allowed. */
function mountTiny(): string | null {
  const r = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small], { stderr: 'pipe' })
  return r.exitCode === 0 ? small : null
}
const mounted = mountTiny()
if (!mounted) console.warn(`disk-full test skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)`)
afterAll(() => {
  if (mounted) Bun.spawnSync(['umount', '-l', small]) // lazily: the app under test may still hold its files
  rmSync(dir, { recursive: true, force: true })
})

const transcript = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      type: 'user',
      uuid: `full-${from + i}`,
      sessionId: `full-${from}`,
      timestamp: '2026-01-01T00:00:00Z',
      message: { role: 'user', content: `line ${from + i} ${'padding '.repeat(40)}` },
    }),
  ).join('\n')

describe.skipIf(!mounted)('a full disk', () => {
  it('fails an import with a clear error, loses nothing committed, keeps reads working, and succeeds once space is freed', async () => {
    const { admin, api, db } = await makeApp({ DATA_DIR: small, DB_PATH: join(small, 'o.db'), IMPORT_ROOTS: sources })
    const c = (await api.api.conversations.post({ title: 'committed before' })).data!
    await api.api.conversations({ id: c.id }).messages.post({ role: 'user', content: 'keep me' })

    writeFileSync(join(sources, 'big.jsonl'), `${transcript(0, 12_000)}\n`)
    const started = await admin.api.api.files['import-path'].post({ path: join(sources, 'big.jsonl') })
    const id = started.data!.items[0]!.id
    let file = (await admin.api.api.files({ id }).get()).data
    for (let i = 0; i < 1000 && file?.status !== 'error' && file?.status !== 'completed'; i++) {
      await Bun.sleep(10)
      file = (await admin.api.api.files({ id }).get()).data
    }
    expect(file?.status).toBe('error')
    expect(file?.error).toMatch(/full/i)
    expect(db.$client.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })

    // reads keep working, and what was committed is still there
    const kept = await api.api.conversations({ id: c.id }).messages.get({ query: {} })
    expect(kept.data?.items.map((m) => m.text)).toEqual(['keep me'])
    const partial = (
      db.$client.query('SELECT count(*) AS n FROM messages WHERE id LIKE ?').get('full-%') as { n: number }
    ).n
    expect(partial % 2000).toBe(0) // only whole chunks

    // more space: the same import, run again, completes with exact counts
    expect(Bun.spawnSync(['mount', '-o', 'remount,size=64m', small]).exitCode).toBe(0)
    const again = await admin.api.api.files['import-path'].post({ path: join(sources, 'big.jsonl') })
    const againId = again.data!.items[0]!.id
    for (let i = 0; i < 1000 && (await admin.api.api.files({ id: againId }).get()).data?.status !== 'completed'; i++)
      await Bun.sleep(10)
    expect(
      (db.$client.query('SELECT count(*) AS n FROM messages WHERE id LIKE ?').get('full-%') as { n: number }).n,
    ).toBe(12_000)
    db.$client.close()
  }, 60_000)
})
