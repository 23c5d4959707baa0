import type { Db } from './client'

/**
 * Moves the server's WAL checkpoints off the request path: the connection serving requests stops checkpointing at
 * commit (wal_autocheckpoint = 0) and a worker thread checkpoints every `intervalMs` instead. Processes without
 * one (the CLI) keep SQLite's automatic checkpoints.
 */
export async function startCheckpointer(db: Db, path: string, intervalMs = 1000) {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
  const reply = () =>
    new Promise<unknown>((resolve) => worker.addEventListener('message', (e) => resolve(e.data), { once: true }))
  const started = reply()
  worker.postMessage({ path, intervalMs })
  await started
  db.$client.exec('PRAGMA wal_autocheckpoint = 0')
  return {
    async stop() {
      const stopped = reply()
      worker.postMessage('stop')
      await stopped
      worker.terminate()
    },
  }
}
