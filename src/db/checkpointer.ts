import type { Db } from './client'

/** 128 MiB of 4 KiB pages */
const BACKSTOP_PAGES = 32_768

/**
 * Moves WAL checkpoints off the writing connection (the server's, or the CLI's while it imports): a worker thread
 * checkpoints every `intervalMs`, and the writer checkpoints at commit only as a backstop, once the WAL reaches
 * 128 MiB (under a long import a PASSIVE checkpoint never catches up with the writer, and the WAL restarts only after
 * one does). Other processes (the CLI's backup and restore) keep openDatabase's automatic checkpoints.
 */
export async function startCheckpointer(db: Db, path: string, intervalMs = 1000) {
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url))
  const reply = () =>
    new Promise<unknown>((resolve) => worker.addEventListener('message', (e) => resolve(e.data), { once: true }))
  const started = reply()
  worker.postMessage({ path, intervalMs })
  await started
  db.$client.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`)
  return {
    async stop() {
      const stopped = reply()
      worker.postMessage('stop')
      await stopped
      worker.terminate()
    },
  }
}
