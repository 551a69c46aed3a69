import { GatewayError } from '../../errors'
import { extraContentOf } from './signature'

// OpenAI Responses → Chat Completions, for targets that do not speak Responses (anthropic, gemini), so
// Codex and the Agents SDK run on any model. Stateless: the request carries its whole history (Codex sends
// `store: false` with full history on every turn).
type Json = Record<string, unknown>

const reject = (message: string, param: string): never => {
  throw new GatewayError({ code: 'invalid_request_error', message, param })
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown) => (typeof v === 'string' ? v : '')

// A namespace's tools reach the model flattened as `<namespace>__<name>`; the reply turns the name back.
export const NAMESPACE_SEPARATOR = '__'
const flatName = (namespace: unknown, name: unknown) =>
  typeof namespace === 'string' && namespace ? `${namespace}${NAMESPACE_SEPARATOR}${str(name)}` : str(name)

// Items that only mean something at OpenAI (reasoning kept encrypted, hosted-tool calls, compactions):
// left out of a translated history.
const OPENAI_ONLY = new Set([
  'reasoning',
  'web_search_call',
  'file_search_call',
  'image_generation_call',
  'code_interpreter_call',
  'compaction',
  'mcp_list_tools',
])

function contentParts(content: unknown, param: string): string | Json[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((part: Json, i) => {
    const at = `${param}[${i}]`
    if (part?.type === 'input_text' || part?.type === 'output_text' || part?.type === 'text')
      return { type: 'text', text: str(part.text) }
    if (part?.type === 'refusal') return { type: 'text', text: str(part.refusal) }
    if (part?.type === 'input_image' && typeof part.image_url === 'string')
      return {
        type: 'image_url',
        image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) },
      }
    if (part?.type === 'input_file' && typeof part.file_data === 'string')
      return {
        type: 'file',
        file: { filename: str(part.filename) || 'document.pdf', file_data: part.file_data },
      }
    return reject(`Input content of type '${String(part?.type)}' cannot be sent to this model.`, at)
  })
}

const textOnly = (parts: string | Json[]) =>
  typeof parts === 'string' ? parts : parts.map((p) => str(p.text)).join('')

// Codex's tool outputs are strings or content lists; a chat tool message takes text.
function outputText(output: unknown): string {
  if (typeof output === 'string') return output
  if (Array.isArray(output)) return output.map((p: Json) => str(p?.text)).join('')
  return JSON.stringify(output ?? '')
}

function chatMessages(body: Json): Json[] {
  const messages: Json[] = []
  if (typeof body.instructions === 'string' && body.instructions)
    messages.push({ role: 'system', content: body.instructions })
  if (typeof body.input === 'string') {
    messages.push({ role: 'user', content: body.input })
    return messages
  }
  // Function calls join the assistant message right before them (one turn, several calls).
  const assistantTurn = (): Json => {
    const last = messages.at(-1)
    if (last?.role === 'assistant') return last
    const turn: Json = { role: 'assistant', content: null }
    messages.push(turn)
    return turn
  }
  const items = Array.isArray(body.input) ? (body.input as Json[]) : []
  items.forEach((item, i) => {
    const param = `input[${i}]`
    const type = item.type ?? 'message'
    if (type === 'message') {
      const role = item.role === 'developer' ? 'system' : item.role
      const content = contentParts(item.content, `${param}.content`)
      if (role === 'assistant') {
        const turn = assistantTurn()
        turn.content = `${str(turn.content)}${textOnly(content)}` || null
      } else if (role === 'system') messages.push({ role: 'system', content: textOnly(content) })
      else if (role === 'user') messages.push({ role: 'user', content })
      else reject(`Role '${String(item.role)}' is not supported.`, `${param}.role`)
    } else if (type === 'function_call' || type === 'custom_tool_call') {
      const turn = assistantTurn()
      const calls = (turn.tool_calls ??= []) as Json[]
      calls.push({
        id: str(item.call_id),
        ...extraContentOf(str(item.call_id)),
        type: 'function',
        function: {
          name: flatName(item.namespace, item.name),
          arguments:
            type === 'function_call' ? str(item.arguments) || '{}' : JSON.stringify({ input: item.input }),
        },
      })
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output')
      messages.push({ role: 'tool', tool_call_id: str(item.call_id), content: outputText(item.output) })
    else if (!OPENAI_ONLY.has(String(type)))
      reject(`Input items of type '${String(type)}' cannot be sent to this model.`, `${param}.type`)
  })
  return messages
}

const functionTool = (tool: Json, name: string): Json => ({
  type: 'function',
  function: {
    name,
    ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
    parameters: tool.parameters ?? { type: 'object', properties: {} },
    ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
  },
})

// Function tools as they are, a namespace's function tools flattened; hosted tools (web_search, file
// search, code interpreter…) run only at OpenAI and are left out rather than failing the request.
function chatTools(tools: unknown): Json[] {
  const out: Json[] = []
  for (const tool of Array.isArray(tools) ? (tools as Json[]) : []) {
    if (tool?.type === 'function') out.push(functionTool(tool, str(tool.name)))
    else if (tool?.type === 'namespace')
      for (const inner of Array.isArray(tool.tools) ? (tool.tools as Json[]) : [])
        if (inner?.type === 'function') out.push(functionTool(inner, flatName(tool.name, inner.name)))
  }
  return out
}

function toolChoice(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  if (!isObject(choice)) return undefined
  if (choice.type === 'function')
    return { type: 'function', function: { name: flatName(choice.namespace, choice.name) } }
  if (choice.type === 'allowed_tools') return choice.mode === 'required' ? 'required' : 'auto'
  return undefined
}

function responseFormat(text: unknown): Json | undefined {
  const format = isObject(text) ? (text.format as Json | undefined) : undefined
  if (format?.type === 'json_object') return { type: 'json_object' }
  if (format?.type !== 'json_schema') return undefined
  return {
    type: 'json_schema',
    json_schema: {
      name: str(format.name) || 'response',
      schema: format.schema,
      ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
      ...(typeof format.description === 'string' ? { description: format.description } : {}),
    },
  }
}

export function toChatRequest(body: Json): Json {
  const chat: Json = { model: body.model, messages: chatMessages(body) }
  const tools = chatTools(body.tools)
  if (tools.length) {
    chat.tools = tools
    const choice = toolChoice(body.tool_choice)
    if (choice !== undefined) chat.tool_choice = choice
    if (typeof body.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = body.parallel_tool_calls
  }
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) chat[key] = value
  }
  set('max_completion_tokens', body.max_output_tokens)
  set('temperature', body.temperature)
  set('top_p', body.top_p)
  set('response_format', responseFormat(body.text))
  set('reasoning_effort', isObject(body.reasoning) ? body.reasoning.effort : undefined)
  set('prompt_cache_key', body.prompt_cache_key)
  if (body.stream === true) {
    chat.stream = true
    chat.stream_options = { include_usage: true }
  }
  return chat
}
