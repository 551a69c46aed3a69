import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, onlyRow, usageRows } from '../helpers/fixtures'
import { eventually, mockRequests, sdk, UPSTREAM_KEY } from '../helpers/gateway'

const hi = [{ role: 'user' as const, content: 'Hi' }]
const tag = () => crypto.randomUUID().slice(0, 8)

async function route(...providers: { type: 'openai' | 'gemini'; scenario: string }[]) {
  const created = []
  for (const p of providers)
    created.push(await createProvider({ type: p.type, scenario: `${p.scenario}~${tag()}` }))
  const model = await createModel(
    created.map((p) => p.id),
    { model: `gemini-3-flash-${tag()}` },
  )
  const key = await createKey({ models: [model] })
  return { scenarios: created.map((p) => p.scenario), model, key, client: sdk(key.raw) }
}

const weather = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}

describe('gemini upstream: chat', () => {
  it('answers a text request with the key in x-goog-api-key, system instruction and exact usage', async () => {
    const { scenarios, model, key, client } = await route({ type: 'gemini', scenario: 'text' })
    const reply = await client.chat.completions.create({
      model,
      messages: [{ role: 'system', content: 'Be brief.' }, ...hi],
      max_tokens: 50,
      stop: ['END'],
    })
    expect(reply.choices[0]!.message.content).toBe('Hello from mock Gemini.')
    expect(reply.choices[0]!.finish_reason).toBe('stop')
    const [sent] = await mockRequests(scenarios[0]!)
    expect(sent!.path).toBe(`/v1beta/models/up-${model}:generateContent`)
    expect(sent!.headers['x-goog-api-key']).toBe(UPSTREAM_KEY)
    expect(sent!.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      generationConfig: { maxOutputTokens: 50, stopSequences: ['END'] },
    })
    const row = await onlyRow(key.id)
    expect([row.promptTokens, row.completionTokens, row.usageSource]).toEqual([
      reply.usage!.prompt_tokens,
      reply.usage!.completion_tokens,
      'upstream',
    ])
  })

  it('bills thoughts as output and cached tokens as a part of the prompt', async () => {
    const { key, model, client } = await route({ type: 'gemini', scenario: 'cache' })
    const reply = await client.chat.completions.create({ model, messages: hi })
    expect(reply.usage).toMatchObject({
      prompt_tokens: 1127,
      completion_tokens: 179,
      total_tokens: 1306,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 148 },
    })
    const row = await onlyRow(key.id)
    expect([row.promptTokens, row.cacheReadTokens, row.completionTokens, row.reasoningTokens]).toEqual([
      1127, 1024, 179, 148,
    ])
    // $1 / $2 per 1M, no cache price: 1127 × 1 + 179 × 2 micro-USD
    expect(row.costUsd).toBe('0.001485000000')
  })

  it('streams text with the final usage chunk taken from the last event, not a sum', async () => {
    const { key, model, client } = await route({ type: 'gemini', scenario: 'thinking' })
    const chunks = []
    for await (const c of await client.chat.completions.create({
      model,
      messages: hi,
      stream: true,
      stream_options: { include_usage: true },
    }))
      chunks.push(c)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from mock Gemini.')
    const usage = chunks.at(-1)!.usage!
    expect(usage.completion_tokens).toBe(5 + 148)
    expect((await onlyRow(key.id)).completionTokens).toBe(153)
  })

  it('maps parallel tool calls, keeps thought signatures, and finishes with tool_calls', async () => {
    const { scenarios, model, client } = await route({ type: 'gemini', scenario: 'tools' })
    const reply = await client.chat.completions.create({
      model,
      messages: hi,
      tools: [weather],
      tool_choice: 'required',
    })
    const choice = reply.choices[0]!
    expect(choice.finish_reason).toBe('tool_calls')
    const calls = choice.message.tool_calls as any[]
    expect(calls.map((c) => JSON.parse(c.function.arguments))).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    expect(calls[0].extra_content).toEqual({ google: { thought_signature: 'sig-A' } })
    expect(new Set(calls.map((c) => c.id)).size).toBe(2)
    const [sent] = await mockRequests(scenarios[0]!)
    expect(sent!.body.tools).toEqual([
      { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weather.function.parameters }] },
    ])
    expect(sent!.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } })

    // The next turn: results named from the call ids, signature echoed (the gemini-3 rule the mock enforces).
    await client.chat.completions.create({
      model,
      tools: [weather],
      messages: [
        ...hi,
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: calls[0].id, content: '21C' },
        { role: 'tool', tool_call_id: calls[1].id, content: '{"temp":24}' },
      ],
    })
    const second = (await mockRequests(scenarios[0]!))[1]!.body.contents
    expect(second[1].parts[0].thoughtSignature).toBe('sig-A')
    expect(second[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { output: '21C' } } },
        { functionResponse: { name: 'get_weather', response: { temp: 24 } } },
      ],
    })
  })

  it('sends a history without signatures with the documented skip value', async () => {
    const { scenarios, model, client } = await route({ type: 'gemini', scenario: 'text' })
    await client.chat.completions.create({
      model,
      messages: [
        ...hi,
        {
          role: 'assistant',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    })
    const [sent] = await mockRequests(scenarios[0]!)
    expect(sent!.body.contents[1].parts[0].thoughtSignature).toBe('skip_thought_signature_validator')
  })

  it('streams calls split over events with indices 0 and 1 and finish tool_calls', async () => {
    const { model, client } = await route({ type: 'gemini', scenario: 'splittools' })
    const final = await client.chat.completions
      .stream({ model, messages: hi, tools: [weather] })
      .finalChatCompletion()
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    expect(final.choices[0]!.message.tool_calls!.map((c: any) => JSON.parse(c.function.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Rome' },
    ])
  })

  it('maps MAX_TOKENS and SAFETY, and refuses a blocked prompt with 400 content_filter', async () => {
    const long = await route({ type: 'gemini', scenario: 'maxtokens' })
    expect(
      (await long.client.chat.completions.create({ model: long.model, messages: hi })).choices[0]!
        .finish_reason,
    ).toBe('length')
    const unsafe = await route({ type: 'gemini', scenario: 'safety' })
    expect(
      (await unsafe.client.chat.completions.create({ model: unsafe.model, messages: hi })).choices[0]!
        .finish_reason,
    ).toBe('content_filter')
    const blocked = await route({ type: 'gemini', scenario: 'blocked' }, { type: 'openai', scenario: 'ok' })
    await expect(
      blocked.client.chat.completions.create({ model: blocked.model, messages: hi }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'content_filter',
    })
    expect(await mockRequests(blocked.scenarios[1]!)).toHaveLength(0)
  })

  it('ends a stream cut by an error event, or without a finish reason, with an error and no [DONE]', async () => {
    for (const scenario of ['errorafter2', 'nofinish']) {
      const { key, model, client } = await route({ type: 'gemini', scenario })
      const run = async () => {
        for await (const _ of await client.chat.completions.create({ model, messages: hi, stream: true }))
          void _
      }
      await expect(run()).rejects.toMatchObject({ code: 'upstream_error' })
      const row = await onlyRow(key.id)
      expect([row.status, row.usageSource]).toEqual([502, 'partial'])
    }
  })
})

describe('gemini upstream: errors', () => {
  it("never blames the client for the operator's invalid key (400 API_KEY_INVALID): next target, else 502", async () => {
    const fallback = await route({ type: 'gemini', scenario: 'badkey' }, { type: 'openai', scenario: 'ok' })
    const reply = await fallback.client.chat.completions.create({ model: fallback.model, messages: hi })
    expect(reply.choices[0]!.message.content).toBe('Hello from mock upstream.')
    const alone = await route({ type: 'gemini', scenario: 'badkey' })
    await expect(
      alone.client.chat.completions.create({ model: alone.model, messages: hi }),
    ).rejects.toMatchObject({
      status: 502,
    })
  })

  it('relays a plain 400 and falls back on 503', async () => {
    const bad = await route({ type: 'gemini', scenario: 'status400' }, { type: 'openai', scenario: 'ok' })
    await expect(
      bad.client.chat.completions.create({ model: bad.model, messages: hi }),
    ).rejects.toMatchObject({ status: 400 })
    const down = await route({ type: 'gemini', scenario: 'status503' }, { type: 'openai', scenario: 'ok' })
    expect(
      (await down.client.chat.completions.create({ model: down.model, messages: hi })).choices,
    ).toHaveLength(1)
  })
})

describe('gemini upstream: embeddings', () => {
  it('embeds in base64 (the SDK default) and float, in order, with the dimensions asked', async () => {
    const { scenarios, model, key, client } = await route({ type: 'gemini', scenario: 'embedusage' })
    const input = ['alpha', 'beta', 'gamma']
    const b64 = await client.embeddings.create({ model, input, dimensions: 4 })
    const float = await client.embeddings.create({ model, input, dimensions: 4, encoding_format: 'float' })
    expect(b64.data.map((d) => d.embedding)).toEqual(float.data.map((d) => d.embedding))
    expect(float.data.map((d) => d.embedding.length)).toEqual([4, 4, 4])
    expect(new Set(float.data.map((d) => d.embedding.join())).size).toBe(3)
    const [sent] = await mockRequests(scenarios[0]!)
    expect(sent!.path).toBe(`/v1beta/models/up-${model}:batchEmbedContents`)
    expect(sent!.body.requests[1]).toEqual({
      model: `models/up-${model}`,
      content: { parts: [{ text: 'beta' }] },
      outputDimensionality: 4,
    })
    expect(float.usage.prompt_tokens).toBe(5) // the mock: ⌈chars / 4⌉ per input
    const rows = await eventually(async () => {
      const r = await usageRows(key.id)
      expect(r).toHaveLength(2)
      return r
    })
    expect(rows.map((r) => [r.promptTokens, r.usageSource])).toEqual([
      [5, 'upstream'],
      [5, 'upstream'],
    ])
  })
})
