import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, usageRows } from '../helpers/fixtures'
import { eventually, mockRequests, sdk, UPSTREAM_KEY } from '../helpers/gateway'

// An Anthropic provider on the mock (its scenario picks the reply), one model at $1/$2 per 1M tokens.
async function claude(scenario: string, capabilities: Record<string, unknown> = {}) {
  const provider = await createProvider({
    type: 'anthropic',
    scenario: `${scenario}~${crypto.randomUUID().slice(0, 8)}`,
  })
  const model = await createModel([provider.id], { capabilities })
  const key = await createKey({ models: [model] })
  return { scenario: provider.scenario, model, key, client: sdk(key.raw) }
}

// The usage row, once written, and its cost checked against the tokens the client saw ($1 / $2 per 1M).
async function row(keyId: string, prompt: number, completion: number) {
  const [r] = await eventually(async () => {
    const rows = await usageRows(keyId)
    expect(rows).toHaveLength(1)
    return rows
  })
  expect(r!.promptTokens).toBe(prompt)
  expect(r!.completionTokens).toBe(completion)
  expect(Number(r!.costUsd)).toBeCloseTo((prompt * 1 + completion * 2) / 1e6, 12)
  return r!
}

describe('anthropic upstream: plain chat', () => {
  it('answers a text request in OpenAI shape, with the key in x-api-key and exact usage', async () => {
    const { scenario, model, key, client } = await claude('text')
    const reply = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi there' }],
    })
    expect(reply.choices[0]!.message.content).toBe('Hello from mock Claude.')
    expect(reply.choices[0]!.finish_reason).toBe('stop')
    expect(reply.model).toBe(model)
    const [sent] = await mockRequests(scenario)
    expect(sent!.path).toBe('/v1/messages')
    expect(sent!.headers['x-api-key']).toBe(UPSTREAM_KEY)
    expect(sent!.headers['anthropic-version']).toBe('2023-06-01')
    expect(sent!.authorization).toBeNull()
    expect(sent!.body).toMatchObject({ model: `up-${model}`, max_tokens: 4096 })
    const usage = reply.usage!
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens)
    await row(key.id, usage.prompt_tokens, usage.completion_tokens)
  })

  it('turns system and developer messages into `system` and merges same-role turns', async () => {
    const { scenario, model, client } = await claude('text')
    await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'system', content: [{ type: 'text', text: 'Answer in English.' }] },
        { role: 'user', content: 'One' },
        { role: 'user', content: 'Two' },
        { role: 'assistant', content: 'Ok.' },
        { role: 'developer', content: 'Be kind.' },
        { role: 'user', content: 'Three' },
      ],
    })
    const [sent] = await mockRequests(scenario)
    expect(sent!.body.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Answer in English.' },
      { type: 'text', text: 'Be kind.' },
    ])
    expect(sent!.body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'One' },
          { type: 'text', text: 'Two' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'Ok.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Three' }] },
    ])
  })

  it('maps stop sequences, max_tokens, sampling and finish reasons', async () => {
    const { scenario, model, client } = await claude('stopseq')
    const reply = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      stop: ['END', ' '],
      max_completion_tokens: 100,
      temperature: 1.5,
      top_p: 0.5,
    })
    expect(reply.choices[0]!.finish_reason).toBe('stop')
    const [sent] = await mockRequests(scenario)
    expect(sent!.body).toMatchObject({ stop_sequences: ['END'], max_tokens: 100, temperature: 1 })
    expect(sent!.body.top_p).toBeUndefined()

    const length = await claude('maxtokens')
    const cut = await length.client.chat.completions.create({
      model: length.model,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(cut.choices[0]!.finish_reason).toBe('length')
  })

  it('drops sampling parameters for a model that refuses them', async () => {
    const { scenario, model, client } = await claude('text', {
      sampling: false,
      anthropic_version: '2026-10-21',
    })
    await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.3,
      top_p: 0.9,
    })
    const [sent] = await mockRequests(scenario)
    expect(sent!.headers['anthropic-version']).toBe('2026-10-21')
    expect(sent!.body.temperature).toBeUndefined()
    expect(sent!.body.top_p).toBeUndefined()
  })

  it('sends images as base64 or URL sources and refuses an unsupported type without calling upstream', async () => {
    const { scenario, model, key, client } = await claude('text')
    await client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/x.jpg' } },
          ],
        },
      ],
    })
    const [sent] = await mockRequests(scenario)
    expect(sent!.body.messages[0].content.slice(1)).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/x.jpg' } },
    ])
    const svg = client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } }],
        },
      ],
    })
    await expect(svg).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].content[0]',
      type: 'invalid_request_error',
    })
    expect(await mockRequests(scenario)).toHaveLength(1)
    const rows = await eventually(async () => {
      const r = await usageRows(key.id)
      expect(r).toHaveLength(2)
      return r
    })
    expect(rows.map((r) => r.status).sort()).toEqual([200, 400])
  })

  it('refuses n > 1 before any upstream call', async () => {
    const { scenario, model, client } = await claude('text')
    await expect(
      client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], n: 2 }),
    ).rejects.toMatchObject({ status: 400, param: 'n', code: 'unsupported_parameter' })
    expect(await mockRequests(scenario)).toHaveLength(0)
  })

  it('reports a refusal as content_filter', async () => {
    const { model, client } = await claude('refusal')
    const reply = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] })
    expect(reply.choices[0]!.finish_reason).toBe('content_filter')
    expect(reply.choices[0]!.message.refusal).toBe('Declined by the mock.')
  })

  it('maps reasoning_effort to thinking on a budget model and reports reasoning tokens', async () => {
    const { scenario, model, key, client } = await claude('thinking', { thinking: 'budget' })
    const reply = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Think' }],
      reasoning_effort: 'medium',
      max_completion_tokens: 8000,
    })
    expect(reply.choices[0]!.message.content).toBe('Hello from mock Claude.')
    expect(reply.usage!.completion_tokens_details!.reasoning_tokens).toBe(40)
    const [sent] = await mockRequests(scenario)
    expect(sent!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 })
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'No thinking' }] })
    expect((await mockRequests(scenario))[1]!.body.thinking).toEqual({ type: 'disabled' })
    await eventually(async () => expect(await usageRows(key.id)).toHaveLength(2))
  })
})
