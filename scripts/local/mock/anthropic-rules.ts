// The Messages API's request rules the mock enforces, so a translation bug fails like the real API would:
// the first broken rule as Anthropic's 400 message, or null.
import { isObject, type Json } from './http.ts'

const TOOL_ID = /^[a-zA-Z0-9_-]+$/
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

function blocksOf(content: unknown): Json[] | null {
  if (typeof content === 'string') return [{ type: 'text', text: content }]
  return Array.isArray(content) && content.every(isObject) ? content : null
}

function checkBlock(b: Json, where: string, role: string): string | null {
  if (b.type === 'text') {
    if (typeof b.text !== 'string' || b.text === '') return `${where}: text content blocks must be non-empty`
  } else if (b.type === 'image') {
    const source = isObject(b.source) ? b.source : {}
    if (source.type === 'base64' && !IMAGE_TYPES.has(String(source.media_type)))
      return `${where}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`
    if (source.type !== 'base64' && source.type !== 'url') return `${where}.source: invalid image source`
  } else if (b.type === 'tool_use') {
    if (role !== 'assistant') return `${where}: tool_use blocks are only allowed in assistant messages`
    if (typeof b.id !== 'string' || !TOOL_ID.test(b.id))
      return `${where}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`
    if (!isObject(b.input)) return `${where}.input: Input should be a valid dictionary`
  } else if (b.type === 'tool_result') {
    if (role !== 'user') return `${where}: tool_result blocks are only allowed in user messages`
    if (typeof b.tool_use_id !== 'string' || !TOOL_ID.test(b.tool_use_id))
      return `${where}.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'`
  } else if (b.type === 'thinking' || b.type === 'redacted_thinking' || b.type === 'document') {
    // accepted as is
  } else return `${where}.type: unknown content block type '${String(b.type)}'`
  return null
}

function checkMessages(body: Json, thinking: boolean): string | null {
  const messages = body.messages
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required'
  let previous = null as { role: string; blocks: Json[] } | null
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i]
    if (!isObject(m)) return `messages.${i}: Input should be a valid dictionary`
    const role = String(m.role)
    if (!['user', 'assistant', 'system'].includes(role))
      return `messages.${i}.role: Input should be 'user', 'assistant' or 'system'`
    const blocks = blocksOf(m.content)
    if (!blocks || blocks.length === 0) return `messages.${i}: all messages must have non-empty content`
    for (let j = 0; j < blocks.length; j++) {
      const problem = checkBlock(blocks[j]!, `messages.${i}.content.${j}`, role)
      if (problem) return problem
    }
    if (role === 'system') continue
    if (previous === null && role !== 'user') return 'messages: the first message must use the "user" role'
    if (previous?.role === role)
      return `messages: roles must alternate between "user" and "assistant" (messages.${i})`
    const results = blocks.filter((b) => b.type === 'tool_result')
    if (results.length) {
      const firstOther = blocks.findIndex((b) => b.type !== 'tool_result')
      if (firstOther !== -1 && firstOther < blocks.lastIndexOf(results.at(-1)!))
        return `messages.${i}: tool_result blocks must come before any other content`
      const ids = new Set((previous?.blocks ?? []).filter((b) => b.type === 'tool_use').map((b) => b.id))
      for (const r of results)
        if (!ids.has(r.tool_use_id))
          return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(r.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`
    }
    previous = { role, blocks }
  }
  const last = [...messages].reverse().find((m: Json) => m.role === 'assistant') as Json | undefined
  const lastBlocks = blocksOf(last?.content) ?? []
  if (thinking && lastBlocks.some((b) => b.type === 'tool_use')) {
    const first = lastBlocks[0]?.type
    if (first !== 'thinking' && first !== 'redacted_thinking')
      return 'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.'
  }
  return null
}

export function checkMessagesRequest(body: Json, version: string): string | null {
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required'
  if (body.max_tokens === undefined) return 'max_tokens: Field required'
  if (!(Number.isInteger(body.max_tokens) && (body.max_tokens as number) >= 1))
    return 'max_tokens: Input should be a valid integer greater than or equal to 1'
  if (version === '2026-10-21')
    for (const name of ['temperature', 'top_p', 'top_k'])
      if (name in body) return `${name}: Extra inputs are not permitted`
  if (typeof body.temperature === 'number' && (body.temperature < 0 || body.temperature > 1))
    return 'temperature: Input should be less than or equal to 1'
  if ('temperature' in body && 'top_p' in body)
    return '`temperature` and `top_p` cannot both be specified for this model. Please use only one.'
  if (body.system !== undefined && typeof body.system !== 'string') {
    const blocks = blocksOf(body.system)
    if (!blocks || blocks.some((b) => b.type !== 'text' || typeof b.text !== 'string' || b.text === ''))
      return 'system: text content blocks must be non-empty'
  }
  if (
    Array.isArray(body.stop_sequences) &&
    body.stop_sequences.some((s) => typeof s !== 'string' || s.trim() === '')
  )
    return 'stop_sequences: each stop sequence must contain non-whitespace'
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return 'tools: Input should be a valid list'
    for (let i = 0; i < body.tools.length; i++) {
      const t: unknown = body.tools[i]
      // Server tools (`web_search_20250305`, …) are typed and carry no schema.
      const serverTool = isObject(t) && typeof t.type === 'string' && t.type !== 'custom'
      if (!isObject(t) || typeof t.name !== 'string' || (!serverTool && !isObject(t.input_schema)))
        return `tools.${i}: name and input_schema are required`
    }
  }
  const thinking =
    isObject(body.thinking) && (body.thinking.type === 'enabled' || body.thinking.type === 'adaptive')
  if (isObject(body.thinking) && body.thinking.type === 'enabled') {
    const budget = body.thinking.budget_tokens
    if (!(typeof budget === 'number' && budget >= 1024 && budget < (body.max_tokens as number)))
      return 'thinking.budget_tokens: must be ≥ 1024 and less than max_tokens'
  }
  return checkMessages(body, thinking)
}
