// The OpenAI-compatible mock: /v1/chat/completions, /v1/embeddings, /v1/models, answered and validated
// as OpenAI does.
import type { ServerResponse } from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { isObject, requestId, safeDecode, sendJson, wait, type Json } from './http.ts'
import type { Call, ProtocolMock } from './call.ts'
import type { Scenario } from './scenario.ts'
import { toolCallReply, wantsToolCalls } from './openai-tools.ts'
import { chatCached } from './prompt-cache.ts'

const FINGERPRINT = 'fp_mock0001'
const WORDS = ['Hello', ' from', ' mock', ' upstream', '.']
const MODELS = [
  { id: 'gpt-4o-mini', created: 1721172741, owned_by: 'system' },
  { id: 'gpt-4o', created: 1715367049, owned_by: 'system' },
  { id: 'gpt-4.1-mini', created: 1744318173, owned_by: 'system' },
  { id: 'text-embedding-3-small', created: 1705948997, owned_by: 'system' },
  { id: 'text-embedding-3-large', created: 1705953180, owned_by: 'system' },
]
const JSON_PARSE_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library " +
  'correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)'

export const openaiMock: ProtocolMock = {
  owns: (apiPath, method) =>
    (method === 'POST' && (apiPath === '/v1/chat/completions' || apiPath === '/v1/embeddings')) ||
    (method === 'GET' && /^\/v1\/models(\/[^/]+)?$/.test(apiPath)),
  handle,
  sendStatus: (call, status) => sendStatusError(call.res, status, call.sc),
}

async function handle(call: Call): Promise<void> {
  const { apiPath, method, res } = call
  if (apiPath === '/v1/chat/completions' && method === 'POST') await chatCompletions(call)
  else if (apiPath === '/v1/embeddings' && method === 'POST') embeddings(call)
  else if (apiPath === '/v1/models' && method === 'GET') {
    respondJson(call, {
      object: 'list',
      data: MODELS.map((x) => ({ id: x.id, object: 'model', created: x.created, owned_by: x.owned_by })),
    })
  } else {
    const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(apiPath)
    const id = safeDecode(modelMatch?.[1] ?? '')
    const model = MODELS.find((x) => x.id === id)
    if (!model)
      sendError(
        res,
        404,
        `The model '${id}' does not exist`,
        'invalid_request_error',
        'model',
        'model_not_found',
      )
    else respondJson(call, { id, object: 'model', created: model.created, owned_by: model.owned_by })
  }
}

// The checks every model route starts with, answered as OpenAI does; false once an error was sent.
function hasModel(res: ServerResponse, body: unknown, parseError: boolean): body is Record<string, unknown> {
  const problem = parseError
    ? JSON_PARSE_MESSAGE
    : !isObject(body)
      ? 'The request body must be a JSON object.'
      : typeof body.model !== 'string' || body.model === ''
        ? 'you must provide a model parameter'
        : null
  if (problem) sendError(res, 400, problem, 'invalid_request_error')
  return problem === null
}

async function chatCompletions(call: Call) {
  const { res, body, parseError, sc, state, latencyMs } = call
  if (!hasModel(res, body, parseError)) return
  const messages = body.messages
  if (!Array.isArray(messages))
    return sendError(
      res,
      400,
      "Missing required parameter: 'messages'.",
      'invalid_request_error',
      'messages',
      'missing_required_parameter',
    )
  if (messages.length === 0)
    return sendError(
      res,
      400,
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'invalid_request_error',
      'messages',
      'empty_array',
    )
  for (let i = 0; i < messages.length; i++) {
    const msg: unknown = messages[i]
    if (!isObject(msg) || typeof msg.role !== 'string')
      return sendError(
        res,
        400,
        `Invalid value for 'messages[${i}]': expected an object with a string 'role'.`,
        'invalid_request_error',
        `messages[${i}]`,
        'invalid_value',
      )
  }
  const stream = body.stream === true
  if (body.stream_options != null && !stream)
    return sendError(
      res,
      400,
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'invalid_request_error',
      'stream_options',
    )
  const maxParam = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens'
  const max = body[maxParam]
  if (max != null && !(typeof max === 'number' && Number.isInteger(max) && max >= 1))
    return sendError(
      res,
      400,
      `Invalid '${maxParam}': expected an integer >= 1, but got ${JSON.stringify(max)} instead.`,
      'invalid_request_error',
      maxParam,
      'invalid_value',
    )

  if (wantsToolCalls(call)) return toolCallReply(call, body)

  let pieces = Array.from({ length: sc.chunks }, (_, i) =>
    i > 0 && i % WORDS.length === 0 ? ' Hello' : WORDS[i % WORDS.length]!,
  )
  let finishReason = 'stop'
  if (typeof max === 'number' && max < pieces.length) {
    pieces = pieces.slice(0, max)
    finishReason = 'length'
  }
  const model = body.model
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`
  const created = Math.floor(Date.now() / 1000)
  // Scenario part cached<N>: N of the prompt tokens were read from the prompt cache; otherwise what this
  // key's prompt cache holds for the request.
  const cachedPart = sc.parts.map((p) => /^cached(\d{1,6})$/.exec(p)).find(Boolean)
  const cached = cachedPart
    ? Number(cachedPart[1])
    : chatCached(call.scenario, call.req.headers.authorization, body)
  const usage = makeUsage(promptTokens(messages), pieces.length, cached)

  if (!stream) {
    return respondJson(call, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: pieces.join(''), refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      ...(sc.noUsage ? {} : { usage }),
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
    })
  }

  const streamOptions = body.stream_options
  const includeUsage = isObject(streamOptions) && streamOptions.include_usage === true && !sc.noUsage
  const chunk = (choices: unknown[], chunkUsage: unknown = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: FINGERPRINT,
    choices,
    ...(includeUsage ? { usage: chunkUsage } : {}),
  })
  const delta = (d: Json, finish: string | null = null) => [
    { index: 0, delta: d, logprobs: null, finish_reason: finish },
  ]
  const send = (payload: unknown) => {
    if (!res.destroyed) res.write(`data: ${JSON.stringify(payload)}\n\n`)
  }
  const cut = () => {
    state.cutByUs = true
    res.destroy()
  }

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId(),
    'openai-processing-ms': String(latencyMs + sc.delayMs),
  })
  send(chunk(delta({ role: 'assistant', content: '', refusal: null })))
  if (sc.hangBody) return // head and first chunk sent; stall until the client goes away
  for (let i = 0; i < pieces.length; i++) {
    if (sc.cut !== undefined && i >= sc.cut) return cut()
    await wait(res, sc.gapMs)
    if (res.destroyed) return
    send(chunk(delta({ content: pieces[i] })))
  }
  if (sc.cut !== undefined) return cut()
  await wait(res, sc.gapMs)
  if (res.destroyed) return
  send(chunk(delta({}, finishReason)))
  if (includeUsage) {
    await wait(res, sc.gapMs)
    if (res.destroyed) return
    send(chunk([], usage))
  }
  await wait(res, sc.gapMs)
  if (!res.destroyed) res.end('data: [DONE]\n\n')
}

function embeddings(call: Call) {
  const { res, body, parseError } = call
  if (!hasModel(res, body, parseError)) return
  if (body.input === undefined)
    return sendError(
      res,
      400,
      "Missing required parameter: 'input'.",
      'invalid_request_error',
      'input',
      'missing_required_parameter',
    )
  const inputs = normalizeInput(body.input)
  if (!inputs)
    return sendError(
      res,
      400,
      "'$.input' is invalid. Expected a non-empty string, array of strings, or array of token arrays.",
      'invalid_request_error',
      'input',
      'invalid_value',
    )
  const format = body.encoding_format ?? 'float'
  if (format !== 'float' && format !== 'base64')
    return sendError(
      res,
      400,
      `Invalid value for 'encoding_format': expected 'float' or 'base64', got ${JSON.stringify(format)}.`,
      'invalid_request_error',
      'encoding_format',
      'invalid_value',
    )
  const dims = body.dimensions ?? 8
  if (!(typeof dims === 'number' && Number.isInteger(dims) && dims >= 1 && dims <= 4096))
    return sendError(
      res,
      400,
      `Invalid 'dimensions': expected an integer between 1 and 4096, got ${JSON.stringify(dims)}.`,
      'invalid_request_error',
      'dimensions',
      'invalid_value',
    )
  let tokens = 0
  const data = inputs.map((input, index) => {
    tokens += input.tokens
    const vector = embed(input.text, dims)
    return { object: 'embedding', index, embedding: format === 'base64' ? toBase64(vector) : vector }
  })
  return respondJson(call, {
    object: 'list',
    data,
    model: body.model,
    ...(call.sc.noUsage ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
  })
}

// A successful JSON answer, honouring the faults that apply to non-streaming responses.
export function respondJson(call: Call, payload: unknown) {
  const { res, sc, state, latencyMs } = call
  if (sc.cut !== undefined) {
    state.cutByUs = true
    res.destroy()
    return
  }
  if (sc.hangBody) {
    const text = JSON.stringify(payload)
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId() })
    res.write(text.slice(0, Math.floor(text.length / 2)))
    return // stall with half a body until the client goes away
  }
  sendJson(res, 200, payload, { 'openai-processing-ms': String(latencyMs + sc.delayMs) })
}

export function sendStatusError(res: ServerResponse, status: number, sc: Scenario) {
  const headers: Record<string, string> = {}
  if (status === 429) {
    const ms = sc.retryAfterMs ?? 50
    headers['retry-after-ms'] = String(ms)
    headers['retry-after'] = String(sc.retryAfterMs === undefined ? 0 : Math.ceil(ms / 1000))
  }
  const e = errorFor(status)
  sendError(res, status, e.message, e.type, null, e.code, headers)
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  headers: Record<string, string> = {},
) {
  sendJson(res, status, { error: { message, type, param, code } }, headers)
}

function errorFor(status: number): { message: string; type: string; code: string | null } {
  switch (status) {
    case 400:
      return { message: 'Invalid request (mock status 400).', type: 'invalid_request_error', code: null }
    case 401:
      return {
        message:
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      }
    case 403:
      return {
        message: 'You are not allowed to access this resource.',
        type: 'invalid_request_error',
        code: null,
      }
    case 404:
      return {
        message: 'The model does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        code: 'model_not_found',
      }
    case 429:
      return {
        message: 'Rate limit reached for requests (mock). Please try again shortly.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      }
    case 500:
      return {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        code: null,
      }
    case 503:
      return {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: null,
      }
    default:
      return status >= 500
        ? { message: `Upstream error (mock status ${status}).`, type: 'server_error', code: null }
        : { message: `Request failed (mock status ${status}).`, type: 'invalid_request_error', code: null }
  }
}

function promptTokens(messages: unknown[]) {
  let total = 0
  for (const msg of messages) {
    let chars = 0
    const content = isObject(msg) ? msg.content : undefined
    if (typeof content === 'string') chars = content.length
    else if (Array.isArray(content))
      for (const part of content)
        if (isObject(part) && typeof part.text === 'string') chars += part.text.length
    total += Math.ceil(chars / 4) + 3
  }
  return total
}

function makeUsage(prompt: number, completion: number, cached = 0) {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: Math.min(cached, prompt), audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

// string | string[] | number[] | number[][] -> [{ text, tokens }], or null when invalid or empty.
function normalizeInput(input: unknown): { text: string; tokens: number }[] | null {
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)
  const one = (v: unknown) => {
    if (typeof v === 'string' && v.length > 0)
      return { text: v, tokens: Math.max(1, Math.ceil(v.length / 4)) }
    if (isTokens(v)) return { text: v.join(','), tokens: v.length }
    return null
  }
  if (!Array.isArray(input) || isTokens(input)) {
    const r = one(input)
    return r ? [r] : null
  }
  if (input.length === 0 || input.length > 2048) return null
  const out = input.map(one)
  return out.every((r) => r !== null) ? (out as { text: string; tokens: number }[]) : null
}

// Deterministic unit vector derived from the text; values are float32-exact so the float and base64 encodings
// decode to the same numbers.
function embed(text: string, dims: number): number[] {
  const raw: number[] = []
  for (let block = 0; raw.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest()
    for (let i = 0; i + 4 <= digest.length && raw.length < dims; i += 4)
      raw.push(digest.readUInt32LE(i) / 2 ** 31 - 1)
  }
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0)) || 1
  return raw.map((x) => Math.fround(x / norm))
}

function toBase64(vector: number[]) {
  const buf = Buffer.alloc(vector.length * 4)
  vector.forEach((x, i) => buf.writeFloatLE(x, i * 4))
  return buf.toString('base64')
}
