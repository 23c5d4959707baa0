/**
 * What-if experiments on the real server without touching src/: runs $BENCH_PRAGMAS on every bun:sqlite connection
 * right after that connection's first exec (openDatabase's own PRAGMAs), so it overrides them. Never set in a figure
 * of the report, only in rows labelled what-if:
 *
 *   BENCH_PRAGMAS='PRAGMA wal_autocheckpoint = 0' bun --preload ./bench/pragmas-preload.ts src/index.ts
 */
import { Database } from 'bun:sqlite'

const pragmas = process.env.BENCH_PRAGMAS
if (pragmas) {
  const proto = Database.prototype as unknown as { exec: (this: Database, ...args: unknown[]) => unknown }
  const exec = proto.exec
  const done = new WeakSet<Database>()
  proto.exec = function (this: Database, ...args: unknown[]) {
    const result = exec.apply(this, args)
    if (!done.has(this)) {
      done.add(this)
      exec.call(this, pragmas)
    }
    return result
  }
}
