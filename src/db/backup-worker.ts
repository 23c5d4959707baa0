import { Database } from 'bun:sqlite'

declare const self: Worker

/**
 * Runs one VACUUM INTO on a connection of its own, off the server's thread: copying a large database takes seconds,
 * and the server goes on answering meanwhile.
 */
self.onmessage = (event: MessageEvent<{ from: string; to: string }>) => {
  const { from, to } = event.data
  try {
    const db = new Database(from, { readonly: true })
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      db.run('VACUUM INTO ?', [to])
    } finally {
      db.close()
    }
    self.postMessage({ ok: true })
  } catch (e) {
    self.postMessage({ ok: false, error: (e as Error).message })
  }
}
