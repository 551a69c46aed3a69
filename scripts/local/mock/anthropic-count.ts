// Anthropic's POST /v1/messages/count_tokens: {"input_tokens": N} for a body of model + messages (+ system,
// tools), counted as the Messages mock counts input (a quarter of the JSON's characters).
import type { Call, ProtocolMock } from './call.ts'
import { isObject, sendJson } from './http.ts'
import { sendAnthropicError } from './anthropic.ts'

export const anthropicCountMock: ProtocolMock = {
  owns: (apiPath, method) => method === 'POST' && apiPath === '/v1/messages/count_tokens',
  handle(call: Call) {
    const { req, body } = call
    if (!req.headers['x-api-key']) return sendAnthropicError(call, 401, 'x-api-key header is required')
    if (!req.headers['anthropic-version'])
      return sendAnthropicError(call, 400, 'anthropic-version: header is required')
    if (!isObject(body) || typeof body.model !== 'string' || !Array.isArray(body.messages))
      return sendAnthropicError(call, 400, 'model and messages are required')
    const text = JSON.stringify([body.system ?? '', body.messages, body.tools ?? []])
    sendJson(call.res, 200, { input_tokens: Math.ceil(text.length / 4) })
  },
  sendStatus: (call, status) => sendAnthropicError(call, status),
}
