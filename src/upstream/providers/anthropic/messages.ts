import type { Capabilities } from '../capabilities'
import { RequestRejected } from '../types'
import { toolId } from './ids'

type Json = Record<string, unknown>
type Block = Json
type Message = { role: 'user' | 'assistant' | 'system'; content: Block[] }

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])
const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,(.*)$/s

function textBlocks(content: unknown): Block[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  if (!Array.isArray(content)) return []
  return content
    .filter(
      (p: Json) => (p?.type === 'text' || p?.type === 'refusal') && typeof (p.text ?? p.refusal) === 'string',
    )
    .map((p: Json) => ({
      type: 'text',
      text: (p.text ?? p.refusal) as string,
      // A client's cache breakpoint (OpenRouter's convention on OpenAI content parts) is Anthropic's own.
      ...(p.cache_control ? { cache_control: p.cache_control } : {}),
    }))
    .filter((b) => b.text !== '')
}

function imageBlock(url: string, param: string): Block {
  const data = DATA_URL.exec(url)
  if (data) {
    const mediaType = data[1]!.toLowerCase()
    if (!IMAGE_TYPES.has(mediaType))
      throw new RequestRejected(
        `Image type '${mediaType}' is not supported; use JPEG, PNG, GIF or WebP.`,
        param,
      )
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: data[3] } }
  }
  // Anthropic fetches the URL itself; the gateway never does.
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } }
  throw new RequestRejected('An image URL must be an https:// URL or a base64 data URL.', param)
}

function userBlocks(content: unknown, i: number): Block[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  if (!Array.isArray(content)) return []
  const out: Block[] = []
  content.forEach((part: Json, j) => {
    const param = `messages[${i}].content[${j}]`
    if (part?.type === 'text' && typeof part.text === 'string') {
      if (part.text)
        out.push({
          type: 'text',
          text: part.text,
          ...(part.cache_control ? { cache_control: part.cache_control } : {}),
        })
    } else if (part?.type === 'image_url') {
      const url = (part.image_url as Json | undefined)?.url
      if (typeof url !== 'string') throw new RequestRejected('image_url.url must be a string.', param)
      out.push(imageBlock(url, param))
    } else if (part?.type === 'file') {
      const data = DATA_URL.exec(String((part.file as Json | undefined)?.file_data ?? ''))
      if (!data || data[1] !== 'application/pdf')
        throw new RequestRejected(
          'Only PDF files sent as file_data are supported by this model.',
          param,
          'unsupported_parameter',
        )
      out.push({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data[3] } })
    } else {
      throw new RequestRejected(
        `Content part type '${String(part?.type)}' is not supported by this model.`,
        param,
        'unsupported_parameter',
      )
    }
  })
  return out
}

function assistantBlocks(message: Json, i: number): Block[] {
  const out = textBlocks(message.content)
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : []
  calls.forEach((call: Json, k) => {
    const fn = (call?.function ?? {}) as Json
    const args = typeof fn.arguments === 'string' ? fn.arguments : ''
    let input: unknown = {}
    try {
      input = args.trim() === '' ? {} : JSON.parse(args)
    } catch {
      throw new RequestRejected(
        'Tool call arguments must be valid JSON.',
        `messages[${i}].tool_calls[${k}].function.arguments`,
      )
    }
    out.push({ type: 'tool_use', id: toolId(String(call?.id ?? '')), name: String(fn.name ?? ''), input })
  })
  return out
}

function toolResult(message: Json): Block {
  const content = message.content
  return {
    type: 'tool_result',
    tool_use_id: toolId(String(message.tool_call_id ?? '')),
    content: typeof content === 'string' ? content : textBlocks(content),
  }
}

// Tool results must come first in a user message.
const isResult = (b: Block) => b.type === 'tool_result'

// OpenAI messages → Anthropic `system` + alternating `messages` (docs/providers.md §1.3): leading system and
// developer messages form `system`; later ones join it (or stay in place when the model takes them); a run
// of tool results becomes one user message, before that user's own text; same-role neighbours merge.
export function messagesOf(input: Json[], caps: Capabilities): { system: Block[]; messages: Message[] } {
  const system: Block[] = []
  const messages: Message[] = []
  const push = (role: Message['role'], content: Block[]) => {
    if (content.length === 0) return
    const last = messages.at(-1)
    if (last && last.role === role && role !== 'system') {
      const merged = [...last.content, ...content]
      last.content = [...merged.filter(isResult), ...merged.filter((b) => !isResult(b))]
    } else messages.push({ role, content })
  }
  input.forEach((message, i) => {
    const role = message.role
    if (role === 'system' || role === 'developer') {
      const blocks = textBlocks(message.content)
      if (messages.length === 0 || !caps.mid_conversation_system) system.push(...blocks)
      else push('system', blocks)
    } else if (role === 'user') push('user', userBlocks(message.content, i))
    else if (role === 'assistant') push('assistant', assistantBlocks(message, i))
    else if (role === 'tool') push('user', [toolResult(message)])
    else
      throw new RequestRejected(
        `Role '${String(role)}' is not supported by this model.`,
        `messages[${i}].role`,
      )
  })
  if (messages.length === 0)
    throw new RequestRejected('At least one user or assistant message is required.', 'messages')
  return { system, messages }
}
