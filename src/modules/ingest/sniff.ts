/** How much of a file's head is looked at to tell whether it is JSONL. */
export const SNIFF_BYTES = 64 * 1024

const BOM = Buffer.from([0xef, 0xbb, 0xbf])
const NEWLINE = 0x0a
const OPEN_BRACE = 0x7b
/** bytes that leave a line blank (besides the newline) */
const BLANK = new Set([0x20, 0x09, 0x0d, 0x0b, 0x0c])

/**
 * Watches the head of a file as it arrives and tells what is plainly not a JSONL transcript: a first non-blank line
 * that is not a JSON object. It decides as soon as that line is complete (or SNIFF_BYTES have come and the line is
 * still going: then its opening brace is all it checks), so a wrong file is refused early.
 */
export function createJsonlSniffer() {
  const head = Buffer.alloc(SNIFF_BYTES)
  let length = 0
  let bomChecked = false
  let lineStart = 0 // where the first non-blank line starts
  let pos = 0 // blank lines scanned up to here
  let opened = false // that line's opening brace has been seen
  let searchFrom = 0 // where to look for the end of that line next
  let verdict: boolean | undefined

  const parses = (end: number) => {
    try {
      const value = JSON.parse(new TextDecoder().decode(head.subarray(lineStart, end)))
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    } catch {
      return false
    }
  }
  const judge = (ended: boolean): boolean | undefined => {
    if (!bomChecked) {
      if (length < BOM.length && !ended && head.subarray(0, length).equals(BOM.subarray(0, length))) return undefined
      bomChecked = true
      if (head.subarray(0, BOM.length).equals(BOM)) lineStart = pos = BOM.length
    }
    if (!opened) {
      for (; pos < length; pos++) {
        const byte = head[pos] as number
        if (byte === NEWLINE) lineStart = pos + 1
        else if (!BLANK.has(byte)) break
      }
      if (pos === length) return ended || length === SNIFF_BYTES ? false : undefined // nothing but blank lines yet
      if (head[pos] !== OPEN_BRACE) return false
      opened = true
      searchFrom = pos
    }
    const newline = head.subarray(0, length).indexOf(NEWLINE, searchFrom)
    if (newline !== -1) return parses(newline)
    if (ended) return parses(length)
    if (length === SNIFF_BYTES) return true
    searchFrom = length
    return undefined
  }

  return {
    /** Takes the next bytes: false once the head is plainly not JSONL, undefined while its first line goes on. */
    push(chunk: Uint8Array): boolean | undefined {
      if (verdict !== undefined || length === SNIFF_BYTES) return verdict
      const taken = Math.min(chunk.length, SNIFF_BYTES - length)
      head.set(chunk.subarray(0, taken), length)
      length += taken
      verdict = judge(false)
      return verdict
    },
    /** The verdict once the whole file has come (nothing but blank lines is not JSONL). */
    finish(): boolean {
      verdict ??= judge(true) ?? false // judge always decides once the file has ended
      return verdict
    },
  }
}
