import { describe, expect, it } from 'vitest'
import { eventually, mockRequests, sdk } from '../helpers/gateway'
import { createKey, createModel, createProvider, setup, usageRows } from '../helpers/fixtures'
import { SDKS } from '../helpers/anthropic'

const WEATHER_TOOLS = [
  {
    name: 'get_weather',
    description: 'Weather for a city',
    input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
  },
  {
    name: 'get_forecast',
    input_schema: {
      type: 'object' as const,
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
    },
  },
]

async function oneRow(keyId: string) {
  return eventually(async () => {
    const rows = await usageRows(keyId)
    expect(rows).toHaveLength(1)
    return rows[0]!
  })
}

describe.each(SDKS)('/v1/messages to an OpenAI target through the Anthropic $name', ({ client }) => {
  it('creates a message: text, end_turn, the client model name, usage equal to the upstream and one usage row', async () => {
    const { model, key, provider } = await setup()
    const message = await client(key.raw).messages.create({
      model,
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello there' }],
    })
    expect(message.type).toBe('message')
    expect(message.model).toBe(model)
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from mock upstream.' }])
    expect(message.stop_reason).toBe('end_turn')
    const row = await oneRow(key.id)
    expect(row).toMatchObject({ route: 'messages', status: 200, tokensEstimated: false })
    expect(message.usage.input_tokens).toBe(row.promptTokens)
    expect(message.usage.output_tokens).toBe(row.completionTokens)
    const [seen] = await mockRequests(provider.scenario)
    expect(seen!.path).toBe('/v1/chat/completions')
    expect(seen!.body).toMatchObject({
      model: `up-${model}`,
      max_completion_tokens: 64,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello there' },
      ],
    })
  })

  it('streams every event with its event: line; finalMessage() has the text and the upstream usage', async () => {
    const { model, key } = await setup()
    const stream = client(key.raw).messages.stream({
      model,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello there' }],
    })
    const types: string[] = []
    stream.on('streamEvent', (event) => types.push(event.type))
    const message = await stream.finalMessage()
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from mock upstream.' }])
    expect(message.stop_reason).toBe('end_turn')
    expect(types[0]).toBe('message_start')
    expect(types.at(-1)).toBe('message_stop')
    const row = await oneRow(key.id)
    expect(row).toMatchObject({ route: 'messages', status: 200, stream: true, tokensEstimated: false })
    expect(message.usage.input_tokens).toBe(row.promptTokens)
    expect(message.usage.output_tokens).toBe(row.completionTokens)
  })

  it('translates tools both ways, streamed: interleaved parallel calls arrive as whole tool_use blocks with sanitized ids and cache usage', async () => {
    const { model, key, provider } = await setup({ scenario: `toolcalls~${crypto.randomUUID().slice(0, 8)}` })
    const message = await client(key.raw)
      .messages.stream({
        model,
        max_tokens: 256,
        tools: WEATHER_TOOLS,
        tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: 'Weather in Oslo and Bergen?' }],
      })
      .finalMessage()
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      {
        type: 'tool_use',
        id: expect.stringMatching(/^functions_lookup_1_[0-9a-f]{4}$/),
        name: 'get_forecast',
        input: { city: 'Bergen', days: 2 },
      },
    ])
    expect(message.stop_reason).toBe('tool_use')
    expect(message.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 900, output_tokens: 42 })
    const [seen] = await mockRequests(provider.scenario)
    expect(seen!.body.tool_choice).toBe('required')
    expect(seen!.body.tools[0]).toEqual({
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: WEATHER_TOOLS[0]!.input_schema,
      },
    })
    const row = await oneRow(key.id)
    expect(row.promptTokens).toBe(920)
    expect(row.completionTokens).toBe(42)
  })

  it('sends tool results, images and a trailing system message back in OpenAI form (non-streamed tool reply)', async () => {
    const { model, key, provider } = await setup({ scenario: `toolcalls~${crypto.randomUUID().slice(0, 8)}` })
    const message = await client(key.raw).messages.create({
      model,
      max_tokens: 128,
      tools: WEATHER_TOOLS,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_a', content: 'Sunny' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'text', text: 'And this picture?' },
          ],
        },
        { role: 'system' as never, content: 'Answer in English.' },
      ],
    })
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content[0]).toEqual({ type: 'text', text: 'Checking.' })
    const [seen] = await mockRequests(provider.scenario)
    expect(seen!.body.messages).toEqual([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'Sunny' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'text', text: 'And this picture?' },
        ],
      },
      { role: 'system', content: 'Answer in English.' },
    ])
  })

  it('counts tokens locally, marked as an estimate, without calling the upstream', async () => {
    const { model, key, provider } = await setup()
    const count = await client(key.raw).messages.countTokens({
      model,
      messages: [{ role: 'user', content: 'Hello there, how are you today?' }],
    })
    expect(count.input_tokens).toBeGreaterThan(0)
    expect(await mockRequests(provider.scenario)).toHaveLength(0)
    expect((await oneRow(key.id)).route).toBe('count_tokens')
  })
})

describe('GET /v1/models', () => {
  it('one body that the OpenAI SDK and both Anthropic SDKs parse, listing only the allowed models', async () => {
    const provider = await createProvider()
    const allowed = await createModel([provider.id], { model: `claude-${crypto.randomUUID().slice(0, 8)}` })
    await createModel([provider.id])
    const key = await createKey({ models: [allowed] })
    const openai = await sdk(key.raw).models.list()
    expect(openai.data.map((m) => m.id)).toEqual([allowed])
    for (const { client } of SDKS) {
      const page = await client(key.raw).models.list()
      expect(page.data).toEqual([
        expect.objectContaining({
          id: allowed,
          type: 'model',
          display_name: allowed,
          created_at: expect.any(String),
        }),
      ])
      expect(page.has_more).toBe(false)
      const one = await client(key.raw).models.retrieve(allowed)
      expect(one.id).toBe(allowed)
    }
  })
})
