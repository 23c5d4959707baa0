/** Plain-text projection of message content (a string or Anthropic content blocks), for search and previews. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const block of content) {
    if (typeof block !== 'object' || block === null) continue
    const b = block as Record<string, unknown>
    if (b.type === 'text' && typeof b.text === 'string') parts.push(b.text)
    else if (b.type === 'thinking' && typeof b.thinking === 'string') parts.push(b.thinking)
    else if (b.type === 'tool_use' && b.input !== undefined) parts.push(JSON.stringify(b.input))
    else if (b.type === 'tool_result') parts.push(contentText(b.content))
  }
  return parts.join('\n')
}
