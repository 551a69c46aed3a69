import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../../src/errors'
import { estimateInputTokens } from '../../../src/protocols/anthropic/count-tokens'
import { toChatRequest } from '../../../src/protocols/anthropic/request'
import claudeCode from '../../fixtures/anthropic/claude-code-request.json'

// Anthropic Messages requests → OpenAI Chat Completions, for targets that speak OpenAI
// (docs/providers.md §3.4), from the recorded shape of Claude Code's `claude -p "say hi"` request and
// Anthropic SDK requests with tool results, images and documents.
type Json = Record<string, unknown>
const chat = (b: Json) => toChatRequest({ model: 'claude-x', max_tokens: 100, ...b })
const messages = (...m: Json[]) => chat({ messages: m }).messages

describe('Anthropic Messages → OpenAI chat request', () => {
  it('translates Claude Code’s request: attribution dropped, trailing system kept, deferred tools and cache_control gone', () => {
    expect(toChatRequest(claudeCode as Json)).toEqual({
      model: 'claude-sonnet-5-5',
      messages: [
        { role: 'system', content: 'You are Claude Code.\n\nBe concise.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>context</system-reminder>' },
            { type: 'text', text: 'say hi' },
          ],
        },
        { role: 'system', content: 'Today is Sunday.' },
      ],
      // The clamp to the target's max_output_tokens is the pipeline's (translate-messages.ts).
      max_completion_tokens: 128000,
      tools: [
        {
          type: 'function',
          function: {
            name: 'Bash',
            description: 'Run a command',
            parameters: { type: 'object', properties: { command: { type: 'string' } } },
          },
        },
      ],
      reasoning_effort: 'medium',
      // metadata.user_id is a JSON blob here, not an identifier worth passing on.
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('puts tool results first as tool messages, then the user’s own parts; a lone text part is a string', () => {
    expect(
      messages(
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Checking ' },
            { type: 'text', text: 'both.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '21C' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [
                { type: 'text', text: 'timeout' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBO' } },
                { type: 'text', text: 'retry later' },
              ],
            },
            { type: 'text', text: 'Summarise.' },
          ],
        },
      ),
    ).toEqual([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'toolu_2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: '21C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: '[tool error] timeout\n\nretry later' },
      // OpenAI tool messages are text only: the image moves to the user message.
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
          { type: 'text', text: 'Summarise.' },
        ],
      },
    ])
  })

  it('an assistant turn of tool calls only has null content; a user turn of tool results only adds no user message', () => {
    expect(
      messages(
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'ok' }] },
      ),
    ).toEqual([
      { role: 'user', content: 'x' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't', content: 'ok' },
    ])
  })

  it.each([
    [
      'a base64 image',
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' } },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/' } },
    ],
    [
      'an image URL',
      { type: 'image', source: { type: 'url', url: 'https://x.test/cat.png' } },
      { type: 'image_url', image_url: { url: 'https://x.test/cat.png' } },
    ],
    [
      'a PDF',
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } },
      { type: 'file', file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBER' } },
    ],
    [
      'a text document',
      { type: 'document', source: { type: 'text', data: 'plain' } },
      { type: 'text', text: 'plain' },
    ],
  ])('user content: %s', (_, block, part) => {
    expect(messages({ role: 'user', content: [{ type: 'text', text: 'see' }, block] })).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'see' }, part] },
    ])
  })

  it.each([
    ['auto', { type: 'auto' }, { tool_choice: 'auto' }],
    ['any → required', { type: 'any' }, { tool_choice: 'required' }],
    ['none', { type: 'none' }, { tool_choice: 'none' }],
    [
      'a named tool',
      { type: 'tool', name: 'f' },
      { tool_choice: { type: 'function', function: { name: 'f' } } },
    ],
    [
      'disable_parallel_tool_use',
      { type: 'auto', disable_parallel_tool_use: true },
      { tool_choice: 'auto', parallel_tool_calls: false },
    ],
  ])('tool_choice %s', (_, choice, expected) => {
    const out = chat({
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      tool_choice: choice,
    })
    expect({ tool_choice: out.tool_choice, parallel_tool_calls: out.parallel_tool_calls }).toEqual({
      parallel_tool_calls: undefined,
      ...expected,
    })
  })

  it.each([
    ['an effort passes as is', { output_config: { effort: 'xhigh' } }, 'xhigh'],
    ['a budget ≤ 2048 → low', { thinking: { type: 'enabled', budget_tokens: 2048 } }, 'low'],
    ['a budget ≤ 16384 → medium', { thinking: { type: 'enabled', budget_tokens: 16384 } }, 'medium'],
    ['a larger budget → high', { thinking: { type: 'enabled', budget_tokens: 16385 } }, 'high'],
    [
      'the effort wins over a budget',
      { thinking: { type: 'enabled', budget_tokens: 1024 }, output_config: { effort: 'high' } },
      'high',
    ],
    [
      'disabled thinking sends none',
      { thinking: { type: 'disabled' }, output_config: { effort: 'high' } },
      undefined,
    ],
    ['adaptive thinking without an effort sends none', { thinking: { type: 'adaptive' } }, undefined],
  ])('reasoning_effort: %s', (_, fields, effort) => {
    expect(chat({ messages: [{ role: 'user', content: 'x' }], ...fields }).reasoning_effort).toBe(effort)
  })

  it('passes stop sequences, sampling (not top_k), a JSON schema and a short user id; drops what OpenAI lacks', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } }
    expect(
      chat({
        messages: [{ role: 'user', content: 'x' }],
        stop_sequences: ['END'],
        temperature: 0.3,
        top_p: 0.8,
        top_k: 5,
        output_config: { format: { type: 'json_schema', schema } },
        metadata: { user_id: 'user-42' },
        context_management: { edits: [] },
        service_tier: 'auto',
        cache_control: { type: 'ephemeral' },
      }),
    ).toEqual({
      model: 'claude-x',
      messages: [{ role: 'user', content: 'x' }],
      max_completion_tokens: 100,
      stop: ['END'],
      temperature: 0.3,
      top_p: 0.8,
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } },
      user: 'user-42',
    })
  })

  it.each([
    ['a server tool', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0]'],
    [
      'a server_tool_use block',
      {
        messages: [
          {
            role: 'assistant',
            content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: {} }],
          },
        ],
      },
      'messages[0].content[0]',
    ],
    [
      'a web search result block',
      {
        messages: [
          { role: 'user', content: [{ type: 'web_search_tool_result', tool_use_id: 's', content: [] }] },
        ],
      },
      'messages[0].content[0]',
    ],
    [
      'a file-sourced image',
      { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] },
      'messages[0].content[0]',
    ],
    [
      'a URL document',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } }],
          },
        ],
      },
      'messages[0].content[0]',
    ],
    ['a non-text system block', { system: [{ type: 'image', source: {} }] }, 'system[0]'],
  ])('refuses %s with a 400 naming it', (_, fields, param) => {
    let error: unknown
    try {
      chat({ messages: [{ role: 'user', content: 'x' }], ...fields })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ code: 'invalid_request_error', param })
  })

  it('count_tokens estimates the translation, plus 1,600 per image and the tool definitions', () => {
    const text = { model: 'claude-x', messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }] }] }
    const image = { type: 'image', source: { type: 'url', url: 'https://x.test/cat.png' } }
    const withImage = {
      ...text,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'see' }, image] }],
    }
    const withTools = {
      ...text,
      tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object' } }],
    }
    const base = estimateInputTokens(text)
    expect(base).toBeGreaterThan(0)
    expect(estimateInputTokens(withImage) - base).toBeGreaterThanOrEqual(1600)
    expect(estimateInputTokens(withImage) - base).toBeLessThan(1700)
    expect(estimateInputTokens(withTools)).toBeGreaterThan(base)
  })
})
