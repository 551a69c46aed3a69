import { describe, expect, it } from 'vitest'
import { anthropic } from '../../../src/upstream/providers/anthropic'
import { anthropicBody } from '../../../src/upstream/providers/anthropic/request'
import { RequestRejected } from '../../../src/upstream/providers/types'
import chatWeather from '../../fixtures/openai/chat-weather.json'
import { target } from '../../helpers/target'

// OpenAI chat requests → the Anthropic Messages body (docs/providers.md §1.2, §1.3), from a recorded
// OpenAI SDK request with tools, an image, parallel tool calls and their results.
type Json = Record<string, unknown>
const claude = (caps = {}, extra = {}) => target('anthropic', caps, extra)
const body = (b: Json, caps = {}, extra = {}) => anthropicBody(claude(caps, extra), b, false)
const user = (content: unknown = 'hi') => ({ role: 'user', content })
const weather = chatWeather as Json

describe('OpenAI chat → Anthropic Messages request', () => {
  it('translates the recorded tool-loop request whole', () => {
    expect(anthropicBody(claude(), weather, true)).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 512,
      system: [{ type: 'text', text: 'You are terse.' }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris and Rome? Also describe the image.' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
            {
              type: 'tool_use',
              id: 'functions_get_weather_1_2198',
              name: 'get_weather',
              input: { city: 'Rome' },
            },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_a', content: '21C' },
            {
              type: 'tool_result',
              tool_use_id: 'functions_get_weather_1_2198',
              content: [{ type: 'text', text: '24C' }],
            },
            { type: 'text', text: 'Thanks. Now summarise.' },
          ],
        },
      ],
      temperature: 1,
      stop_sequences: ['END'],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather',
          input_schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
        },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      metadata: { user_id: 'u-42' },
      stream: true,
    })
  })

  it('sends the request to {base_url}/messages with the key in x-api-key and the mapped version', async () => {
    const request = anthropic.buildRequest(claude({ anthropic_version: '2026-10-21' }), {
      route: 'chat',
      body: weather,
      stream: true,
      model: 'sonnet',
    })
    expect(request.url).toBe('https://api.anthropic.com/v1/messages')
    expect(request.headers.get('x-api-key')).toBe('sk-upstream')
    expect(request.headers.get('authorization')).toBeNull()
    expect(request.headers.get('anthropic-version')).toBe('2026-10-21')
    expect(request.headers.get('accept')).toBe('text/event-stream')
    // 2026-10-21 refuses sampling parameters even at their defaults.
    expect(await request.json()).not.toHaveProperty('temperature')
  })

  it.each([
    ['temperature, clamped to 1', { temperature: 1.4, top_p: 0.9, top_k: 5 }, {}, { temperature: 1 }],
    ['top_p and top_k without temperature', { top_p: 0.9, top_k: 5 }, {}, { top_p: 0.9, top_k: 5 }],
    ['nothing when sampling is off', { temperature: 0.2, top_p: 0.9 }, { sampling: false }, {}],
    ['nothing on 2026-10-21', { temperature: 0.2 }, { anthropic_version: '2026-10-21' }, {}],
  ])('sampling: %s', (_, fields, caps, expected) => {
    const out = body({ messages: [user()], ...fields }, caps)
    expect({ temperature: out.temperature, top_p: out.top_p, top_k: out.top_k }).toEqual({
      temperature: undefined,
      top_p: undefined,
      top_k: undefined,
      ...expected,
    })
  })

  it.each([
    ['max_completion_tokens first', { max_completion_tokens: 100, max_tokens: 200 }, {}, {}, 100],
    ['then max_tokens', { max_tokens: 200 }, {}, {}, 200],
    ["then the mapping's default_max_tokens", {}, { default_max_tokens: 777 }, {}, 777],
    ["then the mapping's max_output_tokens, at most 4096", {}, {}, { maxOutputTokens: 1000 }, 1000],
    ['else 4096', {}, {}, { maxOutputTokens: 64_000 }, 4096],
  ])('max_tokens: %s', (_, fields, caps, extra, expected) => {
    expect(body({ messages: [user()], ...fields }, caps, extra).max_tokens).toBe(expected)
  })

  it.each([
    ['none: nothing sent', 'none', 'high', 4096, {}],
    ['budget, low', 'budget', 'low', 4096, { thinking: { type: 'enabled', budget_tokens: 1024 } }],
    ['budget, medium', 'budget', 'medium', 8000, { thinking: { type: 'enabled', budget_tokens: 4096 } }],
    [
      'budget capped below max_tokens',
      'budget',
      'high',
      2000,
      { thinking: { type: 'enabled', budget_tokens: 1999 } },
    ],
    ['budget that cannot reach 1024: disabled', 'budget', 'high', 1000, { thinking: { type: 'disabled' } }],
    ['budget without an effort: disabled', 'budget', undefined, 4096, { thinking: { type: 'disabled' } }],
    ['budget, effort none: disabled', 'budget', 'none', 4096, { thinking: { type: 'disabled' } }],
    [
      'adaptive, medium',
      'adaptive',
      'medium',
      4096,
      { thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } },
    ],
    [
      'adaptive, minimal → low',
      'adaptive',
      'minimal',
      4096,
      { thinking: { type: 'adaptive' }, output_config: { effort: 'low' } },
    ],
    ['adaptive without an effort: disabled', 'adaptive', undefined, 4096, { thinking: { type: 'disabled' } }],
    ['always without an effort: nothing (it cannot be disabled)', 'always', undefined, 4096, {}],
  ] as const)('thinking: %s', (_, mode, effort, maxTokens, expected) => {
    const out = body(
      { messages: [user()], reasoning_effort: effort, max_tokens: maxTokens },
      { thinking: mode },
    )
    expect({ thinking: out.thinking, output_config: out.output_config }).toEqual({
      thinking: undefined,
      output_config: undefined,
      ...expected,
    })
  })

  it('response_format: a JSON schema becomes output_config.format (next to the effort); json_object an instruction', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }
    const out = body(
      {
        messages: [user()],
        reasoning_effort: 'high',
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
      },
      { thinking: 'adaptive' },
    )
    expect(out.output_config).toEqual({ effort: 'high', format: { type: 'json_schema', schema } })
    const json = body({
      messages: [{ role: 'system', content: 'Be brief.' }, user()],
      response_format: { type: 'json_object' },
    })
    expect(json.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Respond with a single valid JSON object and nothing else.' },
    ])
    expect(json).not.toHaveProperty('output_config')
  })

  it.each([
    ['required → any', 'required', undefined, { type: 'any' }],
    ['none → none, never with disable_parallel_tool_use', 'none', false, { type: 'none' }],
    [
      'a named function → tool',
      { type: 'function', function: { name: 'f' } },
      undefined,
      { type: 'tool', name: 'f' },
    ],
    [
      'parallel_tool_calls false alone → auto',
      undefined,
      false,
      { type: 'auto', disable_parallel_tool_use: true },
    ],
    ['nothing → nothing', undefined, undefined, undefined],
  ])('tool_choice: %s', (_, choice, parallel, expected) => {
    const tools = [{ type: 'function', function: { name: 'f' } }]
    const out = body({ messages: [user()], tools, tool_choice: choice, parallel_tool_calls: parallel })
    expect(out.tool_choice).toEqual(expected)
    expect(out.tools).toEqual([{ name: 'f', input_schema: { type: 'object', properties: {} } }])
  })

  it('keeps a later system message in place only when the model takes it; otherwise it joins system', () => {
    const messages = [
      { role: 'developer', content: [{ type: 'text', text: 'One.' }] },
      user('a'),
      { role: 'system', content: 'Two.' },
      { role: 'assistant', content: 'b' },
    ]
    expect(body({ messages }, { mid_conversation_system: true })).toMatchObject({
      system: [{ type: 'text', text: 'One.' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'a' }] },
        { role: 'system', content: [{ type: 'text', text: 'Two.' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'b' }] },
      ],
    })
    expect(body({ messages })).toMatchObject({
      system: [
        { type: 'text', text: 'One.' },
        { type: 'text', text: 'Two.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'a' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'b' }] },
      ],
    })
  })

  it('merges same-role neighbours, drops empty text and empty assistant turns, keeps cache_control and https images', () => {
    const out = body({
      messages: [
        user([
          { type: 'text', text: '' },
          { type: 'text', text: 'a', cache_control: { type: 'ephemeral' } },
        ]),
        { role: 'assistant', content: '' },
        user([{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }]),
        user([{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER' } }]),
      ],
    })
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a', cache_control: { type: 'ephemeral' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } },
        ],
      },
    ])
  })

  it.each([
    ['n > 1', { messages: [user()], n: 2 }, 'n', 'unsupported_parameter'],
    [
      'audio output',
      { messages: [user()], modalities: ['text', 'audio'] },
      'modalities',
      'unsupported_parameter',
    ],
    [
      'a non-function tool',
      { messages: [user()], tools: [{ type: 'custom', custom: { name: 'x' } }] },
      'tools[0]',
      'unsupported_parameter',
    ],
    [
      'an SVG image',
      { messages: [user([{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } }])] },
      'messages[0].content[0]',
      'invalid_value',
    ],
    [
      'an image URL that is neither https nor data',
      { messages: [user([{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }])] },
      'messages[0].content[0]',
      'invalid_value',
    ],
    [
      'a file that is not a PDF data URL',
      { messages: [user([{ type: 'file', file: { file_id: 'file-1' } }])] },
      'messages[0].content[0]',
      'unsupported_parameter',
    ],
    [
      'audio input',
      { messages: [user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }])] },
      'messages[0].content[0]',
      'unsupported_parameter',
    ],
    [
      'tool arguments that are not JSON',
      {
        messages: [
          user(),
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{city' } }],
          },
        ],
      },
      'messages[1].tool_calls[0].function.arguments',
      'invalid_value',
    ],
    [
      'an unknown role',
      { messages: [user(), { role: 'function', content: 'x' }] },
      'messages[1].role',
      'invalid_value',
    ],
    ['a system-only request', { messages: [{ role: 'system', content: 'x' }] }, 'messages', 'invalid_value'],
  ])('refuses %s with a 400 naming the field, before any upstream call', (_, request, param, code) => {
    let error: unknown
    try {
      body(request)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RequestRejected)
    expect((error as RequestRejected).error).toMatchObject({ type: 'invalid_request_error', param, code })
  })
})
