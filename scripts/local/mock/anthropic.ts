// The Anthropic Messages mock: POST /v1/messages (JSON or SSE with `event:` lines), Anthropic's error shape,
// and the API's request rules (anthropic-rules.ts). Scenario parts pick the reply: tools, noargs, cache,
// thinking, maxtokens, stopseq, refusal, overwrite (message_delta restates input_tokens), errorafter<N>
// (an `event: error` after N text deltas), spendlimit (429 with a spend-limit error_code).
import { randomBytes } from 'node:crypto'
import type { Call, ProtocolMock } from './call.ts'
import { isObject, requestId, sendJson, wait, type Json } from './http.ts'
import { checkMessagesRequest } from './anthropic-rules.ts'
import { anthropicCache } from './prompt-cache.ts'

const WORDS = ['Hello', ' from', ' mock', ' Claude', '.']
// The fixed numbers of the `cache` scenario (docs/providers.md, appendix A13).
const CACHE_USAGE = { input: 31, write5m: 1000, write1h: 200, read: 8000 }

const ERRORS: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request (mock status 400).'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'model: not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
}

export function sendAnthropicError(call: Call, status: number, message?: string, errorCode?: string) {
  const [type, text] =
    ERRORS[status] ??
    (status >= 500 ? ['api_error', 'Internal server error'] : ['invalid_request_error', 'Bad request'])
  const headers: Record<string, string> = { 'request-id': requestId() }
  if (status === 429 || status === 529)
    headers['retry-after'] = String(Math.ceil((call.sc.retryAfterMs ?? 0) / 1000))
  const error: Json = { type, message: message ?? text }
  if (errorCode) error.details = { error_code: errorCode }
  sendJson(call.res, status, { type: 'error', error, request_id: headers['request-id'] }, headers)
}

export const anthropicMock: ProtocolMock = {
  owns: (apiPath, method) => method === 'POST' && apiPath === '/v1/messages',
  handle: messages,
  sendStatus: (call, status) => sendAnthropicError(call, status),
}

function inputTokens(body: Json): number {
  const text = JSON.stringify([body.system ?? '', body.messages, body.tools ?? []])
  return Math.ceil(text.length / 4)
}

type Reply = { content: Json[]; stop: string; usage: Json; textPieces: string[] }

function replyFor(call: Call, body: Json): Reply {
  const has = (part: string) => call.sc.parts.includes(part)
  const max = body.max_tokens as number
  let pieces = WORDS.slice(0, Math.min(WORDS.length, call.sc.chunks))
  let stop = 'end_turn'
  if (has('maxtokens') || max < pieces.length) {
    pieces = pieces.slice(0, Math.min(max, pieces.length))
    stop = 'max_tokens'
  }
  if (has('stopseq')) stop = 'stop_sequence'
  if (has('refusal')) stop = 'refusal'
  const content: Json[] = []
  let thinkingTokens = 0
  if (has('thinking')) {
    content.push({ type: 'thinking', thinking: 'Let me think.', signature: 'EqQBmock' })
    thinkingTokens = 40
  }
  if (!has('noargs')) content.push({ type: 'text', text: pieces.join('') })
  if (has('tools')) {
    content.push({ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } })
    content.push({ type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: { city: 'Rome' } })
    stop = 'tool_use'
  }
  if (has('noargs')) {
    content.push({ type: 'tool_use', id: 'toolu_01C', name: 'get_time', input: {} })
    stop = 'tool_use'
  }
  // The `cache` scenario's fixed numbers, or what this key's prompt cache holds for the request.
  const cache = has('cache')
    ? {
        ...CACHE_USAGE,
        total: CACHE_USAGE.input + CACHE_USAGE.write5m + CACHE_USAGE.write1h + CACHE_USAGE.read,
      }
    : anthropicCache(call.scenario, String(call.req.headers['x-api-key']), body)
  const total = cache.total ?? inputTokens(body)
  const usage: Json = {
    input_tokens: Math.max(0, total - cache.read - cache.write5m - cache.write1h),
    cache_creation_input_tokens: cache.write5m + cache.write1h,
    cache_read_input_tokens: cache.read,
    cache_creation: {
      ephemeral_5m_input_tokens: cache.write5m,
      ephemeral_1h_input_tokens: cache.write1h,
    },
    output_tokens: pieces.length + thinkingTokens + (content.length - 1) * 10,
    ...(thinkingTokens ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}),
    service_tier: 'standard',
  }
  return { content, stop, usage, textPieces: has('noargs') ? [] : pieces }
}

async function messages(call: Call) {
  const { req, res, body, parseError } = call
  if (!req.headers['x-api-key']) return sendAnthropicError(call, 401, 'x-api-key header is required')
  const version = req.headers['anthropic-version']
  if (typeof version !== 'string' || version === '')
    return sendAnthropicError(call, 400, 'anthropic-version: header is required')
  if (parseError || !isObject(body))
    return sendAnthropicError(call, 400, 'The request body is not valid JSON.')
  const problem = checkMessagesRequest(body, version)
  if (problem) return sendAnthropicError(call, 400, problem)
  if (call.sc.parts.includes('spendlimit'))
    return sendAnthropicError(
      call,
      429,
      'You have reached your specified spend limit.',
      'enforced_spend_limit_reached',
    )
  const reply = replyFor(call, body)
  const id = `msg_${randomBytes(12).toString('hex')}`
  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content: reply.content,
    stop_reason: reply.stop,
    stop_sequence: reply.stop === 'stop_sequence' ? 'END' : null,
    stop_details: reply.stop === 'refusal' ? { type: 'refusal', explanation: 'Declined by the mock.' } : null,
    usage: reply.usage,
  }
  if (body.stream !== true) {
    if (call.sc.cut !== undefined) {
      call.state.cutByUs = true
      return void res.destroy()
    }
    return sendJson(res, 200, message, { 'request-id': requestId() })
  }
  await streamMessage(call, message, reply)
}

async function streamMessage(call: Call, message: Json, reply: Reply) {
  const { res, sc } = call
  const send = async (type: string, data: Json) => {
    await wait(res, sc.gapMs)
    if (!res.destroyed) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': requestId(),
  })
  const usage = reply.usage
  const startUsage = { ...usage, output_tokens: 1 }
  await send('message_start', {
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: startUsage },
  })
  if (sc.hangBody) return
  const errorAfter = sc.parts.map((p) => /^errorafter(\d+)$/.exec(p)).find(Boolean)
  let deltas = 0
  for (const [index, block] of reply.content.entries()) {
    if (block.type === 'text') {
      await send('content_block_start', { index, content_block: { type: 'text', text: '' } })
      await send('ping', {})
      for (const text of reply.textPieces) {
        if (sc.cut !== undefined && deltas >= sc.cut) {
          call.state.cutByUs = true
          return void res.destroy()
        }
        if (errorAfter && deltas >= Number(errorAfter[1]))
          return void res.end(
            `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`,
          )
        await send('content_block_delta', { index, delta: { type: 'text_delta', text } })
        deltas++
      }
    } else if (block.type === 'tool_use') {
      await send('content_block_start', { index, content_block: { ...block, input: {} } })
      const json = JSON.stringify(block.input)
      if (json !== '{}') {
        // Fragments as the API sends them: an empty one first, then pieces that are not JSON alone.
        const cut = Math.ceil(json.length / 3)
        for (const partial_json of ['', json.slice(0, cut), json.slice(cut, 2 * cut), json.slice(2 * cut)])
          await send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } })
      }
    } else if (block.type === 'thinking') {
      await send('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      })
      await send('content_block_delta', {
        index,
        delta: { type: 'thinking_delta', thinking: block.thinking },
      })
      await send('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: block.signature },
      })
    }
    await send('content_block_stop', { index })
  }
  if (sc.cut !== undefined) {
    call.state.cutByUs = true
    return void res.destroy()
  }
  const overwrite = sc.parts.includes('overwrite')
  await send('message_delta', {
    delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
    usage: {
      output_tokens: usage.output_tokens,
      ...(overwrite ? { input_tokens: (usage.input_tokens as number) + 9 } : {}),
      ...(usage.output_tokens_details ? { output_tokens_details: usage.output_tokens_details } : {}),
    },
  })
  await send('message_stop', {})
  if (!res.destroyed) res.end()
}
