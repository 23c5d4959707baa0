/** Search snippet markers: control characters that no stored text keeps, replaced by <mark> after HTML escaping. */
export const MARK_OPEN = '\u0002'
export const MARK_CLOSE = '\u0003'

/**
 * Plain-text projection of message content (a string or Anthropic content blocks), for search and previews. The
 * snippet markers become spaces (both separate words alike), so a text cannot fake a highlighted match.
 */
export function contentText(content: unknown): string {
  return blocksText(content).replaceAll(MARK_OPEN, ' ').replaceAll(MARK_CLOSE, ' ')
}

function blocksText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const block of content) {
    if (typeof block !== 'object' || block === null) continue
    const b = block as Record<string, unknown>
    if (b.type === 'text' && typeof b.text === 'string') parts.push(b.text)
    else if (b.type === 'thinking' && typeof b.thinking === 'string') parts.push(b.thinking)
    else if (b.type === 'tool_use' && b.input !== undefined) parts.push(JSON.stringify(b.input))
    else if (b.type === 'tool_result') parts.push(blocksText(b.content))
  }
  return parts.join('\n')
}
