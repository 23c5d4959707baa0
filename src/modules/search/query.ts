import { AppError } from '../../lib/errors'

export const MAX_TERMS = 32

/**
 * Translates what a person types into a safe FTS5 query: every word or "quoted phrase" becomes a quoted FTS5
 * string (so no input is ever read as FTS5 syntax), a trailing `*` makes a prefix search, a leading `-` excludes.
 * Throws a 400 naming the problem for input that leaves nothing to search for.
 */
export function toFtsQuery(input: string): string {
  const include: string[] = []
  const exclude: string[] = []
  // "a phrase", or a run of non-space characters; either may start with - and end with *
  const pattern = /(-?)"([^"]*)"(\*?)|(\S+)/g
  for (const match of input.matchAll(pattern)) {
    let negate = match[1] === '-'
    let prefix = match[3] === '*'
    let text = match[2]
    if (match[4] !== undefined) {
      text = match[4]
      if (text.startsWith('-')) {
        negate = true
        text = text.slice(1)
      }
      if (text.endsWith('*')) {
        prefix = true
        text = text.replace(/\*+$/, '')
      }
      text = text.replaceAll('"', '')
    }
    // keep only what the tokenizer indexes: a term of punctuation alone would match nothing
    if (!text || !/[\p{L}\p{N}]/u.test(text)) continue
    const term = `"${text.replaceAll('"', '""')}"${prefix ? '*' : ''}`
    ;(negate ? exclude : include).push(term)
  }
  if (include.length + exclude.length > MAX_TERMS)
    throw new AppError(400, 'BAD_REQUEST', `too many search terms (at most ${MAX_TERMS})`)
  if (include.length === 0)
    throw new AppError(
      400,
      'BAD_REQUEST',
      exclude.length > 0
        ? 'a search needs at least one term that is not excluded'
        : 'nothing to search for: q has no words',
    )
  return exclude.length > 0 ? `${include.join(' ')} NOT (${exclude.join(' OR ')})` : include.join(' ')
}
