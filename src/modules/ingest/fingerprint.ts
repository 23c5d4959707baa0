/**
 * A fingerprint of what was imported of a file up to `end`: SHA-256 of `end`, its first FINGERPRINT_WINDOW bytes and
 * the FINGERPRINT_WINDOW bytes before `end`. A rewritten file changes its start or the bytes before the old end; an
 * appended one changes neither. Two small windows keep following a large, growing file cheap (hashing the whole
 * prefix would cost its size per append).
 */
export const FINGERPRINT_WINDOW = 64 * 1024

type BunFile = ReturnType<typeof Bun.file>

function digest(end: number, head: Iterable<Uint8Array>, tail: Iterable<Uint8Array>) {
  const hasher = new Bun.CryptoHasher('sha256')
  hasher.update(String(end))
  for (const part of head) hasher.update(part)
  for (const part of tail) hasher.update(part)
  return hasher.digest('hex')
}

/** The fingerprint of `file` up to `end`, read from the file. */
export async function fingerprintOf(file: BunFile, end: number): Promise<string> {
  const head = await file.slice(0, Math.min(end, FINGERPRINT_WINDOW)).bytes()
  const tail = await file.slice(Math.max(0, end - FINGERPRINT_WINDOW), end).bytes()
  return digest(end, [head], [tail])
}

/** The bytes [from, to) of contiguous pieces that start at `start`. */
function* range(pieces: Uint8Array[], start: number, from: number, to: number) {
  let at = start
  for (const p of pieces) {
    const a = Math.max(from, at)
    const b = Math.min(to, at + p.length)
    if (a < b) yield p.subarray(a - at, b - at)
    at += p.length
    if (at >= to) return
  }
}

/**
 * Fingerprints of a file read line by line from `start`, computed from the lines' bytes as they are read, so that
 * committing each chunk does not read the file again. Where the window's bytes are not all at hand (a line too long to
 * keep, the start of a file read from the middle) it reads them from the file.
 */
export class LineFingerprints {
  /** the file's bytes from offset 0, while they are known and fewer than a window */
  private head: Uint8Array[] = []
  private headBytes = 0
  private headOpen: boolean
  /** the last bytes read, contiguous from `recentStart`, at least a window of them once there are that many */
  private recent: Uint8Array[] = []
  private recentBytes = 0
  private recentStart: number

  /** `head`: the file's first bytes up to `start` (at most a window of them), when reading starts past 0 */
  constructor(
    private readonly file: BunFile,
    start: number,
    head?: Uint8Array,
  ) {
    if (head && head.length === Math.min(start, FINGERPRINT_WINDOW)) {
      this.head = [head]
      this.headBytes = head.length
    }
    this.headOpen = this.headBytes === start && start < FINGERPRINT_WINDOW
    this.recentStart = start
  }

  /** The next line read: its offset and exact bytes (null when they were not kept). */
  add(offset: number, raw: Uint8Array | null | undefined, end: number) {
    if (!raw || offset !== this.recentStart + this.recentBytes) {
      this.headOpen = false
      this.recent = []
      this.recentBytes = 0
      this.recentStart = end
      return
    }
    if (this.headOpen) {
      this.head.push(raw)
      this.headBytes += raw.length
      if (this.headBytes >= FINGERPRINT_WINDOW) this.headOpen = false
    }
    this.recent.push(raw)
    this.recentBytes += raw.length
    while (this.recent.length > 1 && this.recentBytes - (this.recent[0] as Uint8Array).length >= FINGERPRINT_WINDOW) {
      const first = this.recent.shift() as Uint8Array
      this.recentBytes -= first.length
      this.recentStart += first.length
    }
  }

  /** The fingerprint up to `end`, the end of the last line added. */
  async at(end: number): Promise<string> {
    const headEnd = Math.min(end, FINGERPRINT_WINDOW)
    const tailStart = Math.max(0, end - FINGERPRINT_WINDOW)
    const headKnown = this.headBytes >= headEnd
    const tailKnown = this.recentStart <= tailStart && this.recentStart + this.recentBytes === end
    if (!headKnown || !tailKnown) return fingerprintOf(this.file, end)
    return digest(end, range(this.head, 0, 0, headEnd), range(this.recent, this.recentStart, tailStart, end))
  }
}
