import type { Db } from '../db/client'
import { encoded } from './encoded'

/**
 * Answers of read-only routes (lists, threads, search, usage, a project's hierarchy), reused until the database
 * changes: a commit by this connection (its total_changes() moves) or by any other (data_version moves) empties it.
 * Dashboards and teammates asking for the same page or report between two writes then cost one query, not one each.
 * At most `maxBytes` of answers (as JSON) are kept, the least recently used leaving first.
 */
export function createReadCache(db: Db, maxBytes = 64 * 1024 * 1024) {
  const state = db.$client.query<{ changes: number; version: number }, []>(
    'SELECT total_changes() AS changes, data_version AS version FROM pragma_data_version',
  )
  const versionNow = () => {
    const s = state.get()
    return `${s?.changes}:${s?.version}`
  }
  let version = ''
  // insertion order is recency order: a hit moves its key to the end, eviction takes from the front
  const entries = new Map<string, { value: unknown; bytes: number }>()
  let bytes = 0

  return {
    /** The cached answer for `key`, or compute's (kept unless the database changed while it ran). */
    async remember<T>(key: unknown[], compute: () => Promise<T>): Promise<T> {
      const before = versionNow()
      if (before !== version) {
        entries.clear()
        bytes = 0
        version = before
      }
      const id = JSON.stringify(key)
      const hit = entries.get(id)
      if (hit) {
        entries.delete(id)
        entries.set(id, hit)
        return hit.value as T
      }
      const value = await compute()
      if (versionNow() !== before) return value
      // the size of its JSON (made once, and sent as is) stands for the memory an answer holds; one answer takes at
      // most an eighth
      const size =
        typeof value === 'object' && value !== null ? encoded(value).json.byteLength : JSON.stringify(value).length
      if (size > maxBytes / 8) return value
      entries.set(id, { value, bytes: size })
      bytes += size
      for (const [oldest, entry] of entries) {
        if (bytes <= maxBytes) break
        entries.delete(oldest)
        bytes -= entry.bytes
      }
      return value
    },
  }
}
export type ReadCache = ReturnType<typeof createReadCache>
