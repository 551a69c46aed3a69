import { describe, expect, it } from 'vitest'
import { anthropicRenderer } from '../../../src/protocols/anthropic/errors'
import type { Rendered } from '../../../src/protocols/renderers'
import { stopReason, toAnthropicMessage } from '../../../src/protocols/anthropic/reply'
import { anthropicEncoder } from '../../../src/protocols/anthropic/stream'
import { GatewayError, refusal } from '../../../src/errors'
import chunks from '../../fixtures/openai/chat-chunks-parallel-tools.json'
import completion from '../../fixtures/openai/chat-completion-tool-call.json'

// OpenAI replies and chunks → what an Anthropic client gets (docs/providers.md §3.5, §3.6), from a
// recorded OpenAI completion with a tool call and a recorded stream whose two parallel tool calls
// interleave their argument fragments (as OpenAI-compatible upstreams do; Anthropic never does).
type Json = Record<string, unknown>

// A rendered error as the app sends it (onError writes it through Hono's c.json).
const asResponse = (r: Rendered) => Response.json(r.body, { status: r.status, headers: r.headers })

// The events of an encoded stream, each checked for its `event:` line (both Anthropic SDKs drop events
// without one) and a `data` of the same type.
function events(text: string): Json[] {
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const match = /^event: (\w+)\ndata: (.*)$/s.exec(block)
      if (!match) throw new Error(`not an Anthropic event: ${block}`)
      const data = JSON.parse(match[2]!) as Json
      expect(data.type).toBe(match[1])
      return data
    })
}

describe('OpenAI chunks → Anthropic Messages events (anthropicEncoder)', () => {
  it('encodes the recorded parallel-tool stream: text block, then each tool whole, in index order', () => {
    const encoder = anthropicEncoder('claude-sonnet-5-5', 910)
    const text = chunks.map((json) => encoder.chunk({ json })).join('') + encoder.done()
    const out = events(text)
    expect(out[0]).toMatchObject({
      type: 'message_start',
      message: {
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-5-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 910, output_tokens: 0 },
      },
    })
    expect((out[0]!.message as Json).id).toMatch(/^msg_gw_[a-zA-Z0-9]+$/)
    expect(out.slice(1)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking.' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"city":"Oslo"}' },
      },
      { type: 'content_block_stop', index: 1 },
      {
        type: 'content_block_start',
        index: 2,
        // An id outside [a-zA-Z0-9_-] is made valid, as the request side does.
        content_block: { type: 'tool_use', id: 'functions_get_time_1_b172', name: 'get_time', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{"tz":"CET"}' },
      },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: {
          input_tokens: 20,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 900,
          output_tokens: 42,
        },
      },
      { type: 'message_stop' },
    ])
  })

  it('an upstream that sends nothing still yields a whole message, with the estimate as input', () => {
    const encoder = anthropicEncoder('m', 12)
    expect(events(encoder.done()).map((e) => e.type)).toEqual([
      'message_start',
      'message_delta',
      'message_stop',
    ])
    const fresh = anthropicEncoder('m', 12)
    expect(events(fresh.done())[1]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 0,
      },
    })
  })

  it('a refusal is text with stop_reason refusal; a tool without arguments gets "{}"', () => {
    const encoder = anthropicEncoder('m', 1)
    const text =
      encoder.chunk({ json: { choices: [{ index: 0, delta: { refusal: 'I cannot help with that.' } }] } }) +
      encoder.chunk({
        json: {
          choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 't', function: { name: 'now' } }] } }],
        },
      }) +
      encoder.chunk({ json: { choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }] } }) +
      encoder.done()
    const out = events(text)
    expect(out[2]).toMatchObject({ delta: { type: 'text_delta', text: 'I cannot help with that.' } })
    expect(out.find((e) => (e.delta as Json | undefined)?.type === 'input_json_delta')).toMatchObject({
      delta: { partial_json: '{}' },
    })
    expect(out.at(-2)).toMatchObject({ delta: { stop_reason: 'refusal' } })
  })

  it.each([
    ['upstream_error', 'api_error'],
    ['idle_timeout', 'timeout_error'],
  ] as const)('a failure (%s) is an error event of type %s, and no message_stop', (end, type) => {
    expect(events(anthropicEncoder('m', 1).error('The upstream failed.', end))).toEqual([
      { type: 'error', error: { type, message: 'The upstream failed.' } },
    ])
  })
})

describe('OpenAI chat.completion → Anthropic Message (toAnthropicMessage)', () => {
  const translate = (c: unknown, estimate = 0) =>
    JSON.parse(toAnthropicMessage(JSON.stringify(c), 'claude-sonnet-5-5', estimate)) as Json

  it('translates the recorded completion: text, the tool call with a valid id, stop reason and usage', () => {
    const { id, ...message } = translate(completion)
    expect(id).toMatch(/^msg_gw_[a-zA-Z0-9]+$/)
    expect(message).toEqual({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-5-5',
      content: [
        { type: 'text', text: 'Checking.' },
        // `functions.get_weather:0` would break the next turn replayed to an Anthropic target.
        {
          type: 'tool_use',
          id: 'functions_get_weather_0_2298',
          name: 'get_weather',
          input: { city: 'Oslo' },
        },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      stop_details: null,
      container: null,
      usage: {
        input_tokens: 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 900,
        output_tokens: 42,
      },
    })
  })

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
    ['something_new', 'end_turn'],
  ])('finish_reason %s → stop_reason %s', (finish, stop) => expect(stopReason(finish)).toBe(stop))

  it('a refusal is a text block with stop_details; unparsable arguments become {}; no usage gives the estimate', () => {
    const refused = translate(
      { choices: [{ message: { content: null, refusal: 'No.' }, finish_reason: 'stop' }] },
      33,
    )
    expect(refused).toMatchObject({
      content: [{ type: 'text', text: 'No.' }],
      stop_reason: 'refusal',
      stop_details: { type: 'refusal', category: null, explanation: null },
      usage: {
        input_tokens: 33,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 0,
      },
    })
    const broken = translate({
      choices: [
        {
          message: { tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{city' } }] },
          finish_reason: 'tool_calls',
        },
      ],
    })
    expect(broken.content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }])
  })
})

describe('Errors in Anthropic’s shape', () => {
  it.each([
    ['invalid_request_error', 400, 'invalid_request_error', undefined],
    ['invalid_api_key', 401, 'authentication_error', undefined],
    ['model_not_allowed', 403, 'permission_error', undefined],
    ['model_not_found', 404, 'not_found_error', undefined],
    ['request_too_large', 413, 'request_too_large', undefined],
    ['rate_limit_exceeded', 429, 'rate_limit_error', 'rate_limit_reached'],
    ['insufficient_quota', 429, 'rate_limit_error', 'enforced_spend_limit_reached'],
    ['upstream_error', 502, 'api_error', undefined],
    ['upstream_timeout', 504, 'timeout_error', undefined],
    ['service_unavailable', 529, 'overloaded_error', undefined],
  ] as const)('%s → %i %s', async (code, status, type, errorCode) => {
    const res = asResponse(
      anthropicRenderer(
        new GatewayError({ code, message: 'Nope.', headers: { 'retry-after': '3' } }),
        'req_1',
      ),
    )
    expect(res.status).toBe(status)
    expect(res.headers.get('request-id')).toBe('req_1')
    expect(res.headers.get('retry-after')).toBe('3')
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type, message: 'Nope.', ...(errorCode ? { details: { error_code: errorCode } } : {}) },
      request_id: 'req_1',
    })
  })

  it.each([
    [400, 'invalid_request_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [422, 'invalid_request_error'],
  ])('an upstream’s own %i is relayed as %s', async (status, type) => {
    const error = {
      message: 'Upstream rejected the request: bad',
      type: 'invalid_request_error',
      param: null,
      code: null,
    }
    const res = asResponse(anthropicRenderer(refusal(status, error), 'req_2'))
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type, message: 'Upstream rejected the request: bad' },
      request_id: 'req_2',
    })
  })
})
