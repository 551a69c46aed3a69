import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, usageRows } from '../helpers/fixtures'
import { eventually, mockRequests, sdk } from '../helpers/gateway'

async function claude(scenario: string) {
  const provider = await createProvider({
    type: 'anthropic',
    scenario: `${scenario}~${crypto.randomUUID().slice(0, 8)}`,
  })
  const model = await createModel([provider.id])
  const key = await createKey({ models: [model] })
  return { scenario: provider.scenario, model, key, client: sdk(key.raw) }
}

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
      $defs: { unit: { enum: ['C', 'F'] } },
    },
  },
}

describe('anthropic upstream: tools', () => {
  it('sends tools whole, maps tool_choice, and answers with tool_calls', async () => {
    const { scenario, model, client } = await claude('tools')
    const reply = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
      tools: [weather],
      tool_choice: 'required',
      parallel_tool_calls: false,
    })
    const choice = reply.choices[0]!
    expect(choice.finish_reason).toBe('tool_calls')
    expect(
      choice.message.tool_calls!.map((c) => c.type === 'function' && [c.id, c.function.arguments]),
    ).toEqual([
      ['toolu_01A', '{"city":"Paris"}'],
      ['toolu_01B', '{"city":"Rome"}'],
    ])
    const [sent] = await mockRequests(scenario)
    expect(sent!.body.tools).toEqual([
      { name: 'get_weather', description: 'Current weather', input_schema: weather.function.parameters },
    ])
    expect(sent!.body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true })
  })

  it('streams parallel tool calls with OpenAI indices and reassembled arguments', async () => {
    const { model, key, client } = await claude('tools')
    const stream = client.chat.completions.stream({
      model,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      stream_options: { include_usage: true },
    })
    const indices = new Set<number>()
    stream.on('chunk', (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) indices.add(call.index)
    })
    const final = await stream.finalChatCompletion()
    expect([...indices]).toEqual([0, 1])
    const choice = final.choices[0]!
    expect(choice.message.content).toBe('Hello from mock Claude.')
    expect(choice.finish_reason).toBe('tool_calls')
    expect(
      choice.message.tool_calls!.map((c) => c.type === 'function' && JSON.parse(c.function.arguments)),
    ).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    const usage = final.usage!
    const [r] = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect([r!.promptTokens, r!.completionTokens, r!.tokensEstimated]).toEqual([
      usage.prompt_tokens,
      usage.completion_tokens,
      false,
    ])
  })

  it('gives a tool without arguments the arguments "{}"', async () => {
    const { model, client } = await claude('noargs')
    const final = await client.chat.completions
      .stream({ model, messages: [{ role: 'user', content: 'Time?' }], tools: [weather] })
      .finalChatCompletion()
    const call = final.choices[0]!.message.tool_calls![0]!
    expect(call.type === 'function' && call.function).toEqual({ name: 'get_time', arguments: '{}' })
  })

  it('sends tool results back as one user turn with sanitised ids on both sides', async () => {
    const { scenario, model, client } = await claude('text')
    await client.chat.completions.create({
      model,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'functions.get_weather:1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '21C' },
        { role: 'tool', tool_call_id: 'functions.get_weather:1', content: [{ type: 'text', text: '24C' }] },
        { role: 'user', content: 'Thanks. Now summarise.' },
      ],
    })
    const [sent] = await mockRequests(scenario)
    const [, assistant, results] = sent!.body.messages
    const rome = assistant.content[1].id
    expect(rome).toMatch(/^functions_get_weather_1_[0-9a-f]{4}$/)
    expect(results).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_a', content: '21C' },
        { type: 'tool_result', tool_use_id: rome, content: [{ type: 'text', text: '24C' }] },
        { type: 'text', text: 'Thanks. Now summarise.' },
      ],
    })
  })

  it('refuses tool-call arguments that are not JSON, naming the field', async () => {
    const { scenario, model, client } = await claude('text')
    const bad = client.chat.completions.create({
      model,
      messages: [
        { role: 'user', content: 'Hi' },
        {
          role: 'assistant',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{nope' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'x' },
      ],
    })
    await expect(bad).rejects.toMatchObject({
      status: 400,
      param: 'messages[1].tool_calls[0].function.arguments',
    })
    expect(await mockRequests(scenario)).toHaveLength(0)
  })
})
