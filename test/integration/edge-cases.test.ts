import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { chatRequest, eventually, gateway, mockRequests, sdk, uid } from '../helpers/gateway'
import {
  createKey,
  createModel,
  createProvider,
  onlyRow,
  setup,
  testDbPrices,
  updateKey,
} from '../helpers/fixtures'

describe('edge cases a demanding user hits', () => {
  it('a request that can never fit the TPM limit says so and tells the SDK not to retry', async () => {
    const { model, key } = await setup({ key: { tpmLimit: 100 } })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(429)
    expect(res.headers.get('x-should-retry')).toBe('false')
    expect(res.headers.get('retry-after')).toBeNull()
    const body = (await res.json()) as { error: { type: string; message: string } }
    expect(body.error.type).toBe('tokens')
    expect(body.error.message).toMatch(/Request too large.*max_tokens/)
  })

  it('every refusal carries the x-ratelimit trio of each limit the key has', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id], { input: '0', output: '1000' })
    const key = await createKey({ models: [model], rpmLimit: 1, tpmLimit: 10_000, dailyBudget: '1' })
    const ok = await gateway('/v1/chat/completions', chatRequest(key.raw, model, { max_tokens: 5 }))
    expect(ok.status).toBe(200)
    const refused = await gateway('/v1/chat/completions', chatRequest(key.raw, model, { max_tokens: 5 }))
    expect(refused.status).toBe(429)
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('1')
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe('10000')
    expect(Number(refused.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(10_000)
    const budget = await createKey({ models: [model], tpmLimit: 10_000, dailyBudget: '0.001' })
    const poor = await gateway('/v1/chat/completions', chatRequest(budget.raw, model))
    expect(poor.status).toBe(429)
    expect(poor.headers.get('x-should-retry')).toBe('false')
    expect(poor.headers.get('x-ratelimit-limit-tokens')).toBe('10000')
    expect(poor.headers.get('x-ratelimit-remaining-tokens')).toBe('10000')
  })

  it('a budget refusal with budget left explains that the estimate does not fit', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id], { input: '0', output: '1000' })
    const key = await createKey({ models: [model], dailyBudget: '0.01' })
    // Without max_tokens the model's output cap is reserved: 16,384 tokens × $0.001 = $16.384 > $0.01
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(429)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('insufficient_quota')
    expect(body.error.message).toContain('estimated cost ($16.384')
    expect(body.error.message).toContain('$0.01 of $0.01')
    expect(
      (await gateway('/v1/chat/completions', chatRequest(key.raw, model, { max_tokens: 5 }))).status,
    ).toBe(200)
  })

  it('a key with a budget is refused clearly when its model has no price in effect', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    await testDbPrices().deleteFor(model)
    const key = await createKey({ models: [model], dailyBudget: '1' })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(503)
    expect(res.headers.get('x-should-retry')).toBe('false')
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('No price')
  })

  it('widening allowed_models applies on the next request', async () => {
    const { model, key } = await setup()
    const other = await createModel([(await createProvider()).id])
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, other))).status).toBe(403)
    await updateKey(key.id, { allowedModels: [model, other] })
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, other))).status).toBe(200)
  })

  it('a provider billing error (402) moves on to the next provider instead of reaching the client', async () => {
    const broke = await createProvider({ scenario: `status402~${uid()}` })
    const healthy = await createProvider()
    const model = await createModel([broke.id, healthy.id])
    const key = await createKey({ models: [model] })
    const res = await sdk(key.raw).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(res.choices[0]?.message.content).toContain('Hello')
    expect(await onlyRow(key.id)).toMatchObject({ provider: healthy.name, attempts: 2 })
  })

  it('a client that leaves during a retry back-off causes no further upstream call', async () => {
    const scenario = `fail1x500+retryafter2000~${uid()}`
    const provider = await createProvider({ scenario, maxRetries: 1 })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const controller = new AbortController()
    const pending = gateway('/v1/chat/completions', {
      ...chatRequest(key.raw, model),
      signal: controller.signal,
    }).catch((e: unknown) => e)
    await eventually(async () => expect(await mockRequests(scenario)).toHaveLength(1))
    controller.abort()
    await pending
    expect(await onlyRow(key.id)).toMatchObject({
      status: 499,
      errorCode: 'client_disconnected',
      attempts: 1,
    })
    expect(await mockRequests(scenario)).toHaveLength(1)
  })

  it('estimates completion tokens from the reply when the upstream reports no usage', async () => {
    const { model, key } = await setup({ scenario: `nousage~${uid()}` })
    await sdk(key.raw).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
    const row = await onlyRow(key.id)
    expect(row.tokensEstimated).toBe(true)
    expect(row.completionTokens).toBeGreaterThan(0)
    expect(Number(row.costUsd)).toBeGreaterThan(0)
  })

  it('names a missing required parameter', async () => {
    const { model, key } = await setup()
    const res = await gateway('/v1/embeddings', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      error: { message: "Missing required parameter: 'input'.", param: 'input' },
    })
    await expect(sdk(key.raw).chat.completions.create({ model } as never)).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    )
  })
})
