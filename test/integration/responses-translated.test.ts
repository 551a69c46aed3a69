import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, usageRows } from '../helpers/fixtures'
import { eventually, gateway, keyedPost, mockRequests, sdk, uid } from '../helpers/gateway'

// /v1/responses on anthropic and gemini targets (docs/gemini.md): translated through chat, so Codex and
// the Agents SDK run on any model. The requests below are shaped like Codex 0.169's (docs/clients.md).
type Type = 'openai' | 'anthropic' | 'gemini'

async function route(...providers: { type: Type; scenario: string }[]) {
  const created = []
  for (const p of providers)
    created.push(await createProvider({ type: p.type, scenario: `${p.scenario}~${uid()}` }))
  const model = await createModel(
    created.map((p) => p.id),
    { model: `gemini-3-m-${uid()}` },
  )
  const key = await createKey({ models: [model] })
  return { scenarios: created.map((p) => p.scenario), model, key, client: sdk(key.raw) }
}

async function rows(keyId: string, n: number) {
  return eventually(async () => {
    const found = await usageRows(keyId)
    expect(found).toHaveLength(n)
    return found
  })
}

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
}
// What every Codex request carries besides its function tools.
const codexExtras = [
  {
    type: 'namespace',
    name: 'multi_agent_v1',
    description: 'Agents',
    tools: [{ type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } }],
  },
  { type: 'web_search', external_web_access: false },
] as any[]

describe('/v1/responses translated to anthropic and gemini targets', () => {
  for (const [type, scenario, text] of [
    ['anthropic', 'ok', 'Hello from mock Claude.'],
    ['gemini', 'text', 'Hello from mock Gemini.'],
  ] as const)
    it(`creates a JSON response on a ${type} target with instructions, usage and one usage row`, async () => {
      const { scenarios, model, key, client } = await route({ type, scenario })
      const response = await client.responses.create({
        model,
        instructions: 'Be brief.',
        input: [
          { role: 'developer', content: [{ type: 'input_text', text: 'Repo rules.' }] },
          { role: 'user', content: [{ type: 'input_text', text: 'Hello' }] },
        ],
        max_output_tokens: 64,
        store: false,
      })
      expect(response.output_text).toBe(text)
      expect(response.id).toMatch(/^resp_nx/)
      expect(response.status).toBe('completed')
      expect(response.usage!.input_tokens).toBeGreaterThan(0)
      const [sent] = await mockRequests(scenarios[0]!)
      expect(JSON.stringify(sent!.body)).toContain('Be brief.')
      expect(JSON.stringify(sent!.body)).toContain('Repo rules.')
      const [row] = await rows(key.id, 1)
      expect([row!.route, row!.status, row!.usageSource, row!.promptTokens, row!.completionTokens]).toEqual([
        'responses',
        200,
        'upstream',
        response.usage!.input_tokens,
        response.usage!.output_tokens,
      ])
    })

  for (const [type, scenario] of [
    ['anthropic', 'ok'],
    ['gemini', 'thinking'],
  ] as const)
    it(`streams the Responses events in order from a ${type} target, usage in response.completed`, async () => {
      const { model, key, client } = await route({ type, scenario })
      const stream = await client.responses.create({ model, input: 'Hello', stream: true })
      const events: any[] = []
      for await (const event of stream) events.push(event)
      const types = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1])
      expect(types).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ])
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
      const completed = events.at(-1).response
      expect(completed.output[0].content[0].text).toMatch(/^Hello from mock/)
      const [row] = await rows(key.id, 1)
      expect(row!.completionTokens).toBe(completed.usage.output_tokens)
      expect(row!.stream).toBe(true)
    })

  for (const [type, scenario] of [
    ['anthropic', 'tools'],
    ['gemini', 'tools'],
  ] as const)
    it(`runs a Codex-shaped function-call round trip on a ${type} target (namespace flattened, web_search left out)`, async () => {
      const { scenarios, model, client } = await route({ type, scenario })
      const tools = [weather, ...codexExtras]
      const first = await client.responses.create({
        model,
        input: 'Weather in Paris and Rome?',
        tools,
        tool_choice: 'auto',
        parallel_tool_calls: true,
        store: false,
      })
      const calls = first.output.filter((o) => o.type === 'function_call') as any[]
      expect(calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
        ['get_weather', { city: 'Paris' }],
        ['get_weather', { city: 'Rome' }],
      ])
      const [sent] = await mockRequests(scenarios[0]!)
      const offered = JSON.stringify(sent!.body.tools)
      expect(offered).toContain('multi_agent_v1__spawn_agent')
      expect(offered).not.toContain('web_search')

      // The next turn with the full history, as Codex sends it with store: false.
      const stream = await client.responses.create({
        model,
        store: false,
        stream: true,
        tools,
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris and Rome?' }] },
          { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' } as any,
          ...calls.map((c) => ({
            type: 'function_call',
            call_id: c.call_id,
            name: c.name,
            arguments: c.arguments,
          })),
          ...calls.map((c, i) => ({
            type: 'function_call_output',
            call_id: c.call_id,
            output: i ? '24C' : '21C',
          })),
        ],
      })
      for await (const event of stream) void event
      const [, second] = await mockRequests(scenarios[0]!)
      const history = JSON.stringify(second!.body)
      expect(history).toContain('21C')
      expect(history).toContain('24C')
      if (type === 'gemini') {
        // Gemini's thought signature came back inside the call_id Codex echoes, and goes on its call again.
        expect(calls[0].call_id).toContain('.gts.sig-A')
        expect(second!.body.contents[1].parts[0].thoughtSignature).toBe('sig-A')
      }
    })

  it('relays a Codex-shaped full-history turn to an OpenAI target as sent, and its refusal of an orphan tool output', async () => {
    const { scenarios, model, key, client } = await route({ type: 'openai', scenario: 'ok' })
    const input = [
      { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '21C' },
    ] as any[]
    const tools = [weather, ...codexExtras]
    const response = await client.responses.create({ model, input, tools, store: false })
    expect(response.output_text).toBe('Hello from mock upstream.')
    const [sent] = await mockRequests(scenarios[0]!)
    expect(sent!.body).toEqual({ model: `up-${model}`, input, tools, store: false })
    const orphan = await gateway(
      '/v1/responses',
      keyedPost(key.raw, { model, input: [input[0], input[2]], store: false }),
    )
    expect(orphan.status).toBe(400)
    expect(await orphan.json()).toMatchObject({ error: { message: expect.stringContaining('call_1') } })
  })

  it('falls back across protocols: an OpenAI target that fails, then a translated anthropic one', async () => {
    const { model, key, client } = await route(
      { type: 'openai', scenario: 'status500' },
      { type: 'anthropic', scenario: 'ok' },
    )
    const response = await client.responses.create({ model, input: 'Hello' })
    expect(response.output_text).toBe('Hello from mock Claude.')
    const [row] = await rows(key.id, 1)
    expect(row!.status).toBe(200)
  })

  it('passes text.format, max_output_tokens and reasoning.effort on to a gemini target', async () => {
    const { scenarios, model, client } = await route({ type: 'gemini', scenario: 'text' })
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] }
    await client.responses.create({
      model,
      input: 'Hello',
      max_output_tokens: 100,
      reasoning: { effort: 'low' },
      text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } },
    })
    const [sent] = await mockRequests(scenarios[0]!)
    expect(sent!.body.generationConfig).toMatchObject({
      maxOutputTokens: 100,
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
      thinkingConfig: { thinkingLevel: 'LOW' },
    })
  })

  it('answers previous_response_id of a translated response and background: true with a clear 400', async () => {
    const { model, key, client } = await route({ type: 'anthropic', scenario: 'ok' })
    const first = await client.responses.create({ model, input: 'Hello' })
    const follow = await gateway(
      '/v1/responses',
      keyedPost(key.raw, { model, input: 'And then?', previous_response_id: first.id }),
    )
    expect(follow.status).toBe(400)
    expect(await follow.json()).toMatchObject({
      error: { param: 'previous_response_id', message: expect.stringContaining('whole conversation') },
    })
    const stored = await gateway(`/v1/responses/${first.id}`, {
      headers: { authorization: `Bearer ${key.raw}` },
    })
    expect(stored.status).toBe(404)
    expect(await stored.json()).toMatchObject({ error: { message: expect.stringContaining('kept nowhere') } })
    const background = await gateway(
      '/v1/responses',
      keyedPost(key.raw, { model, input: 'Hi', background: true }),
    )
    expect(background.status).toBe(400)
    expect(await background.json()).toMatchObject({ error: { param: 'background' } })
  })
})
