/**
 * A preload that times every bun:sqlite statement of a process by SQL text and writes the totals as JSON to
 * $BENCH_SQL_PROFILE when the process exits, for profiling a server under load:
 *
 *   BENCH_SQL_PROFILE=bench/out/profiles/sql.json bun --preload ./bench/sql-profile-preload.ts src/index.ts
 */
import { writeFileSync } from 'node:fs'
import { profileStatements } from './import-worker'

const out = process.env.BENCH_SQL_PROFILE
if (out) {
  const times = new Map<string, { ms: number; calls: number }>()
  profileStatements(times)
  process.on('exit', () => {
    const rows = [...times.entries()]
      .map(([sql, v]) => ({ sql, ...v, usPerCall: v.calls ? (1000 * v.ms) / v.calls : 0 }))
      .filter((r) => r.calls > 0)
      .sort((a, b) => b.ms - a.ms)
    writeFileSync(out, JSON.stringify(rows, null, 2))
  })
}
