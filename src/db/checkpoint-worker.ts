import { Database } from 'bun:sqlite'

/**
 * Folds the WAL back into the database file from its own thread and connection, so that no request's commit
 * pays for a checkpoint. PASSIVE: it never waits on readers or writers; what it cannot copy now, it copies next time.
 */
declare const self: Worker
let db: Database | null = null
let timer: Timer | null = null

self.onmessage = (event: MessageEvent<{ path: string; intervalMs: number } | 'stop'>) => {
  if (event.data === 'stop') {
    if (timer) clearInterval(timer)
    db?.close()
    self.postMessage('stopped')
    return
  }
  const { path, intervalMs } = event.data
  db = new Database(path)
  db.exec('PRAGMA busy_timeout = 5000')
  const checkpoint = db.query('PRAGMA wal_checkpoint(PASSIVE)')
  timer = setInterval(() => {
    try {
      checkpoint.get()
    } catch {
      // busy or locked for longer than busy_timeout: the next round tries again
    }
  }, intervalMs)
  self.postMessage('started')
}
