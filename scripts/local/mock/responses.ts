// The OpenAI Responses mock: POST /v1/responses (JSON, or SSE with an `event:` line per event and
// sequence numbers), GET and DELETE /v1/responses/<id>. Responses are stored per scenario, as an upstream
// organisation stores them: a previous_response_id from another scenario (another provider) is unknown
// here, exactly as it would be at another provider. Without previous_response_id, a function_call_output
// must answer a function_call earlier in the input.
import { randomBytes } from 'node:crypto'
import type { Call, ProtocolMock } from './call.ts'
import { isObject, requestId, sendJson, wait, type Json } from './http.ts'
import { sendError, sendStatusError } from './openai.ts'
import { responsesCached } from './prompt-cache.ts'

const TEXT = 'Hello from mock upstream.'
const PIECES = ['Hello', ' from', ' mock', ' upstream', '.']
const stores = new Map<string, Map<string, Json>>()

function storeOf(call: Call): Map<string, Json> {
  const scenario = /^\/s\/([^/]+)\//.exec(call.req.url ?? '')?.[1] ?? 'default'
  let store = stores.get(scenario)
  if (!store) stores.set(scenario, (store = new Map()))
  return store
}

export const responsesMock: ProtocolMock = {
  owns: (apiPath, method) =>
    (method === 'POST' && apiPath === '/v1/responses') ||
    ((method === 'GET' || method === 'DELETE') && /^\/v1\/responses\/[^/]+$/.test(apiPath)),
  handle,
  sendStatus: (call, status) => sendStatusError(call.res, status, call.sc),
}

function handle(call: Call) {
  const { apiPath, method, res } = call
  if (method === 'POST') return create(call)
  const id = apiPath.slice('/v1/responses/'.length)
  const store = storeOf(call)
  const found = store.get(id)
  if (!found)
    return sendError(
      res,
      404,
      `Response with id '${id}' not found.`,
      'invalid_request_error',
      null,
      'not_found',
    )
  if (method === 'DELETE') {
    store.delete(id)
    return sendJson(res, 200, { id, object: 'response.deleted', deleted: true })
  }
  return sendJson(res, 200, found)
}

function inputChars(body: Json): number {
  const text = (v: unknown): string =>
    typeof v === 'string'
      ? v
      : Array.isArray(v)
        ? v.map((p) => (isObject(p) ? text(p.text ?? p.content) : '')).join('')
        : ''
  return (typeof body.instructions === 'string' ? body.instructions.length : 0) + text(body.input).length
}

// Without previous_response_id the history is the input itself (Codex's store: false): a tool output must
// answer a function call earlier in it, as the real API demands.
function orphanOutput(input: unknown): string | null {
  const called = new Set<string>()
  for (const item of Array.isArray(input) ? input : []) {
    if (!isObject(item)) continue
    if (item.type === 'function_call' || item.type === 'custom_tool_call') called.add(String(item.call_id))
    if (
      (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') &&
      !called.has(String(item.call_id))
    )
      return String(item.call_id)
  }
  return null
}

async function create(call: Call): Promise<void> {
  const { res, body, parseError } = call
  if (parseError || !isObject(body))
    return sendError(res, 400, 'The request body must be a JSON object.', 'invalid_request_error')
  if (typeof body.model !== 'string' || !body.model)
    return sendError(
      res,
      400,
      "Missing required parameter: 'model'.",
      'invalid_request_error',
      'model',
      'missing_required_parameter',
    )
  if (body.input === undefined)
    return sendError(
      res,
      400,
      "Missing required parameter: 'input'.",
      'invalid_request_error',
      'input',
      'missing_required_parameter',
    )
  const store = storeOf(call)
  const previous = body.previous_response_id
  if (previous !== undefined && previous !== null && !store.has(String(previous)))
    return sendError(
      res,
      400,
      `Previous response with id '${String(previous)}' not found.`,
      'invalid_request_error',
      'previous_response_id',
      'previous_response_not_found',
    )
  const orphan = previous ? null : orphanOutput(body.input)
  if (orphan !== null)
    return sendError(
      res,
      400,
      `No tool call found for function call output with call_id ${orphan}.`,
      'invalid_request_error',
      'input',
    )
  const id = `resp_${randomBytes(12).toString('hex')}`
  const inputTokens = Math.ceil(inputChars(body) / 4) + 7
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: {
      cached_tokens: Math.min(
        inputTokens,
        responsesCached(call.scenario, call.req.headers.authorization, body),
      ),
    },
    output_tokens: PIECES.length,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + PIECES.length,
  }
  const message = {
    id: `msg_${randomBytes(8).toString('hex')}`,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: TEXT, annotations: [] }],
  }
  const base = {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    model: body.model,
    instructions: body.instructions ?? null,
    previous_response_id: previous ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    tools: [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    temperature: 1,
    top_p: 1,
    text: { format: { type: 'text' } },
    truncation: 'disabled',
    metadata: {},
    error: null,
    incomplete_details: null,
  }
  const done = { ...base, status: 'completed', output: [message], output_text: TEXT, usage }
  if (body.store !== false) store.set(id, done)
  if (body.stream !== true) return sendJson(res, 200, done, { 'x-request-id': requestId() })

  let seq = 0
  const send = (type: string, data: Json) => {
    if (!res.destroyed)
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data, sequence_number: seq++ })}\n\n`)
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': requestId() })
  const pending = { ...base, status: 'in_progress', output: [], usage: null }
  send('response.created', { response: pending })
  send('response.in_progress', { response: pending })
  const item = { ...message, status: 'in_progress', content: [] }
  send('response.output_item.added', { output_index: 0, item })
  send('response.content_part.added', {
    item_id: message.id,
    output_index: 0,
    content_index: 0,
    part: { type: 'output_text', text: '', annotations: [] },
  })
  for (const [i, piece] of PIECES.entries()) {
    // Let what was written reach the socket first: a cut must come after the events before it.
    await wait(res, call.sc.gapMs)
    if (res.destroyed) return
    if (call.sc.cut !== undefined && i >= call.sc.cut) {
      call.state.cutByUs = true
      res.destroy()
      return
    }
    send('response.output_text.delta', {
      item_id: message.id,
      output_index: 0,
      content_index: 0,
      delta: piece,
      logprobs: [],
    })
  }
  send('response.output_text.done', {
    item_id: message.id,
    output_index: 0,
    content_index: 0,
    text: TEXT,
    logprobs: [],
  })
  send('response.content_part.done', {
    item_id: message.id,
    output_index: 0,
    content_index: 0,
    part: message.content[0],
  })
  send('response.output_item.done', { output_index: 0, item: message })
  send('response.completed', { response: done })
  res.end()
}
