/**
 * An answer's JSON (as UTF-8 bytes) and its compressed forms, made once per answer object: an answer reused from the
 * read cache is the same object every time, so it is weighed, serialised, encoded and compressed once however often it
 * is sent.
 */
const utf8 = new TextEncoder()
type Body = { json: Uint8Array<ArrayBuffer>; gzip?: Uint8Array; zstd?: Uint8Array }
const bodies = new WeakMap<object, Body>()

export type Compression = 'zstd' | 'gzip'

/** Whether this answer has been serialised before (a reused one has). */
export const isEncoded = (value: object) => bodies.has(value)

/** The answer's JSON as UTF-8 bytes, and its compressed bytes made on first ask. */
export function encoded(value: object) {
  let body = bodies.get(value)
  if (!body) {
    body = { json: utf8.encode(JSON.stringify(value)) }
    bodies.set(value, body)
  }
  const made = body
  return {
    json: made.json,
    // On our JSON answers (ids, timestamps) zstd at level 1 is about as small as gzip at level 3 in a third of the
    // time; gzip's level 3 is within a tenth of its default level 6 in size, in about half the time.
    compressed: (as: Compression) => {
      if (as === 'zstd') {
        made.zstd ??= Bun.zstdCompressSync(made.json, { level: 1 })
        return made.zstd
      }
      made.gzip ??= Bun.gzipSync(made.json, { level: 3 })
      return made.gzip
    },
  }
}
