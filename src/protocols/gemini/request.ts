import { GatewayError } from '../../errors'

// Gemini generateContent → OpenAI Chat Completions, for targets that do not speak Gemini (the reverse of
// docs/providers.md §2.2). A Gemini target gets the client's own body instead (passthrough).
type Json = Record<string, unknown>
type ChatMessage = Json

const reject = (message: string, param: string): never => {
  throw new GatewayError({ code: 'invalid_request_error', message, param })
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v)
const partsOf = (content: unknown): Json[] =>
  isObject(content) && Array.isArray(content.parts) ? (content.parts as Json[]) : []

function systemText(instruction: unknown): string {
  if (typeof instruction === 'string') return instruction
  return partsOf(instruction)
    .map((p) => (typeof p?.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join('\n\n')
}

const dataUrl = (mimeType: unknown, data: unknown) => `data:${String(mimeType)};base64,${String(data)}`

// A user part that is not text or a function response: images (inline or by URL) and PDFs.
function mediaPart(part: Json, param: string): Json {
  const inline = part.inlineData as Json | undefined
  const file = part.fileData as Json | undefined
  const mime = String(inline?.mimeType ?? file?.mimeType ?? '').toLowerCase()
  if (inline && mime.startsWith('image/'))
    return { type: 'image_url', image_url: { url: dataUrl(mime, inline.data) } }
  if (inline && mime === 'application/pdf')
    return {
      type: 'file',
      file: { filename: 'document.pdf', file_data: dataUrl(mime, inline.data) },
    }
  if (
    file &&
    typeof file.fileUri === 'string' &&
    /^https:\/\//i.test(file.fileUri) &&
    mime.startsWith('image/')
  )
    return { type: 'image_url', image_url: { url: file.fileUri } }
  const kind = Object.keys(part).find((k) => k !== 'thoughtSignature') ?? 'empty'
  return reject(`Parts of kind '${kind}'${mime ? ` (${mime})` : ''} cannot be sent to this model.`, param)
}

// Gemini's function-call ids are optional and its responses pair positionally; OpenAI needs ids. A call
// keeps Gemini's id when it has one, else gets one from its position; a response takes the id of the
// earliest unanswered call of that name.
type Pending = { id: string; name: string }

function modelMessage(parts: Json[], turn: number, pending: Pending[]): ChatMessage {
  let text = ''
  const calls: Json[] = []
  parts.forEach((part) => {
    if (part.thought === true) return
    if (typeof part.text === 'string') text += part.text
    const call = part.functionCall as Json | undefined
    if (call) {
      const id = typeof call.id === 'string' && call.id ? call.id : `call_g${turn}_${calls.length}`
      const name = String(call.name ?? '')
      pending.push({ id, name })
      calls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(call.args ?? {}) } })
    }
  })
  return {
    role: 'assistant',
    content: text || (calls.length ? null : ''),
    ...(calls.length ? { tool_calls: calls } : {}),
  }
}

function userMessages(parts: Json[], turn: number, pending: Pending[]): ChatMessage[] {
  const tools: ChatMessage[] = []
  const content: Json[] = []
  parts.forEach((part, j) => {
    const param = `contents[${turn}].parts[${j}]`
    if (part.thought === true) return
    const answer = part.functionResponse as Json | undefined
    if (answer) {
      const name = String(answer.name ?? '')
      const at =
        typeof answer.id === 'string'
          ? pending.findIndex((p) => p.id === answer.id)
          : pending.findIndex((p) => p.name === name)
      if (at < 0) reject('A functionResponse must answer a functionCall of the previous model turn.', param)
      const [call] = pending.splice(at, 1)
      tools.push({ role: 'tool', tool_call_id: call!.id, content: JSON.stringify(answer.response ?? {}) })
    } else if (typeof part.text === 'string') content.push({ type: 'text', text: part.text })
    else content.push(mediaPart(part, param))
  })
  if (content.length === 0) return tools
  const single = content.length === 1 && content[0]!.type === 'text'
  return [...tools, { role: 'user', content: single ? content[0]!.text : content }]
}

function chatMessages(body: Json): ChatMessage[] {
  const messages: ChatMessage[] = []
  const system = systemText(body.systemInstruction)
  if (system) messages.push({ role: 'system', content: system })
  const pending: Pending[] = []
  ;(body.contents as Json[]).forEach((content, i) => {
    const parts = partsOf(content)
    if (content.role === 'model') messages.push(modelMessage(parts, i, pending))
    else if (content.role === undefined || content.role === 'user')
      messages.push(...userMessages(parts, i, pending))
    else
      reject(`Role '${String(content.role)}' is not supported; use 'user' or 'model'.`, `contents[${i}].role`)
  })
  return messages
}

// Gemini's `parameters` are an OpenAPI subset with upper-case types (`OBJECT`, `STRING`); JSON Schema
// wants them lower-case. `parametersJsonSchema` (Gemini CLI) is JSON Schema already.
function jsonSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf)
  if (!isObject(schema)) return schema
  const out: Json = {}
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type' && typeof v === 'string') out.type = v.toLowerCase()
    else if (k === 'nullable' || k === 'propertyOrdering') continue
    else if (k === 'properties' && isObject(v))
      out.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, jsonSchemaOf(s)]))
    else out[k] = jsonSchemaOf(v)
  }
  return out
}

// Function declarations become function tools; Google's own tools (search, code execution, URL context…)
// run only at Google and are left out for other targets rather than failing the request.
function chatTools(tools: Json[]): Json[] {
  const out: Json[] = []
  for (const tool of tools)
    for (const fn of Array.isArray(tool.functionDeclarations) ? (tool.functionDeclarations as Json[]) : [])
      out.push({
        type: 'function',
        function: {
          name: fn.name,
          ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
          parameters: fn.parametersJsonSchema ??
            jsonSchemaOf(fn.parameters) ?? { type: 'object', properties: {} },
        },
      })
  return out
}

function toolChoice(config: unknown): unknown {
  const calling = (isObject(config) ? config.functionCallingConfig : undefined) as Json | undefined
  const names = Array.isArray(calling?.allowedFunctionNames) ? (calling.allowedFunctionNames as string[]) : []
  if (calling?.mode === 'NONE') return 'none'
  if (calling?.mode === 'ANY' || calling?.mode === 'VALIDATED')
    return names.length === 1 ? { type: 'function', function: { name: names[0] } } : 'required'
  if (calling?.mode === 'AUTO') return 'auto'
  return undefined
}

const LEVELS: Record<string, string> = {
  MINIMAL: 'minimal',
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
  XHIGH: 'xhigh',
}

// An explicit thinkingLevel maps one to one. A thinkingBudget is not passed on: Gemini CLI sends one on
// every request whatever the model, and OpenAI models without reasoning refuse reasoning_effort.
function reasoningEffort(thinking: unknown): string | undefined {
  if (!isObject(thinking) || typeof thinking.thinkingLevel !== 'string') return undefined
  return LEVELS[thinking.thinkingLevel.toUpperCase()]
}

function responseFormat(config: Json): Json | undefined {
  if (config.responseMimeType !== 'application/json') return undefined
  const schema = config.responseJsonSchema ?? jsonSchemaOf(config.responseSchema)
  return schema ? { type: 'json_schema', json_schema: { name: 'response', schema } } : { type: 'json_object' }
}

export function toChatRequest(model: string, body: Json, stream: boolean): Json {
  const chat: Json = { model, messages: chatMessages(body) }
  const tools = chatTools(Array.isArray(body.tools) ? (body.tools as Json[]) : [])
  if (tools.length) {
    chat.tools = tools
    const choice = toolChoice(body.toolConfig)
    if (choice !== undefined) chat.tool_choice = choice
  }
  const config = (isObject(body.generationConfig) ? body.generationConfig : {}) as Json
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) chat[key] = value
  }
  set('temperature', config.temperature)
  set('top_p', config.topP)
  set('max_completion_tokens', config.maxOutputTokens)
  set(
    'stop',
    Array.isArray(config.stopSequences) && config.stopSequences.length ? config.stopSequences : undefined,
  )
  set(
    'n',
    typeof config.candidateCount === 'number' && config.candidateCount > 1
      ? config.candidateCount
      : undefined,
  )
  set('seed', config.seed)
  set('presence_penalty', config.presencePenalty)
  set('frequency_penalty', config.frequencyPenalty)
  set('response_format', responseFormat(config))
  set('reasoning_effort', reasoningEffort(config.thinkingConfig))
  if (stream) {
    chat.stream = true
    chat.stream_options = { include_usage: true }
  }
  return chat
}

// embedContent / batchEmbedContents → OpenAI embeddings (floats; Gemini clients read numbers).
export function toEmbeddingsRequest(model: string, requests: Json[]): Json {
  const input = requests.map((r, i) => {
    const text = partsOf(r.content)
      .map((p) =>
        typeof p.text === 'string' ? p.text : reject('Only text can be embedded.', `requests[${i}].content`),
      )
      .join('')
    return text
  })
  const dims = requests[0]?.outputDimensionality
  return { model, input, encoding_format: 'float', ...(typeof dims === 'number' ? { dimensions: dims } : {}) }
}
