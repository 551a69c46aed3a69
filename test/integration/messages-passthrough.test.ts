import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, usageRows } from '../helpers/fixtures'
import { eventually, gateway, keyedPost, mockRequests, UPSTREAM_KEY } from '../helpers/gateway'
import { anthropic, anthropicZero, SDKS } from '../helpers/anthropic'

// An Anthropic provider on the mock (its scenario picks the reply), behind one model.
async function claude(scenario: string) {
  const provider = await createProvider({
    type: 'anthropic',
    scenario: `${scenario}~${crypto.randomUUID().slice(0, 8)}`,
  })
  const model = await createModel([provider.id])
  const key = await createKey({ models: [model] })
  return { scenario: provider.scenario, model, key }
}

async function oneRow(keyId: string) {
  return eventually(async () => {
    const rows = await usageRows(keyId)
    expect(rows).toHaveLength(1)
    return rows[0]!
  })
}

describe.each(SDKS)('/v1/messages passthrough to an Anthropic target, $name', ({ client }) => {
  it('relays the body untouched but the model, with the upstream key and the client version, and records exact cache usage', async () => {
    const { scenario, model, key } = await claude('cache')
    const request = {
      model,
      max_tokens: 64,
      system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'Hello there' }],
      context_management: { edits: [] },
    }
    const message = await client(key.raw).messages.create(request as never)
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from mock Claude.' }])
    expect(message.usage).toMatchObject({
      input_tokens: 31,
      cache_read_input_tokens: 8000,
      cache_creation_input_tokens: 1200,
    })
    const [seen] = await mockRequests(scenario)
    expect(seen!.path).toBe('/v1/messages')
    expect(seen!.body).toEqual({ ...request, model: `up-${model}` })
    expect(seen!.headers['x-api-key']).toBe(UPSTREAM_KEY)
    expect(seen!.headers.authorization).toBeUndefined()
    expect(JSON.stringify(seen)).not.toContain(key.raw)
    const row = await oneRow(key.id)
    expect(row).toMatchObject({ route: 'messages', status: 200, tokensEstimated: false })
    expect(row.promptTokens).toBe(31 + 8000 + 1200)
    expect(row.completionTokens).toBe(message.usage.output_tokens)
  })

  it('count_tokens is answered by the Anthropic target, not estimated', async () => {
    const { scenario, model, key } = await claude('plain')
    const messages = [{ role: 'user' as const, content: 'Hello there, count me' }]
    const { data, response } = await client(key.raw).messages.countTokens({ model, messages }).withResponse()
    expect(data.input_tokens).toBe(Math.ceil(JSON.stringify(['', messages, []]).length / 4))
    expect(response.headers.get('x-nexusai-token-count')).toBeNull()
    const [seen] = await mockRequests(scenario)
    expect(seen!.path).toBe('/v1/messages/count_tokens')
    expect(seen!.body).toEqual({ model: `up-${model}`, messages })
    expect((await oneRow(key.id)).route).toBe('count_tokens')
  })

  it('relays the stream event by event: finalMessage() has the tool calls and the usage row matches', async () => {
    const { model, key } = await claude('tools+cache')
    const stream = client(key.raw).messages.stream({
      model,
      max_tokens: 64,
      tools: [
        { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ],
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
    })
    const message = await stream.finalMessage()
    expect(message.stop_reason).toBe('tool_use')
    expect(
      message.content.filter((b) => b.type === 'tool_use').map((b) => (b as { input: unknown }).input),
    ).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    const row = await oneRow(key.id)
    expect(row).toMatchObject({ stream: true, tokensEstimated: false })
    expect(row.promptTokens).toBe(31 + 8000 + 1200)
    expect(row.completionTokens).toBe(message.usage.output_tokens)
  })
})

describe('/v1/messages passthrough failures', () => {
  it('an upstream error event mid-stream reaches the SDK as an APIError; the row keeps the usage so far', async () => {
    const { model, key } = await claude('errorafter2')
    const stream = anthropic(key.raw).messages.stream({
      model,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    })
    const error = (await stream.finalMessage().catch((e: unknown) => e)) as { constructor: { name: string } }
    expect(error.constructor.name).toBe('APIError')
    const row = await oneRow(key.id)
    expect(row.errorCode).toBe('upstream_stream_broken')
    expect(row.promptTokens).toBeGreaterThan(0)
  })

  it('an overloaded Anthropic target falls back to the OpenAI one, translated', async () => {
    const down = await createProvider({
      type: 'anthropic',
      scenario: `status529~${crypto.randomUUID().slice(0, 8)}`,
    })
    const backup = await createProvider()
    const model = await createModel([down.id, backup.id])
    const key = await createKey({ models: [model] })
    const message = await anthropic(key.raw).messages.create({
      model,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from mock upstream.' }])
    expect((await oneRow(key.id)).provider).toBe(backup.name)
  })
})

describe('/v1/messages passthrough headers', () => {
  it('forwards anthropic-version of SDK 1.x and the beta list of SDK 0.x, no SDK telemetry headers', async () => {
    const one = await claude('plain')
    await anthropic(one.key.raw).messages.create({
      model: one.model,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    })
    const [seen1] = await mockRequests(one.scenario)
    expect(seen1!.headers['anthropic-version']).toBe('2026-10-21')

    const zero = await claude('plain')
    await anthropicZero(zero.key.raw).beta.messages.create({
      model: zero.model,
      max_tokens: 16,
      betas: ['a-1', 'b-2'] as never,
      messages: [{ role: 'user', content: 'hi' }],
    })
    const [seen0] = await mockRequests(zero.scenario)
    expect(seen0!.headers['anthropic-version']).toBe('2023-06-01')
    expect(seen0!.headers['anthropic-beta']).toBe('a-1,b-2')
    expect(seen0!.headers['x-stainless-lang']).toBeUndefined()
  })

  it('sends server tools, which only Anthropic can run, to the Anthropic target even when an OpenAI one comes first', async () => {
    const openai = await createProvider()
    const claudeProvider = await createProvider({
      type: 'anthropic',
      scenario: `plain~${crypto.randomUUID().slice(0, 8)}`,
    })
    const model = await createModel([openai.id, claudeProvider.id])
    const key = await createKey({ models: [model] })
    const res = await gateway(
      '/v1/messages',
      keyedPost(key.raw, {
        model,
        max_tokens: 16,
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        messages: [{ role: 'user', content: 'news?' }],
      }),
    )
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await mockRequests(openai.scenario)).toHaveLength(0)
    expect(await mockRequests(claudeProvider.scenario)).toHaveLength(1)
  })
})
