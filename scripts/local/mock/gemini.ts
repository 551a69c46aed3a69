// The Gemini API mock: POST /{v1beta,v1}/models/<m>:generateContent, :streamGenerateContent (alt=sse
// required; events framed with \r\n\r\n, no terminator) and :batchEmbedContents, Google's error shape, and
// the API's rules: the key in x-goog-api-key (never ?key=; a missing or "invalid" key is a 400
// API_KEY_INVALID), alternating user/model contents, one functionResponse per functionCall, and a thought
// signature on the first call of each model turn for gemini-3* models. Scenario parts: tools, splittools,
// thinking, cache, maxtokens, safety, blocked, errorafter<N>, nofinish, embedusage. :countTokens takes
// `contents` or a whole `generateContentRequest` (whose `model` must then be `models/<m>`), never both.
import { createHash } from 'node:crypto'
import type { Call, ProtocolMock } from './call.ts'
import { isObject, sendJson, wait, type Json } from './http.ts'

const PATH =
  /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|countTokens)$/
const WORDS = ['Hello', ' from', ' mock', ' Gemini', '.']
const GEMINI_CACHE_USAGE = { prompt: 1107, cached: 1024, toolUse: 20, candidates: 31, thoughts: 148 }

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

function sendGoogleError(call: Call, code: number, message: string, details: Json[] = []) {
  const status = STATUS[code] ?? (code >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT')
  sendJson(call.res, code, { error: { code, message, status, details } })
}

const invalidKey = (call: Call) =>
  sendGoogleError(call, 400, 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
    },
  ])

export const geminiMock: ProtocolMock = {
  owns: (apiPath, method) => method === 'POST' && PATH.test(apiPath),
  handle,
  sendStatus: (call, status) =>
    sendGoogleError(
      call,
      status,
      `Mock status ${status}.`,
      status === 429 ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] : [],
    ),
}

function checkContents(body: Json, model: string): string | null {
  const contents = body.contents
  if (!Array.isArray(contents) || contents.length === 0)
    return '* GenerateContentRequest.contents: contents is not specified'
  let previous: Json | null = null
  for (let i = 0; i < contents.length; i++) {
    const c: unknown = contents[i]
    // The role may be left out of a single-turn request (the API reads it as the user's).
    if (isObject(c) && c.role === undefined && contents.length === 1) c.role = 'user'
    if (!isObject(c) || (c.role !== 'user' && c.role !== 'model'))
      return `* GenerateContentRequest.contents[${i}].role: must be "user" or "model"`
    const parts = Array.isArray(c.parts) ? (c.parts as Json[]) : []
    if (parts.length === 0)
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty`
    if (previous?.role === c.role)
      return 'Please ensure that multiturn requests alternate between user and model.'
    const calls = parts.filter((p) => p.functionCall)
    if (calls.length && previous?.role !== 'user')
      return 'Please ensure that function call turn comes immediately after a user turn or after a function response turn.'
    if (
      calls.length &&
      model.startsWith('gemini-3') &&
      typeof parts.find((p) => p.functionCall)?.thoughtSignature !== 'string'
    )
      return `Function call is missing a thought_signature in functionCall parts (contents[${i}]).`
    const responses = parts.filter((p) => p.functionResponse)
    if (responses.length) {
      const asked = ((previous?.parts as Json[] | undefined) ?? []).filter((p) => p.functionCall).length
      if (asked !== responses.length)
        return 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.'
    }
    previous = c
  }
  return null
}

async function handle(call: Call) {
  const { req, body, parseError, apiPath } = call
  if (call.query.get('key') !== undefined)
    return sendGoogleError(call, 400, 'API keys go in x-goog-api-key (mock rule).')
  const key = req.headers['x-goog-api-key']
  if (!key || key === 'invalid' || call.sc.parts.includes('badkey')) return invalidKey(call)
  if (parseError || !isObject(body)) return sendGoogleError(call, 400, 'Invalid JSON payload received.')
  const [, model = '', method] = PATH.exec(apiPath) ?? []
  if (method === 'batchEmbedContents') return embed(call, body, model)
  if (method === 'countTokens') return count(call, body, model)
  if (method === 'streamGenerateContent' && call.query.get('alt') !== 'sse')
    return sendGoogleError(call, 400, 'This mock streams only with alt=sse.')
  const problem = checkContents(body, model)
  if (problem) return sendGoogleError(call, 400, problem)
  const events = eventsFor(call, body, model)
  if (method === 'generateContent') return sendJson(call.res, 200, merge(events))
  await stream(call, events)
}

function promptTokens(body: Json) {
  return Math.ceil(JSON.stringify([body.systemInstruction ?? '', body.contents, body.tools ?? []]).length / 4)
}

// The reply as the stream's events; generateContent answers with them merged.
function eventsFor(call: Call, body: Json, model: string): Json[] {
  const has = (p: string) => call.sc.parts.includes(p)
  const config = isObject(body.generationConfig) ? body.generationConfig : {}
  const max = typeof config.maxOutputTokens === 'number' ? config.maxOutputTokens : Infinity
  let words = WORDS.slice(0, Math.min(WORDS.length, call.sc.chunks))
  let finish = 'STOP'
  if (has('maxtokens') || max < words.length) {
    words = words.slice(0, Math.min(words.length, max))
    finish = 'MAX_TOKENS'
  }
  if (has('safety')) finish = 'SAFETY'
  const prompt = has('cache') ? GEMINI_CACHE_USAGE.prompt : promptTokens(body)
  const thoughts = has('thinking') || has('cache') ? GEMINI_CACHE_USAGE.thoughts : 0
  const usage = (candidates: number): Json => ({
    promptTokenCount: prompt,
    ...(has('cache')
      ? {
          cachedContentTokenCount: GEMINI_CACHE_USAGE.cached,
          toolUsePromptTokenCount: GEMINI_CACHE_USAGE.toolUse,
        }
      : {}),
    candidatesTokenCount: has('cache') ? GEMINI_CACHE_USAGE.candidates : candidates,
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
    totalTokenCount:
      prompt +
      (has('cache') ? GEMINI_CACHE_USAGE.toolUse + GEMINI_CACHE_USAGE.candidates : candidates) +
      thoughts,
  })
  const event = (parts: Json[], n: number, finishReason?: string): Json => ({
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(finishReason ? { finishReason } : {}) }],
    usageMetadata: usage(n),
    modelVersion: model,
    responseId: 'resp-mock-1',
  })
  const weather = (city: string, signature?: string): Json => ({
    functionCall: { name: 'get_weather', args: { city } },
    ...(signature ? { thoughtSignature: signature } : {}),
  })
  if (has('splittools'))
    return [
      event([weather('Paris', 'sig-A')], 5),
      event([weather('Rome')], 10),
      event([{ text: '' }], 10, 'STOP'),
    ]
  if (has('tools'))
    return [event([{ text: 'Checking.' }, weather('Paris', 'sig-A'), weather('Rome')], 10, 'STOP')]
  if (has('blocked'))
    return [
      {
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt },
      },
    ]
  const out: Json[] = []
  if (thoughts) out.push(event([{ text: 'Thinking it over.', thought: true }], 0))
  words.forEach((w, i) =>
    out.push(event([{ text: w }], i + 1, i === words.length - 1 && !has('nofinish') ? finish : undefined)),
  )
  if (words.length === 0) out.push(event([], 0, finish))
  return out
}

function merge(events: Json[]): Json {
  const parts: Json[] = []
  let last: Json = {}
  for (const e of events) {
    const c = ((e.candidates as Json[] | undefined) ?? [])[0]
    for (const p of ((c?.content as Json | undefined)?.parts as Json[] | undefined) ?? []) {
      const prev = parts.at(-1)
      if (typeof p.text === 'string' && typeof prev?.text === 'string' && !p.thought && !prev.thought)
        prev.text += p.text
      else parts.push({ ...p })
    }
    last = e
  }
  if (!last.candidates) return last
  const c = (last.candidates as Json[])[0]!
  return {
    ...last,
    candidates: [
      { ...c, content: { role: 'model', parts: parts.filter((p) => p.text !== '' || !('text' in p)) } },
    ],
  }
}

async function stream(call: Call, events: Json[]) {
  const { res, sc } = call
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const errorAfter = sc.parts.map((p) => /^errorafter(\d+)$/.exec(p)).find(Boolean)
  for (const [i, e] of events.entries()) {
    await wait(res, sc.gapMs)
    if (res.destroyed) return
    if (errorAfter && i >= Number(errorAfter[1]))
      return void res.end(
        `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
      )
    if (sc.cut !== undefined && i >= sc.cut) {
      call.state.cutByUs = true
      return void res.destroy()
    }
    res.write(`data: ${JSON.stringify(e)}\r\n\r\n`)
  }
  if (!res.destroyed) res.end()
}

function vector(text: string, dims: number): number[] {
  const out: number[] = []
  for (let block = 0; out.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest()
    for (let i = 0; i + 4 <= digest.length && out.length < dims; i += 4)
      out.push(Math.fround(digest.readUInt32LE(i) / 2 ** 32 - 0.5))
  }
  return out
}

function embed(call: Call, body: Json, model: string) {
  const requests = body.requests
  if (!Array.isArray(requests) || requests.length === 0)
    return sendGoogleError(call, 400, '* BatchEmbedContentsRequest.requests: must not be empty')
  let tokens = 0
  const embeddings: Json[] = []
  for (const [i, r] of requests.entries()) {
    if (!isObject(r) || r.model !== `models/${model}`)
      return sendGoogleError(
        call,
        400,
        `* BatchEmbedContentsRequest.requests[${i}].model: must be models/${model}`,
      )
    const text = ((isObject(r.content) ? (r.content.parts as Json[]) : []) ?? [])
      .map((p) => String(p.text ?? ''))
      .join('')
    tokens += Math.max(1, Math.ceil(text.length / 4))
    embeddings.push({
      values: vector(text, typeof r.outputDimensionality === 'number' ? r.outputDimensionality : 8),
    })
  }
  sendJson(call.res, 200, {
    embeddings,
    ...(call.sc.parts.includes('embedusage') ? { usageMetadata: { promptTokenCount: tokens } } : {}),
  })
}

function count(call: Call, body: Json, model: string) {
  const inner = body.generateContentRequest
  if (inner !== undefined && body.contents !== undefined)
    return sendGoogleError(call, 400, 'Only one of contents or generateContentRequest may be set.')
  if (inner !== undefined && (!isObject(inner) || inner.model !== `models/${model}`))
    return sendGoogleError(
      call,
      400,
      `* CountTokensRequest.generate_content_request.model: must be models/${model}`,
    )
  const request = isObject(inner) ? inner : body
  const problem = checkContents(request, model)
  if (problem) return sendGoogleError(call, 400, problem)
  sendJson(call.res, 200, { totalTokens: promptTokens(request) })
}
