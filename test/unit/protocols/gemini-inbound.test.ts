import { describe, expect, it } from 'vitest'
import { geminiRenderer } from '../../../src/protocols/gemini/errors'
import { toChatRequest } from '../../../src/protocols/gemini/request'
import { toGeminiResponse } from '../../../src/protocols/gemini/reply'
import { geminiEncoder, relayEncoder } from '../../../src/protocols/gemini/stream'
import { GatewayError } from '../../../src/errors'

// The Gemini API inbound translators, from bodies shaped like Gemini CLI's and @google/genai's.
describe('Gemini request → chat', () => {
  it('pairs function responses with their calls by id, else by name in order, and drops thoughts', () => {
    const chat = toChatRequest(
      'm',
      {
        systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Really.' }] },
        contents: [
          { role: 'user', parts: [{ text: 'Weather?' }] },
          {
            role: 'model',
            parts: [
              { text: 'thinking', thought: true },
              { functionCall: { name: 'w', args: { city: 'Paris' } }, thoughtSignature: 'sig' },
              { functionCall: { id: 'g1', name: 'w', args: { city: 'Rome' } } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { id: 'g1', name: 'w', response: { output: '24C' } } },
              { functionResponse: { name: 'w', response: { output: '21C' } } },
              { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
            ],
          },
        ],
      },
      false,
    )
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.\n\nReally.' },
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_g1_0', type: 'function', function: { name: 'w', arguments: '{"city":"Paris"}' } },
          { id: 'g1', type: 'function', function: { name: 'w', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'g1', content: '{"output":"24C"}' },
      { role: 'tool', tool_call_id: 'call_g1_0', content: '{"output":"21C"}' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
    ])
  })

  it("maps declarations (Google's upper-case types lowered), tool config and generation config; Google's tools left out", () => {
    const chat = toChatRequest(
      'm',
      {
        contents: [{ parts: [{ text: 'Hi' }] }],
        tools: [
          { googleSearch: {} },
          {
            functionDeclarations: [
              {
                name: 'a',
                parameters: { type: 'OBJECT', properties: { q: { type: 'STRING', nullable: true } } },
              },
              { name: 'b', parametersJsonSchema: { type: 'object' } },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['b'] } },
        generationConfig: {
          temperature: 0.2,
          maxOutputTokens: 50,
          stopSequences: ['X'],
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'object' },
          thinkingConfig: { thinkingBudget: 8192, includeThoughts: true },
        },
      },
      true,
    )
    expect(chat).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      tools: [
        {
          type: 'function',
          function: { name: 'a', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
        },
        { type: 'function', function: { name: 'b', parameters: { type: 'object' } } },
      ],
      tool_choice: { type: 'function', function: { name: 'b' } },
      temperature: 0.2,
      max_completion_tokens: 50,
      stop: ['X'],
      response_format: { type: 'json_schema', json_schema: { name: 'response', schema: { type: 'object' } } },
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('refuses audio it cannot send with INVALID_ARGUMENT naming the part', () => {
    expect(() =>
      toChatRequest(
        'm',
        { contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'audio/wav', data: 'A' } }] }] },
        false,
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_request_error', param: 'contents[0].parts[0]' }))
  })
})

describe('chat → Gemini reply and stream', () => {
  const completion = {
    choices: [
      {
        index: 0,
        message: {
          content: 'Checking.',
          tool_calls: [
            {
              id: 'c1',
              function: { name: 'w', arguments: '{"city":"Oslo"}' },
              extra_content: { google: { thought_signature: 's' } },
            },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: {
      prompt_tokens: 100,
      completion_tokens: 30,
      prompt_tokens_details: { cached_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 10 },
    },
  }

  it('answers candidates with whole functionCall parts and Gemini usage (cached inside the prompt, thoughts apart)', () => {
    const reply = JSON.parse(toGeminiResponse(JSON.stringify(completion), 'm', 0))
    expect(reply.candidates).toEqual([
      {
        content: {
          role: 'model',
          parts: [
            { text: 'Checking.' },
            { functionCall: { id: 'c1', name: 'w', args: { city: 'Oslo' } }, thoughtSignature: 's' },
          ],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ])
    expect(reply.usageMetadata).toEqual({
      promptTokenCount: 100,
      candidatesTokenCount: 20,
      totalTokenCount: 130,
      cachedContentTokenCount: 60,
      thoughtsTokenCount: 10,
    })
  })

  const chunk = (choices: unknown[], usage?: unknown) => ({ json: { choices, ...(usage ? { usage } : {}) } })
  const streamOf = (framing: 'sse' | 'array') => {
    const encoder = geminiEncoder(framing, 'm', 0)
    return (
      encoder.chunk(chunk([{ delta: { content: 'Hi' } }])) +
      encoder.chunk(
        chunk([
          { delta: { tool_calls: [{ index: 0, id: 'c1', function: { name: 'w', arguments: '{"ci' } }] } },
        ]),
      ) +
      encoder.chunk(
        chunk([
          {
            delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] },
            finish_reason: 'tool_calls',
          },
        ]),
      ) +
      encoder.chunk(chunk([], completion.usage)) +
      encoder.done()
    )
  }

  it('streams text as it comes and the whole call, finish reason and usage in the last fragment, in both framings', () => {
    const sse = streamOf('sse')
      .split('\r\n\r\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.slice('data: '.length)))
    const array = JSON.parse(streamOf('array'))
    const noId = (e: { responseId?: string }) => ({ ...e, responseId: undefined })
    expect(array.map(noId)).toEqual(sse.map(noId))
    expect(sse.map((e) => e.candidates[0].content.parts)).toEqual([
      [{ text: 'Hi' }],
      [{ functionCall: { id: 'c1', name: 'w', args: { city: 'Oslo' } } }],
    ])
    expect(sse.at(-1)).toMatchObject({
      candidates: [{ finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 100 },
    })
  })

  it('ends a broken stream with one error element and closes the array', () => {
    const relay = relayEncoder('array')
    const text = relay.chunk({ json: null, raw: '{"candidates":[]}' }) + relay.error('cut', 'upstream_error')
    expect(JSON.parse(text)).toEqual([
      { candidates: [] },
      { error: { code: 502, message: 'cut', status: 'UNAVAILABLE' } },
    ])
    expect(relayEncoder('array').error('cut', 'idle_timeout')).toBe(
      '[{"error":{"code":504,"message":"cut","status":"DEADLINE_EXCEEDED"}}]',
    )
  })
})

describe('Google-shaped errors', () => {
  it('names the google.rpc status, the gateway code as the ErrorInfo reason and Retry-After as RetryInfo', async () => {
    const rendered = geminiRenderer(
      new GatewayError({
        code: 'rate_limit_exceeded',
        message: 'Slow down.',
        headers: { 'Retry-After': '7' },
      }),
      'req_1',
    )
    const res = Response.json(rendered.body, { status: rendered.status, headers: rendered.headers })
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(await res.json()).toEqual({
      error: {
        code: 429,
        message: 'Slow down.',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'RATE_LIMIT_EXCEEDED',
            domain: 'nexusai',
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' },
        ],
      },
    })
  })
})
