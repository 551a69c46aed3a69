import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, onlyRow } from '../helpers/fixtures'
import { mockRequests, sdk } from '../helpers/gateway'

const tag = () => crypto.randomUUID().slice(0, 8)
const hi = [{ role: 'user' as const, content: 'Hi' }]

async function route(...providers: { type: 'openai' | 'anthropic'; scenario: string }[]) {
  const created = []
  for (const p of providers)
    created.push(await createProvider({ type: p.type, scenario: `${p.scenario}~${tag()}` }))
  const model = await createModel(created.map((p) => p.id))
  const key = await createKey({ models: [model] })
  return { scenarios: created.map((p) => p.scenario), model, key, client: sdk(key.raw) }
}

describe('anthropic upstream: stream usage', () => {
  it('reports cache reads and writes in the final usage chunk and bills every input token', async () => {
    const { model, key, client } = await route({ type: 'anthropic', scenario: 'cache' })
    const chunks = []
    for await (const chunk of await client.chat.completions.create({
      model,
      messages: hi,
      stream: true,
      stream_options: { include_usage: true },
    }))
      chunks.push(chunk)
    const usage = chunks.at(-1)!.usage!
    expect(chunks.at(-1)!.choices).toEqual([])
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
    expect(usage).toMatchObject({
      prompt_tokens: 31 + 1200 + 8000,
      completion_tokens: 5,
      total_tokens: 9236,
      prompt_tokens_details: { cached_tokens: 8000, cache_write_tokens: 1200 },
    })
    const row = await onlyRow(key.id)
    expect([row.promptTokens, row.completionTokens, row.tokensEstimated]).toEqual([9231, 5, false])
  })

  it('keeps usage hidden from a client that did not ask, and still bills it', async () => {
    const { model, key, client } = await route({ type: 'anthropic', scenario: 'cache' })
    const chunks = []
    for await (const chunk of await client.chat.completions.create({ model, messages: hi, stream: true }))
      chunks.push(chunk)
    expect(chunks.some((c) => c.usage)).toBe(false)
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop')
    expect((await onlyRow(key.id)).promptTokens).toBe(9231)
  })

  it('takes message_delta usage as a total that overwrites message_start, never adds to it', async () => {
    const { model, key, client } = await route({ type: 'anthropic', scenario: 'cache+overwrite' })
    for await (const _ of await client.chat.completions.create({ model, messages: hi, stream: true })) void _
    expect((await onlyRow(key.id)).promptTokens).toBe(40 + 1200 + 8000)
  })

  it('turns a mid-stream error event into an error for the client and a partial usage row', async () => {
    const { model, key, client } = await route({ type: 'anthropic', scenario: 'errorafter2' })
    const seen: string[] = []
    const run = async () => {
      for await (const chunk of await client.chat.completions.create({ model, messages: hi, stream: true }))
        seen.push(chunk.choices[0]?.delta.content ?? '')
    }
    await expect(run()).rejects.toMatchObject({ code: 'upstream_error' })
    expect(seen.join('')).toBe('Hello from')
    const row = await onlyRow(key.id)
    expect(row.status).toBe(502)
    expect(row.errorCode).toBe('upstream_stream_broken')
    expect(row.promptTokens).toBeGreaterThan(0)
    expect(row.completionTokens).toBeGreaterThan(0)
  })
})

describe('anthropic upstream: errors and fallback', () => {
  it("relays the upstream's 400 in OpenAI shape without falling back", async () => {
    const { scenarios, model, client } = await route(
      { type: 'anthropic', scenario: 'status400' },
      { type: 'openai', scenario: 'ok' },
    )
    await expect(client.chat.completions.create({ model, messages: hi })).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
    })
    expect(await mockRequests(scenarios[1]!)).toHaveLength(0)
  })

  it('falls back from an overloaded (529) Anthropic target to an OpenAI one at once', async () => {
    const { scenarios, model, key, client } = await route(
      { type: 'anthropic', scenario: 'status529' },
      { type: 'openai', scenario: 'ok' },
    )
    const reply = await client.chat.completions.create({ model, messages: hi })
    expect(reply.choices[0]!.message.content).toBe('Hello from mock upstream.')
    expect(await mockRequests(scenarios[0]!)).toHaveLength(1)
    const row = await onlyRow(key.id)
    expect([row.status, row.attempts]).toEqual([200, 2])
  })

  it('never blames the client for the operator key (401) or a spend limit: next target, else 502', async () => {
    const bad = await route({ type: 'anthropic', scenario: 'status401' }, { type: 'openai', scenario: 'ok' })
    expect(
      (await bad.client.chat.completions.create({ model: bad.model, messages: hi })).choices,
    ).toHaveLength(1)
    const alone = await route({ type: 'anthropic', scenario: 'spendlimit' })
    await expect(
      alone.client.chat.completions.create({ model: alone.model, messages: hi }),
    ).rejects.toMatchObject({
      status: 502,
    })
    expect(await mockRequests(alone.scenarios[0]!)).toHaveLength(1)
  })

  it('falls back across types when the Anthropic target is down, streaming from the OpenAI one', async () => {
    const { model, key, client } = await route(
      { type: 'anthropic', scenario: 'status503' },
      { type: 'openai', scenario: 'ok' },
    )
    let text = ''
    for await (const chunk of await client.chat.completions.create({ model, messages: hi, stream: true }))
      text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('Hello from mock upstream.')
    expect((await onlyRow(key.id)).status).toBe(200)
  })
})
