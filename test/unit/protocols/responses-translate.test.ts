import { describe, expect, it } from 'vitest'
import { toChatRequest } from '../../../src/protocols/responses/request'
import { toResponse } from '../../../src/protocols/responses/reply'
import { translatedEncoder } from '../../../src/protocols/responses/encoder'

describe('Responses ⇄ chat translation', () => {
  it('merges function calls into one assistant turn and keeps tool outputs in order', () => {
    const chat = toChatRequest({
      model: 'm',
      instructions: 'Sys',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Q' }] },
        { type: 'reasoning', encrypted_content: 'x' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Looking.' }] },
        {
          type: 'function_call',
          call_id: 'c1',
          name: 'spawn_agent',
          namespace: 'multi_agent_v1',
          arguments: '{}',
        },
        { type: 'function_call', call_id: 'c2', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
      ],
      tools: [{ type: 'web_search' }, { type: 'function', name: 'f', parameters: { type: 'object' } }],
      tool_choice: { type: 'function', name: 'f' },
    })
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Sys' },
      { role: 'user', content: [{ type: 'text', text: 'Q' }] },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
    ])
    expect(chat.tools).toEqual([
      { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
    ])
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'f' } })
  })

  it("names a flattened namespace tool's call with its namespace again, and a cut reply incomplete", () => {
    const reply = JSON.parse(
      toResponse(
        JSON.stringify({
          choices: [
            {
              message: {
                content: null,
                tool_calls: [
                  { id: 'c1', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' } },
                ],
              },
              finish_reason: 'length',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } },
        }),
        { model: 'm' },
        0,
      ),
    )
    expect(reply.output).toEqual([
      expect.objectContaining({
        type: 'function_call',
        call_id: 'c1',
        namespace: 'multi_agent_v1',
        name: 'spawn_agent',
      }),
    ])
    expect([reply.status, reply.incomplete_details]).toEqual(['incomplete', { reason: 'max_output_tokens' }])
    expect(reply.usage).toMatchObject({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 5,
    })
  })

  it('streams a Gemini thought signature inside the call_id, which the next request turns back', () => {
    const encoder = translatedEncoder({ model: 'm' }, 0)
    const call = {
      index: 0,
      id: 'call_1',
      extra_content: { google: { thought_signature: 'sig/A+=' } },
      function: { name: 'f', arguments: '{}' },
    }
    const text =
      encoder.chunk({ json: { choices: [{ delta: { tool_calls: [call] }, finish_reason: 'tool_calls' }] } }) +
      encoder.done()
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.split('\ndata: ')[1]!))
    const item = events.find((e) => e.type === 'response.output_item.done').item
    expect(item.call_id).toBe('call_1.gts.sig/A+=')
    const chat = toChatRequest({
      model: 'm',
      input: [
        { type: 'function_call', call_id: item.call_id, name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: item.call_id, output: 'ok' },
      ],
    })
    expect((chat.messages as any[])[0].tool_calls[0].extra_content).toEqual({
      google: { thought_signature: 'sig/A+=' },
    })
  })
})
