import { exports } from 'cloudflare:workers'
import { ApiError, GoogleGenAI, type Content } from '@google/genai/web'
import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, onlyRow, usageRows } from '../helpers/fixtures'
import { eventually, gateway, mockRequests, ORIGIN, UPSTREAM_KEY } from '../helpers/gateway'
import { parsePrometheus } from '../helpers/prometheus'

// @google/genai 3.x against the gateway, as Gemini CLI and SDK users point it (docs/gemini.md): the origin
// as base URL, the virtual key as the API key (sent as x-goog-api-key). The SDK's default version is v1;
// Gemini CLI's bundled SDK calls v1beta, so both are exercised.
const toWorker = (url: unknown, init: unknown) =>
  exports.default.fetch(new Request(url as string, init as RequestInit))

function genai(apiKey: string, apiVersion: 'v1' | 'v1beta' = 'v1beta') {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: ORIGIN, apiVersion, fetch: toWorker as never } })
}

const tag = () => crypto.randomUUID().slice(0, 8)

async function route(type: 'openai' | 'anthropic' | 'gemini', scenario: string, key: object = {}) {
  const provider = await createProvider({ type, scenario: `${scenario}~${tag()}` })
  const model = await createModel([provider.id], { model: `gemini-3-flash-${tag()}` })
  const created = await createKey({ models: [model], ...key })
  return { scenario: provider.scenario, model, key: created, ai: genai(created.raw) }
}

const weather = {
  name: 'get_weather',
  description: 'Current weather',
  parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

describe('Gemini API inbound: a Gemini target (passthrough)', () => {
  it('relays generateContent with the client body untouched but the model, and bills thoughts and cache', async () => {
    const { scenario, model, key, ai } = await route('gemini', 'cache')
    const reply = await ai.models.generateContent({
      model,
      contents: 'Hi',
      config: {
        systemInstruction: 'Be brief.',
        safetySettings: [],
        thinkingConfig: { thinkingBudget: 8192 },
      },
    })
    expect(reply.text).toBe('Hello from mock Gemini.')
    expect(reply.usageMetadata).toMatchObject({ thoughtsTokenCount: 148, cachedContentTokenCount: 1024 })
    const [sent] = await mockRequests(scenario)
    expect(sent!.path).toBe(`/v1beta/models/up-${model}:generateContent`)
    expect(sent!.headers['x-goog-api-key']).toBe(UPSTREAM_KEY)
    expect(sent!.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { thinkingConfig: { thinkingBudget: 8192 } },
    })
    const row = await onlyRow(key.id)
    expect([
      row.route,
      row.promptTokens,
      row.cacheReadTokens,
      row.completionTokens,
      row.reasoningTokens,
    ]).toEqual(['gemini', 1127, 1024, 179, 148])
  })

  it('streams over SSE with ?alt=sse and keeps thought signatures on a function-call round trip', async () => {
    const { scenario, model, key, ai } = await route('gemini', 'tools')
    const parts = []
    for await (const chunk of await ai.models.generateContentStream({
      model,
      contents: 'Weather in Paris and Rome?',
      config: { tools: [{ functionDeclarations: [weather] }] },
    }))
      parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []))
    const calls = parts.filter((p) => p.functionCall)
    expect(calls.map((p) => p.functionCall!.args)).toEqual([{ city: 'Paris' }, { city: 'Rome' }])
    expect(calls[0]!.thoughtSignature).toBe('sig-A')
    const [first] = await mockRequests(scenario)
    expect(first!.path).toBe(`/v1beta/models/up-${model}:streamGenerateContent`)
    expect(first!.body.tools).toEqual([{ functionDeclarations: [weather] }])

    // The next turn, as Gemini CLI sends it: the model turn with its signature, then the responses.
    const history: Content[] = [
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      { role: 'model', parts },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: '21C' } } },
          { functionResponse: { name: 'get_weather', response: { output: '24C' } } },
        ],
      },
    ]
    const next = await genai(key.raw).models.generateContent({ model, contents: history })
    expect(next.functionCalls?.length).toBeGreaterThan(0)
    const [, second] = await mockRequests(scenario)
    expect(second!.body.contents[1].parts.find((p: any) => p.functionCall).thoughtSignature).toBe('sig-A')
    const rows = await eventually(async () => {
      const r = await usageRows(key.id)
      expect(r).toHaveLength(2)
      return r
    })
    expect(rows.map((r) => [r.route, r.status])).toEqual([
      ['gemini', 200],
      ['gemini', 200],
    ])
  })

  it('streams as one JSON array without ?alt=sse', async () => {
    const { model, key } = await route('gemini', 'thinking')
    const res = await gateway(`/v1beta/models/${model}:streamGenerateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key.raw, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }),
    })
    expect(res.status).toBe(200)
    const array = JSON.parse(await res.text()) as any[]
    const text = array
      .flatMap((e) => e.candidates[0].content.parts)
      .filter((p: any) => !p.thought)
      .map((p: any) => p.text)
      .join('')
    expect(text).toBe('Hello from mock Gemini.')
    expect(array.at(-1).usageMetadata.thoughtsTokenCount).toBe(148)
    expect((await onlyRow(key.id)).completionTokens).toBe(153)
  })

  it('counts tokens at the target and embeds through batchEmbedContents', async () => {
    const { scenario, model, key, ai } = await route('gemini', 'embedusage')
    const counted = await ai.models.countTokens({ model, contents: 'How many tokens is this?' })
    expect(counted.totalTokens).toBeGreaterThan(0)
    const embedded = await ai.models.embedContent({
      model,
      contents: ['one', 'two'],
      config: { outputDimensionality: 4 },
    })
    expect(embedded.embeddings?.map((e) => e.values?.length)).toEqual([4, 4])
    const sent = await mockRequests(scenario)
    expect(sent.map((s) => s.path)).toEqual([
      `/v1beta/models/up-${model}:countTokens`,
      `/v1beta/models/up-${model}:batchEmbedContents`,
    ])
    const rows = await eventually(async () => {
      const r = await usageRows(key.id)
      expect(r).toHaveLength(2)
      return r
    })
    expect(rows.map((r) => r.route)).toEqual(['gemini', 'gemini'])
    expect(rows[0]!.costUsd).toBe('0.000000000000')
  })

  it('accepts the key as ?key= and as a Bearer token, and lists the models in Gemini shape', async () => {
    const { model, key } = await route('gemini', 'text')
    const listed = await gateway(`/v1beta/models?key=${key.raw}`)
    expect(await listed.json()).toMatchObject({ models: [{ name: `models/${model}` }] })
    // @google/genai 3.x lists at /v1/models: the OpenAI list body carries Gemini's `models` too.
    for (const version of ['v1', 'v1beta'] as const) {
      const names = []
      for await (const m of await genai(key.raw, version).models.list()) names.push(m.name)
      expect(names).toEqual([`models/${model}`])
    }
    const res = await gateway(`/v1/models/${model}:generateContent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'Hi' }] }] }),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('server-timing')).toMatch(/gateway;dur=\d+, upstream;dur=\d+/)
    // Counted under its own route label.
    await eventually(async () => {
      const metrics = parsePrometheus(await (await gateway('/metrics')).text())
      const sample = metrics
        .get('nexusai_requests_total')
        ?.samples.find(
          (s) => s.labels.model === model && s.labels.route === 'gemini' && s.labels.status === '200',
        )
      expect(sample?.value).toBe(1)
    })
  })
})

describe('Gemini API inbound: translated targets', () => {
  for (const type of ['openai', 'anthropic'] as const)
    it(`answers generateContent and a stream from an ${type} target in Gemini's shapes`, async () => {
      const { scenario, model, key, ai } = await route(type, 'ok')
      const reply = await genai(key.raw, 'v1').models.generateContent({
        model,
        contents: 'Hi',
        config: { systemInstruction: 'Be brief.', maxOutputTokens: 50 },
      })
      expect(reply.text).toMatch(/^Hello from mock/)
      expect(reply.candidates![0]!.finishReason).toBe('STOP')
      expect(reply.usageMetadata!.promptTokenCount).toBeGreaterThan(0)
      const [sent] = await mockRequests(scenario)
      if (type === 'openai')
        expect(sent!.body).toMatchObject({
          model: `up-${model}`,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hi' },
          ],
          max_completion_tokens: 50,
        })
      else {
        expect(sent!.body).toMatchObject({ max_tokens: 50, messages: [{ role: 'user' }] })
        expect(JSON.stringify(sent!.body.system)).toContain('Be brief.')
      }

      let text = ''
      let last: any
      for await (const chunk of await ai.models.generateContentStream({ model, contents: 'Hi' })) {
        text += chunk.text ?? ''
        last = chunk
      }
      expect(text).toMatch(/^Hello from mock/)
      expect(last.candidates[0].finishReason).toBe('STOP')
      const rows = await eventually(async () => {
        const r = await usageRows(key.id)
        expect(r).toHaveLength(2)
        return r
      })
      expect(rows.map((r) => [r.route, r.status, r.usageSource])).toEqual([
        ['gemini', 200, 'upstream'],
        ['gemini', 200, 'upstream'],
      ])
      expect(rows[1]!.completionTokens).toBe(last.usageMetadata.candidatesTokenCount)
    })

  it('runs a function-call round trip on an OpenAI target', async () => {
    const { scenario, model, ai } = await route('openai', 'toolcalls')
    const tools = [{ functionDeclarations: [weather, { ...weather, name: 'get_time' }] }]
    const reply = await ai.models.generateContent({ model, contents: 'Weather?', config: { tools } })
    const calls = reply.functionCalls!
    expect(calls.map((c) => [c.name, c.args])).toEqual([
      ['get_weather', { city: 'Oslo' }],
      ['get_time', { city: 'Bergen', days: 2 }],
    ])
    const history: Content[] = [
      { role: 'user', parts: [{ text: 'Weather?' }] },
      reply.candidates![0]!.content!,
      {
        role: 'user',
        parts: calls.map((c) => ({
          functionResponse: { id: c.id, name: c.name, response: { output: 'ok' } },
        })),
      },
    ]
    const stream = await ai.models.generateContentStream({ model, contents: history, config: { tools } })
    for await (const chunk of stream) void chunk
    const [, second] = await mockRequests(scenario)
    expect(second!.body.tools[0]).toEqual({
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: weather.parametersJsonSchema,
      },
    })
    expect(second!.body.messages.slice(1)).toMatchObject([
      { role: 'assistant', tool_calls: [{ id: calls[0]!.id }, { id: calls[1]!.id }] },
      { role: 'tool', tool_call_id: calls[0]!.id, content: '{"output":"ok"}' },
      { role: 'tool', tool_call_id: calls[1]!.id, content: '{"output":"ok"}' },
    ])
  })

  it('runs a function-call round trip on an Anthropic target, the tool ids echoed through functionCall.id', async () => {
    const { scenario, model, ai } = await route('anthropic', 'tools')
    const tools = [{ functionDeclarations: [weather] }]
    const stream = await ai.models.generateContentStream({ model, contents: 'Weather?', config: { tools } })
    const parts = []
    for await (const chunk of stream) parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []))
    const calls = parts.filter((p) => p.functionCall).map((p) => p.functionCall!)
    expect(calls.map((c) => [c.id, c.args])).toEqual([
      ['toolu_01A', { city: 'Paris' }],
      ['toolu_01B', { city: 'Rome' }],
    ])
    await ai.models.generateContent({
      model,
      config: { tools },
      contents: [
        { role: 'user', parts: [{ text: 'Weather?' }] },
        { role: 'model', parts },
        {
          role: 'user',
          parts: calls.map((c) => ({
            functionResponse: { id: c.id, name: c.name, response: { output: c.id } },
          })),
        },
      ],
    })
    // The Anthropic mock refuses a tool_result that answers no tool_use of the turn before.
    const [, second] = await mockRequests(scenario)
    expect(second!.body.messages.at(-1).content).toMatchObject([
      { type: 'tool_result', tool_use_id: 'toolu_01A' },
      { type: 'tool_result', tool_use_id: 'toolu_01B' },
    ])
  })

  it('embeds on an OpenAI target and counts tokens locally when the target has no count endpoint', async () => {
    const { model, ai } = await route('openai', 'ok')
    const embedded = await ai.models.embedContent({ model, contents: 'one' })
    expect(embedded.embeddings![0]!.values!.length).toBeGreaterThan(0)
    const counted = await ai.models.countTokens({ model, contents: 'Hi there' })
    expect(counted.totalTokens).toBeGreaterThan(0)
  })
})

describe('Gemini API inbound: fallback and broken streams', () => {
  it('falls back across protocols: a Gemini target that is unavailable, then an OpenAI one translated', async () => {
    const gemini = await createProvider({ type: 'gemini', scenario: `status503~${tag()}` })
    const openai = await createProvider({ type: 'openai', scenario: `ok~${tag()}` })
    const model = await createModel([gemini.id, openai.id], { model: `gemini-3-flash-${tag()}` })
    const key = await createKey({ models: [model] })
    const reply = await genai(key.raw).models.generateContent({ model, contents: 'Hi' })
    expect(reply.text).toBe('Hello from mock upstream.')
    expect(await mockRequests(gemini.scenario)).not.toHaveLength(0)
    const row = await onlyRow(key.id)
    expect([row.provider, row.status]).toEqual([openai.name, 200])
  })

  it('ends a stream the upstream breaks with one Google error element, and logs it', async () => {
    const { model, key, ai } = await route('gemini', 'errorafter2')
    const texts: string[] = []
    const error = await (async () => {
      for await (const chunk of await ai.models.generateContentStream({ model, contents: 'Hi' }))
        texts.push(chunk.text ?? '')
    })().catch((e: unknown) => e)
    expect(texts.join('')).toBe('Hello from')
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(502)
    const row = await onlyRow(key.id)
    expect([row.status, row.errorCode]).toEqual([502, 'upstream_stream_broken'])
  })
})

describe('Gemini API inbound: errors the SDK raises as ApiError with Google status names', () => {
  const failure = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ApiError)
    const { status, message } = error as ApiError
    return { status, body: JSON.parse(message) as { error: { code: number; status: string } } }
  }

  it('refuses a bad key (401 UNAUTHENTICATED), a model not allowed (403) and an exhausted budget (429)', async () => {
    const { model, key } = await route('gemini', 'text', { dailyBudget: '0.000001' })
    const bad = await failure(genai('lgw_not-a-key').models.generateContent({ model, contents: 'Hi' }))
    expect([bad.status, bad.body.error.status]).toEqual([401, 'UNAUTHENTICATED'])
    const other = await failure(
      genai(key.raw).models.generateContent({ model: 'gemini-other', contents: 'Hi' }),
    )
    expect([other.status, other.body.error.status]).toEqual([403, 'PERMISSION_DENIED'])
    const budget = await failure(
      genai(key.raw).models.generateContent({ model, contents: 'Hi', config: { maxOutputTokens: 100_000 } }),
    )
    expect([budget.status, budget.body.error.status]).toEqual([429, 'RESOURCE_EXHAUSTED'])
  })

  it('answers an unknown method and a schema error in Google shape', async () => {
    const { model, key } = await route('gemini', 'text')
    const unknown = await gateway(`/v1beta/models/${model}:predictLongRunning`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key.raw },
      body: '{}',
    })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } })
    const invalid = await gateway(`/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key.raw },
      body: JSON.stringify({ contents: [] }),
    })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } })
  })
})
