import { describe, expect, it } from 'vitest'
import { classifyAnthropic } from '../../../src/upstream/providers/anthropic/errors'
import {
  decodeMessage,
  finishReason,
  usageFromAnthropic,
} from '../../../src/upstream/providers/anthropic/reply'
import { anthropicStream } from '../../../src/upstream/providers/anthropic/stream'
import errors from '../../fixtures/anthropic/errors.json'
import toolUse from '../../fixtures/anthropic/message-tool-use.json'

// Anthropic replies, errors and stream events → what the OpenAI client gets (docs/providers.md §1.4-§1.6),
// from a recorded Messages reply (thinking, text and tool_use blocks, cache usage split by TTL) and recorded
// error bodies.
type Json = Record<string, unknown>
const decode = (reply: unknown) => decodeMessage(JSON.stringify(reply), 'sonnet')

describe('Anthropic reply → OpenAI chat.completion', () => {
  it('translates the recorded tool-use reply: text joined, thinking hidden, tool calls, usage with cache buckets', () => {
    const decoded = decode(toolUse)
    if (!decoded.ok) throw new Error(decoded.message)
    const { created, ...reply } = JSON.parse(decoded.text) as Json
    expect(typeof created).toBe('number')
    expect(reply).toEqual({
      id: 'chatcmpl-msg_01X',
      object: 'chat.completion',
      model: 'sonnet',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Paris 21C, Rome 24C.',
            refusal: null,
            tool_calls: [
              {
                id: 'toolu_01A',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 9231,
        completion_tokens: 95,
        total_tokens: 9326,
        prompt_tokens_details: { cached_tokens: 8000, cache_write_tokens: 1200 },
        completion_tokens_details: { reasoning_tokens: 40 },
      },
    })
    expect(decoded.usage).toEqual({
      inputUncached: 31,
      cacheRead: 8000,
      cacheWrite5m: 1000,
      cacheWrite1h: 200,
      output: 95,
      reasoning: 40,
    })
    expect(decoded.outputText).toBe('Paris 21C, Rome 24C.')
  })

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['a_reason_from_the_future', 'stop'],
    [null, 'stop'],
  ])('stop_reason %s → finish_reason %s', (stop, finish) => expect(finishReason(stop)).toBe(finish))

  it('a refusal carries its explanation (or "refused"); tool calls alone leave content null; an empty reply is ""', () => {
    const refusal = (explanation: unknown) =>
      decode({
        ...toolUse,
        content: [],
        stop_reason: 'refusal',
        stop_details: { type: 'refusal', explanation },
      })
    const message = (d: ReturnType<typeof decode>) =>
      d.ok ? (JSON.parse(d.text) as { choices: { message: Json }[] }).choices[0]!.message : null
    expect(message(refusal('Not that.'))).toEqual({ role: 'assistant', content: '', refusal: 'Not that.' })
    expect(message(refusal(null))).toMatchObject({ refusal: 'refused' })
    expect(message(decode({ ...toolUse, content: toolUse.content.slice(2) }))).toMatchObject({
      content: null,
    })
    expect(message(decode({ ...toolUse, content: [], stop_reason: 'end_turn' }))).toMatchObject({
      content: '',
    })
  })

  it.each([
    [
      'all cache writes are 5-minute writes without the TTL split',
      { input_tokens: 5, cache_creation_input_tokens: 7, output_tokens: 1 },
      { inputUncached: 5, cacheWrite5m: 7, cacheWrite1h: 0 },
    ],
    [
      'a 1-hour split larger than the total is capped',
      {
        input_tokens: 5,
        cache_creation_input_tokens: 7,
        cache_creation: { ephemeral_1h_input_tokens: 9 },
        output_tokens: 1,
      },
      { cacheWrite5m: 0, cacheWrite1h: 7 },
    ],
    [
      'thinking tokens never exceed the output',
      { input_tokens: 1, output_tokens: 3, output_tokens_details: { thinking_tokens: 10 } },
      { output: 3, reasoning: 3 },
    ],
  ])('usage: %s', (_, raw, expected) => expect(usageFromAnthropic(raw)).toMatchObject(expected))

  it.each([
    ['no usage', undefined],
    ['no input count', { output_tokens: 3 }],
    ['a fractional count', { input_tokens: 1.5, output_tokens: 3 }],
    ['a negative count', { input_tokens: -1, output_tokens: 3 }],
  ])('usage that is not whole counts is no usage (%s): the gateway counts instead', (_, raw) =>
    expect(usageFromAnthropic(raw as never)).toBeNull(),
  )

  it.each([
    ['not JSON', 'Bad Gateway'],
    ['not a message', JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'x' } })],
  ])('a reply that is %s is an upstream failure', (_, text) =>
    expect(decodeMessage(text, 'sonnet')).toMatchObject({ ok: false }),
  )
})

describe('Anthropic errors (classifyAnthropic)', () => {
  const failure = (status: number, body: unknown) => ({
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: new Headers(),
  })

  it.each([
    [400, errors.invalid_request, null, 'max_tokens: Field required'],
    [404, errors.not_found, 'model_not_found', 'model: claude-nope'],
    [413, errors.too_large, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
    [400, 'not json', null, 'HTTP 400'],
  ])('%i is the request’s fault: relayed in OpenAI’s shape', (status, body, code, message) => {
    expect(classifyAnthropic(failure(status, body))).toEqual({
      action: 'relay',
      status,
      error: {
        message: `Upstream rejected the request: ${message}`,
        type: 'invalid_request_error',
        param: null,
        code,
      },
    })
  })

  it.each([
    [409, errors.api_error],
    [500, errors.api_error],
    [502, 'Bad Gateway'],
  ])('%i is transient: retried on the same target', (status, body) =>
    expect(classifyAnthropic(failure(status, body))).toEqual({ action: 'retry' }),
  )

  it.each([
    ['401 (our key)', 401, errors.authentication],
    ['402 (billing)', 402, errors.billing],
    ['403', 403, errors.authentication],
    ['429', 429, errors.rate_limit],
    ['429 spend limit', 429, errors.spend_limit],
    ['400 organisation on hold (the operator’s, not the client’s)', 400, errors.organization_on_hold],
    ['503', 503, errors.overloaded],
    ['504', 504, errors.api_error],
    ['529 overloaded (retrying the same target makes it worse)', 529, errors.overloaded],
  ])('%s goes to the next target at once', (_, status, body) =>
    expect(classifyAnthropic(failure(status, body))).toEqual({ action: 'fallback' }),
  )
})

describe('Anthropic stream events → OpenAI chunks (one event at a time)', () => {
  const decoder = () =>
    anthropicStream({ route: 'chat', body: { stream: true }, stream: true, model: 'sonnet' })
  const send = (d: ReturnType<typeof decoder>, type: string, data: Json) =>
    d.event({ event: type, data: JSON.stringify({ type, ...data }), id: undefined })
  const deltas = (step: { chunks?: { json: Json | null }[] }) =>
    (step.chunks ?? []).map((c) => (c.json?.choices as Json[] | undefined)?.[0]?.delta)

  it('numbers tool calls apart from text blocks, gives an argument-less tool "{}", overwrites usage, ignores pings', () => {
    const d = decoder()
    expect(
      deltas(
        send(d, 'message_start', { message: { id: 'm', usage: { input_tokens: 31, output_tokens: 1 } } }),
      ),
    ).toEqual([{ role: 'assistant', content: '' }])
    expect(
      deltas(send(d, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } })),
    ).toEqual([])
    expect(send(d, 'ping', {})).toEqual({})
    expect(
      deltas(send(d, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } })),
    ).toEqual([{ content: 'Hi' }])
    expect(
      send(d, 'content_block_start', { index: 1, content_block: { type: 'thinking', thinking: '' } }),
    ).toEqual({})
    expect(
      deltas(
        send(d, 'content_block_start', {
          index: 2,
          content_block: { type: 'tool_use', id: 't', name: 'now', input: {} },
        }),
      ),
    ).toEqual([
      { tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'now', arguments: '' } }] },
    ])
    expect(
      send(d, 'content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
    ).toEqual({})
    expect(deltas(send(d, 'content_block_stop', { index: 2 }))).toEqual([
      { tool_calls: [{ index: 0, function: { arguments: '{}' } }] },
    ])
    expect(send(d, 'a_future_event', {})).toEqual({})
    const delta = send(d, 'message_delta', {
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 40, output_tokens: 12, cache_read_input_tokens: null },
    })
    expect(delta.usage).toMatchObject({ inputUncached: 40, output: 12 })
    const stop = send(d, 'message_stop', {})
    expect(stop.done).toBe(true)
    expect(deltas(stop)[0]).toEqual({})
    expect((stop.chunks![0]!.json!.choices as Json[])[0]).toMatchObject({ finish_reason: 'tool_calls' })
    expect(stop.chunks![1]!.json).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 40, completion_tokens: 12 },
    })
  })

  it('an error event fails the stream and keeps the usage so far', () => {
    const d = decoder()
    send(d, 'message_start', { message: { id: 'm', usage: { input_tokens: 31, output_tokens: 1 } } })
    const step = send(d, 'error', { error: { type: 'overloaded_error', message: 'Overloaded' } })
    expect(step.failed).toBe('The upstream failed mid-stream: Overloaded')
    expect(step.usage).toMatchObject({ inputUncached: 31, output: 1 })
  })
})
