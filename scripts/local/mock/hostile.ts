// A hostile upstream that quotes the credential it received back to whoever called it, to prove the
// gateway removes the key it sent from everything it relays (issue 19 item 1). Scenario parts:
// - `echokey<CODE>` answers every request with CODE and an error whose message quotes the key;
//   `echokey<CODE>get` (or post, delete) only requests of that method, the others go on as usual.
// - `echokeystream`: a stream (POST with "stream": true) that quotes the key in its first content event
//   and then fails with the protocol's own mid-stream error event quoting it again.
// - `echokeyreply`: a non-streamed chat completion whose content quotes the key.
// The error body carries both OpenAI's and Anthropic's fields, so every adapter reads its message.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isObject, sendJson, type Json } from './http.ts'
import type { Scenario } from './scenario.ts'

function credentialOf(req: IncomingMessage): string {
  const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '')
  const header = (name: string) => {
    const value = req.headers[name]
    return Array.isArray(value) ? value.join(', ') : (value ?? '')
  }
  return bearer || header('x-api-key') || header('x-goog-api-key') || '(none)'
}

// True when the scenario made this a hostile answer (and it was sent).
export function answerHostile(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  apiPath: string,
  body: unknown,
  sc: Scenario,
): boolean {
  const key = credentialOf(req)
  for (const part of sc.parts) {
    const m = /^echokey(\d{3})(get|post|delete)?$/.exec(part)
    if (!m || (m[2] && m[2].toUpperCase() !== method)) continue
    const message = `Incorrect API key provided: ${key}. You can find your API key in your account.`
    sendJson(res, Number(m[1]), {
      type: 'error',
      error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    })
    return true
  }
  const streaming =
    method === 'POST' &&
    ((isObject(body) && body.stream === true) || apiPath.includes(':streamGenerateContent'))
  if (streaming && sc.parts.includes('echokeystream')) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
    res.end(failingStream(apiPath, key))
    return true
  }
  if (!streaming && sc.parts.includes('echokeyreply') && apiPath === '/v1/chat/completions') {
    sendJson(res, 200, {
      id: 'chatcmpl-hostile',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: isObject(body) ? body.model : null,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: `I was called with ${key}` },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
    })
    return true
  }
  return false
}

const data = (payload: Json, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(payload)}\n\n`

function failingStream(apiPath: string, key: string): string {
  const message = `Incorrect API key provided: ${key}`
  if (apiPath === '/v1/messages') {
    const usage = { input_tokens: 3, output_tokens: 1 }
    const start = { id: 'msg_hostile', type: 'message', role: 'assistant', content: [], model: 'm', usage }
    return [
      data({ type: 'message_start', message: start }, 'message_start'),
      data(
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        'content_block_start',
      ),
      data(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: key } },
        'content_block_delta',
      ),
      data({ type: 'error', error: { type: 'api_error', message } }, 'error'),
    ].join('')
  }
  if (apiPath === '/v1/responses') {
    const response = {
      id: 'resp_hostile',
      object: 'response',
      status: 'in_progress',
      output: [],
      usage: null,
    }
    return [
      data({ type: 'response.created', response, sequence_number: 0 }, 'response.created'),
      data(
        {
          type: 'response.output_text.delta',
          item_id: 'msg_h',
          output_index: 0,
          content_index: 0,
          delta: key,
          sequence_number: 1,
        },
        'response.output_text.delta',
      ),
      data({ type: 'error', code: 'server_error', message, param: null, sequence_number: 2 }, 'error'),
    ].join('')
  }
  if (apiPath.includes(':streamGenerateContent'))
    return [
      data({ candidates: [{ content: { role: 'model', parts: [{ text: key }] }, index: 0 }] }),
      data({ error: { code: 400, message, status: 'INVALID_ARGUMENT' } }),
    ].join('')
  const chunk = (delta: Json) => ({
    id: 'chatcmpl-hostile',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: null }],
  })
  return [
    data(chunk({ role: 'assistant', content: '' })),
    data(chunk({ content: `called with ${key}` })),
    data({ error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }),
  ].join('')
}
