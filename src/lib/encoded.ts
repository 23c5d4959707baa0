/**
 * An answer's JSON and gzip bytes, made once per answer object: an answer reused from the read cache is the same
 * object every time, so it is weighed, serialised and compressed once however often it is sent.
 */
const bodies = new WeakMap<object, { json: string; gzip?: Uint8Array }>()

/** Whether this answer has been serialised before (a reused one has). */
export const isEncoded = (value: object) => bodies.has(value)

/** The answer's JSON, and its gzip bytes made on first ask. */
export function encoded(value: object) {
  let body = bodies.get(value)
  if (!body) {
    body = { json: JSON.stringify(value) }
    bodies.set(value, body)
  }
  const made = body
  return {
    json: made.json,
    gzip: () => {
      made.gzip ??= Bun.gzipSync(made.json)
      return made.gzip
    },
  }
}
