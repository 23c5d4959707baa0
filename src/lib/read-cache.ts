import type { Db } from '../db/client'

/**
 * Answers of read-only reports (search, usage), reused until the database changes: a commit by this connection
 * (its total_changes() moves) or by any other (data_version moves) empties it. Dashboards and teammates asking
 * for the same report between two writes then cost one query, not one each.
 */
export function createReadCache(db: Db, maxEntries = 256) {
  const state = db.$client.query<{ changes: number; version: number }, []>(
    'SELECT total_changes() AS changes, data_version AS version FROM pragma_data_version',
  )
  const versionNow = () => {
    const s = state.get()
    return `${s?.changes}:${s?.version}`
  }
  let version = ''
  const entries = new Map<string, unknown>()

  return {
    /** The cached answer for `key`, or compute's (kept unless the database changed while it ran). */
    async remember<T>(key: unknown[], compute: () => Promise<T>): Promise<T> {
      const before = versionNow()
      if (before !== version) {
        entries.clear()
        version = before
      }
      const id = JSON.stringify(key)
      if (entries.has(id)) {
        const hit = entries.get(id) as T
        // most recently used last: the first key is the one to evict
        entries.delete(id)
        entries.set(id, hit)
        return hit
      }
      const value = await compute()
      if (versionNow() === before) {
        entries.set(id, value)
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
      }
      return value
    },
  }
}
export type ReadCache = ReturnType<typeof createReadCache>
