import { describe, expect, it } from 'vitest'
import { decodeEmbeddings } from '../../../src/upstream/providers/gemini/embeddings'
import { classifyGemini } from '../../../src/upstream/providers/gemini/errors'
import { decodeGenerate, finishReason, usageFromGemini } from '../../../src/upstream/providers/gemini/reply'
import { geminiStream } from '../../../src/upstream/providers/gemini/stream'
import errors from '../../fixtures/gemini/errors.json'
import toolCall from '../../fixtures/gemini/generate-tool-call.json'

// Gemini replies, errors and stream events → what the OpenAI client gets (docs/providers.md §2.4, §2.5,
// §2.7, §2.8), from a recorded generateContent reply (a thought part, text in two parts, a call with a
// thought signature and one with Gemini's own id, cached and tool-use prompt tokens) and recorded errors.
type Json = Record<string, unknown>
const decode = (reply: unknown) => decodeGenerate(JSON.stringify(reply), 'flash')
const completion = (reply: unknown) => {
  const decoded = decode(reply)
  if (!decoded.ok) throw new Error(decoded.message)
  return JSON.parse(decoded.text) as Json & { choices: Json[] }
}
const candidate = (c: Json) => ({ ...toolCall, candidates: [{ ...toolCall.candidates[0], ...c }] })

describe('Gemini reply → OpenAI chat.completion', () => {
  it('translates the recorded reply: thoughts hidden, text joined, tool calls with signature and id, STOP after a call', () => {
    const { created, choices, ...rest } = completion(toolCall)
    expect(typeof created).toBe('number')
    expect(rest).toEqual({
      id: 'chatcmpl-r1',
      object: 'chat.completion',
      model: 'flash',
      usage: {
        prompt_tokens: 1127,
        completion_tokens: 179,
        total_tokens: 1306,
        prompt_tokens_details: { cached_tokens: 1024 },
        completion_tokens_details: { reasoning_tokens: 148 },
      },
    })
    const [first] = choices as { message: { tool_calls: Json[] } }[]
    const minted = first!.message.tool_calls[0]!.id as string
    expect(minted).toMatch(/^call_[0-9a-f]{24}$/)
    expect(choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Checking Oslo.',
          refusal: null,
          tool_calls: [
            {
              id: minted,
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
              extra_content: { google: { thought_signature: 'CiQB' } },
            },
            { id: 'fc_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ])
    expect(decode(toolCall)).toMatchObject({ ok: true, outputText: 'Checking Oslo.' })
  })

  it.each<[string, boolean, string]>([
    ['MAX_TOKENS', false, 'length'],
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['OTHER', false, 'stop'],
    ['FINISH_REASON_UNSPECIFIED', true, 'tool_calls'],
    ...[
      'SAFETY',
      'RECITATION',
      'BLOCKLIST',
      'PROHIBITED_CONTENT',
      'SPII',
      'LANGUAGE',
      'IMAGE_SAFETY',
      'IMAGE_PROHIBITED_CONTENT',
      'IMAGE_RECITATION',
      'MODEL_ARMOR',
      'ESCALATION',
      'PUP_LIMITED_DISABLED',
    ].map((reason): [string, boolean, string] => [reason, false, 'content_filter']),
  ])('finishReason %s (after a call: %s) → %s', (reason, sawCall, finish) =>
    expect(finishReason(reason, sawCall)).toBe(finish),
  )

  it('only function calls leave content null; several candidates become several choices', () => {
    const calls = completion(
      candidate({ content: { role: 'model', parts: [toolCall.candidates[0]!.content.parts[4]] } }),
    )
    expect(calls.choices[0]).toMatchObject({ message: { content: null }, finish_reason: 'tool_calls' })
    const two = completion({
      ...toolCall,
      candidates: [
        { content: { parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 },
        { content: { parts: [{ text: 'b' }] }, finishReason: 'MAX_TOKENS', index: 1 },
      ],
    })
    expect(two.choices.map((c) => [c.index, (c.message as Json).content, c.finish_reason])).toEqual([
      [0, 'a', 'stop'],
      [1, 'b', 'length'],
    ])
  })

  it('a prompt blocked with no candidates is the client’s 400 content_filter, never a fallback', () => {
    expect(
      decode({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9 } }),
    ).toEqual({
      ok: false,
      message: 'Prompt blocked by the upstream safety system (SAFETY).',
      clientError: {
        status: 400,
        error: {
          message: 'Prompt blocked by the upstream safety system (SAFETY).',
          type: 'invalid_request_error',
          param: null,
          code: 'content_filter',
        },
      },
    })
  })

  it.each(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'MALFORMED_RESPONSE'])(
    'a %s reply is an upstream failure (retried or sent to the next target)',
    (reason) => {
      const decoded = decode(candidate({ finishReason: reason }))
      expect(decoded.ok).toBe(false)
      expect(decoded).not.toHaveProperty('clientError')
    },
  )

  it('a reply that is not JSON is an upstream failure', () =>
    expect(decodeGenerate('<html>', 'flash')).toMatchObject({ ok: false }))

  it.each([
    [
      'cached tokens are part of the prompt, thoughts are not part of the candidates',
      {
        promptTokenCount: 1107,
        cachedContentTokenCount: 1024,
        candidatesTokenCount: 31,
        thoughtsTokenCount: 148,
      },
      { inputUncached: 83, cacheRead: 1024, cacheWrite5m: 0, cacheWrite1h: 0, output: 179, reasoning: 148 },
    ],
    [
      'the tool-use prompt is uncached input',
      { promptTokenCount: 100, toolUsePromptTokenCount: 20, candidatesTokenCount: 5 },
      { inputUncached: 120, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 5, reasoning: 0 },
    ],
    [
      'a cached count above the prompt is capped',
      { promptTokenCount: 10, cachedContentTokenCount: 50 },
      { inputUncached: 0, cacheRead: 10, cacheWrite5m: 0, cacheWrite1h: 0, output: 0, reasoning: 0 },
    ],
    ['no prompt count: no usage (the gateway counts)', { trafficType: 'ON_DEMAND' }, null],
  ])('usage: %s', (_, raw, expected) => expect(usageFromGemini(raw as never)).toEqual(expected))
})

describe('Gemini errors (classifyGemini)', () => {
  const failure = (status: number, body: unknown) => ({
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: new Headers(),
  })

  it.each([
    ['an invalid key (a 400, but the operator’s)', 400, errors.api_key_invalid],
    ['an expired key', 400, errors.api_key_expired],
    ['a failed precondition (billing, region)', 400, errors.failed_precondition],
    ['permission denied', 403, errors.permission_denied],
    ['quota exhausted', 429, errors.resource_exhausted],
    ['unavailable', 503, errors.unavailable],
    ['deadline exceeded', 504, errors.deadline_exceeded],
  ])('%s goes to the next target', (_, status, body) =>
    expect(classifyGemini(failure(status, body))).toEqual({ action: 'fallback' }),
  )

  it.each([
    [400, errors.invalid_argument, null, '* GenerateContentRequest.contents: contents is not specified'],
    [404, errors.not_found, 'model_not_found', 'models/gemini-nope is not found for API version v1beta.'],
    [413, 'Request Entity Too Large', 'request_too_large', 'HTTP 413'],
  ])('%i is the request’s fault: relayed in OpenAI’s shape', (status, body, code, message) => {
    expect(classifyGemini(failure(status, body))).toEqual({
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

  it('500 is retried', () =>
    expect(classifyGemini(failure(500, errors.internal))).toEqual({ action: 'retry' }))
})

describe('Gemini batchEmbedContents reply → OpenAI embeddings', () => {
  const reply = JSON.stringify({
    embeddings: [{ values: [0.5, -1] }, { values: [0.25, 2] }],
    usageMetadata: { promptTokenCount: 6 },
  })

  it('floats when asked, in order, with the reported usage', () => {
    const decoded = decodeEmbeddings(reply, 'g-emb', { encoding_format: 'float' })
    if (!decoded.ok) throw new Error(decoded.message)
    expect(JSON.parse(decoded.text)).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1] },
        { object: 'embedding', index: 1, embedding: [0.25, 2] },
      ],
      model: 'g-emb',
      usage: { prompt_tokens: 6, total_tokens: 6 },
    })
  })

  it('base64 little-endian float32 by default (what the OpenAI SDK asks for and decodes)', () => {
    const decoded = decodeEmbeddings(reply, 'g-emb', {})
    if (!decoded.ok) throw new Error(decoded.message)
    const [first] = (JSON.parse(decoded.text) as { data: { embedding: string }[] }).data
    const bytes = Uint8Array.from(atob(first!.embedding), (c) => c.charCodeAt(0))
    expect([...new Float32Array(bytes.buffer)]).toEqual([0.5, -1])
  })

  it('without usageMetadata the usage is left to the gateway’s count; no embeddings is a failure', () => {
    expect(decodeEmbeddings(JSON.stringify({ embeddings: [] }), 'g-emb', {})).toMatchObject({
      ok: true,
      usage: null,
    })
    expect(decodeEmbeddings(JSON.stringify({ error: {} }), 'g-emb', {})).toMatchObject({ ok: false })
  })
})

describe('Gemini stream events → OpenAI chunks (one event at a time)', () => {
  const decoder = () => geminiStream({ route: 'chat', body: { stream: true }, stream: true, model: 'flash' })
  const send = (d: ReturnType<typeof decoder>, data: Json) =>
    d.event({ event: undefined, data: JSON.stringify(data), id: undefined })
  const parts = (p: Json[], extra: Json = {}) => ({
    candidates: [{ content: { parts: p }, ...extra }],
    responseId: 'r9',
  })

  it('counts tool calls across events, waits for the end of the body to finish, keeps the last usage', () => {
    const d = decoder()
    const first = send(d, parts([{ text: 'A' }, { functionCall: { name: 'f', args: {} } }]))
    expect(first.chunks!.map((c) => (c.json!.choices as Json[])[0]!.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'A' },
      { tool_calls: [expect.objectContaining({ index: 0, function: { name: 'f', arguments: '{}' } })] },
    ])
    expect(first.chunks![0]!.json!.id).toBe('chatcmpl-r9')
    const second = send(
      d,
      parts([{ functionCall: { name: 'g', args: { x: 1 } } }, { text: 'hmm', thought: true }]),
    )
    expect(second.chunks!.map((c) => (c.json!.choices as Json[])[0]!.delta)).toEqual([
      { tool_calls: [expect.objectContaining({ index: 1, function: { name: 'g', arguments: '{"x":1}' } })] },
    ])
    const last = send(d, {
      ...parts([{ text: '' }], { finishReason: 'STOP' }),
      usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3 },
    })
    expect(last.chunks).toEqual([])
    const end = d.end()
    expect(end.done).toBe(true)
    expect((end.chunks![0]!.json!.choices as Json[])[0]).toMatchObject({
      delta: {},
      finish_reason: 'tool_calls',
    })
    expect(end.chunks![1]!.json).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    })
  })

  it('a body that ends without a finish reason was cut short; an error event or a malformed finish fails the stream', () => {
    const cut = decoder()
    send(cut, parts([{ text: 'A' }]))
    expect(cut.end()).toEqual({})
    const failed = decoder()
    expect(send(failed, { error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } }).failed).toBe(
      'The upstream failed mid-stream: overloaded',
    )
    const malformed = decoder()
    expect(send(malformed, parts([], { finishReason: 'MALFORMED_FUNCTION_CALL' })).failed).toBe(
      'The upstream produced a malformed reply.',
    )
  })
})
