import { GatewayError } from '../../errors'
import type { AnthropicMessage, Block } from './schema'

// Anthropic Messages → OpenAI Chat Completions (docs/providers.md §3.4), for targets that speak OpenAI.
type ChatMessage = Record<string, unknown>

const reject = (message: string, param: string): never => {
  throw new GatewayError({ code: 'invalid_request_error', message, param })
}

const str = (v: unknown) => (typeof v === 'string' ? v : '')

// Claude Code's attribution line: billing metadata for Anthropic, noise for any other model.
const isAttribution = (text: string) => text.startsWith('x-anthropic-billing-header:')

function textOf(content: string | Block[], param: string): string {
  if (typeof content === 'string') return content
  return content
    .map((block, i) =>
      block.type === 'text'
        ? str(block.text)
        : reject(`Only text blocks are allowed here.`, `${param}[${i}]`),
    )
    .filter((text) => !isAttribution(text))
    .join('\n\n')
}

function imagePart(block: Block, param: string) {
  const source = (block.source ?? {}) as Record<string, unknown>
  if (source.type === 'base64')
    return {
      type: 'image_url',
      image_url: { url: `data:${str(source.media_type)};base64,${str(source.data)}` },
    }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: str(source.url) } }
  return reject(`Image source type '${String(source.type)}' cannot be sent to this model.`, param)
}

function documentPart(block: Block, param: string) {
  const source = (block.source ?? {}) as Record<string, unknown>
  if (source.type === 'base64' && source.media_type === 'application/pdf')
    return {
      type: 'file',
      file: { filename: 'document.pdf', file_data: `data:application/pdf;base64,${str(source.data)}` },
    }
  if (source.type === 'text') return { type: 'text', text: str(source.data) }
  return reject(`Document source type '${String(source.type)}' cannot be sent to this model.`, param)
}

function toolResultText(block: Block): { text: string; images: unknown[] } {
  const images: unknown[] = []
  let text = ''
  if (typeof block.content === 'string') text = block.content
  else if (Array.isArray(block.content))
    text = (block.content as Block[])
      .map((part, i) => {
        if (part.type === 'image') images.push(imagePart(part, `tool_result.content[${i}]`))
        return part.type === 'text' ? str(part.text) : ''
      })
      .filter(Boolean)
      .join('\n\n')
  return { text: block.is_error === true ? `[tool error] ${text}` : text, images }
}

function userMessages(content: string | Block[], param: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }]
  const tools: ChatMessage[] = []
  const parts: unknown[] = []
  content.forEach((block, i) => {
    const at = `${param}.content[${i}]`
    if (block.type === 'text') parts.push({ type: 'text', text: str(block.text) })
    else if (block.type === 'image') parts.push(imagePart(block, at))
    else if (block.type === 'document') parts.push(documentPart(block, at))
    else if (block.type === 'tool_result') {
      const { text, images } = toolResultText(block)
      tools.push({ role: 'tool', tool_call_id: str(block.tool_use_id), content: text })
      parts.push(...images)
    } else if (block.type !== 'thinking' && block.type !== 'redacted_thinking')
      reject(`Content blocks of type '${block.type}' cannot be sent to this model.`, at)
  })
  if (parts.length === 0) return tools
  const single = parts.length === 1 && (parts[0] as { type: string }).type === 'text'
  return [...tools, { role: 'user', content: single ? (parts[0] as { text: string }).text : parts }]
}

function assistantMessage(content: string | Block[], param: string): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content }
  const text: string[] = []
  const calls: unknown[] = []
  content.forEach((block, i) => {
    if (block.type === 'text') text.push(str(block.text))
    else if (block.type === 'tool_use')
      calls.push({
        id: str(block.id),
        type: 'function',
        function: { name: str(block.name), arguments: JSON.stringify(block.input ?? {}) },
      })
    else if (block.type !== 'thinking' && block.type !== 'redacted_thinking')
      reject(`Content blocks of type '${block.type}' cannot be sent to this model.`, `${param}.content[${i}]`)
  })
  return {
    role: 'assistant',
    content: text.length > 0 ? text.join('') : null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  }
}

function tools(list: Record<string, unknown>[]): unknown[] {
  return list
    .filter((tool) => tool.defer_loading !== true)
    .map((tool, i) => {
      if (tool.type !== undefined && tool.type !== 'custom')
        reject(`The tool type '${String(tool.type)}' runs only on Anthropic's servers.`, `tools[${i}]`)
      return {
        type: 'function',
        function: {
          name: tool.name,
          ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
          parameters: tool.input_schema ?? { type: 'object' },
          ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
        },
      }
    })
}

function toolChoice(choice: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (choice.type === 'auto') out.tool_choice = 'auto'
  else if (choice.type === 'any') out.tool_choice = 'required'
  else if (choice.type === 'none') out.tool_choice = 'none'
  else if (choice.type === 'tool') out.tool_choice = { type: 'function', function: { name: choice.name } }
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false
  return out
}

// Adaptive effort passes as is; a thinking budget maps onto the three classic effort levels.
function reasoningEffort(body: Record<string, unknown>): string | undefined {
  const thinking = body.thinking as { type?: string; budget_tokens?: number } | undefined
  const effort = (body.output_config as { effort?: string } | undefined)?.effort
  if (thinking?.type === 'disabled') return undefined
  if (effort) return effort
  if (thinking?.type !== 'enabled') return undefined
  const budget = thinking.budget_tokens ?? 0
  return budget <= 2048 ? 'low' : budget <= 16_384 ? 'medium' : 'high'
}

export function toChatRequest(body: Record<string, unknown>): Record<string, unknown> {
  const messages: ChatMessage[] = []
  if (body.system !== undefined) {
    const system = textOf(body.system as string | Block[], 'system')
    if (system) messages.push({ role: 'system', content: system })
  }
  ;(body.messages as AnthropicMessage[]).forEach((m, i) => {
    const param = `messages[${i}]`
    if (m.role === 'system') messages.push({ role: 'system', content: textOf(m.content, `${param}.content`) })
    else if (m.role === 'user') messages.push(...userMessages(m.content, param))
    else messages.push(assistantMessage(m.content, param))
  })
  const chat: Record<string, unknown> = {
    model: body.model,
    messages,
    max_completion_tokens: body.max_tokens,
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    const list = tools(body.tools as Record<string, unknown>[])
    if (list.length > 0) chat.tools = list
  }
  if (body.tool_choice && chat.tools)
    Object.assign(chat, toolChoice(body.tool_choice as Record<string, unknown>))
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) chat.stop = body.stop_sequences
  if (body.temperature !== undefined) chat.temperature = body.temperature
  if (body.top_p !== undefined) chat.top_p = body.top_p
  const effort = reasoningEffort(body)
  if (effort) chat.reasoning_effort = effort
  const format = (body.output_config as { format?: { type?: string; schema?: unknown } } | undefined)?.format
  if (format?.type === 'json_schema')
    chat.response_format = {
      type: 'json_schema',
      json_schema: { name: 'output', schema: format.schema, strict: true },
    }
  const user = (body.metadata as { user_id?: unknown } | undefined)?.user_id
  // Claude Code sends a JSON blob here; only a short identifier is worth passing on as `user`.
  if (typeof user === 'string' && user && user.length <= 64) chat.user = user
  if (body.stream === true) {
    chat.stream = true
    chat.stream_options = { include_usage: true }
  }
  return chat
}
