// What a request costs is decided by what served it: the public model's price, else the serving target's
// upstream model's. The budget reservation takes the most expensive candidate and the model's output cap
// when the request sets no max_tokens; the settlement takes the target that answered.
import { describe, expect, it } from 'vitest'
import { modelMappings, prices } from '../../drizzle/schema'
import { admin } from '../helpers/admin'
import { dayTag, monthTag } from '../../src/lib/time'
import { usdToPico } from '../../src/lib/money'
import { keys } from '../../src/redis/keys'
import { chatRequest, eventually, gateway, keyedPost, sdk, testDb, testRedis, uid } from '../helpers/gateway'
import { createKey, createModel, createProvider, usageRows } from '../helpers/fixtures'

// A price version for `model` in USD per 1M tokens, in effect since 2020.
async function price(model: string, input: string, output: string) {
  await testDb()
    .insert(prices)
    .values({
      model,
      inputPerMillion: input,
      outputPerMillion: output,
      effectiveFrom: new Date('2020-01-01Z'),
    })
}

// Microdollars: exact integer arithmetic over the row's tokens.
const costOf = (row: { promptTokens: number; completionTokens: number }, input: number, output: number) =>
  (row.promptTokens * input + row.completionTokens * output) / 1e6

describe('an alias without a price of its own', () => {
  it('is served under a budget and charged at the upstream model it routes to', async () => {
    const provider = await createProvider()
    const upstream = `up-${uid()}`
    await price(upstream, '0.15', '0.60')
    const alias = `fast-${uid()}`
    // Through the admin API, naming the provider by its name.
    const mapping = await admin('POST', '/model-mappings', {
      model: alias,
      provider_id: provider.name,
      upstream_model: upstream,
    })
    expect(mapping.status, JSON.stringify(mapping.body)).toBe(201)
    expect(mapping.body.provider_id).toBe(provider.id)
    const key = await createKey({ models: [alias], dailyBudget: '5' })

    const completion = await sdk(key.raw).chat.completions.create({
      model: alias,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(completion.choices[0]?.message.content).toBeTruthy()

    const [row] = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect(row).toMatchObject({ status: 200, model: alias, upstreamModel: upstream, priceModel: upstream })
    expect(row!.priceEffectiveFrom?.toISOString()).toBe('2020-01-01T00:00:00.000Z')
    expect(row!.promptTokens).toBe(completion.usage?.prompt_tokens)
    expect(Number(row!.costUsd)).toBeCloseTo(costOf(row!, 0.15, 0.6), 12)
    expect(Number(row!.costUsd)).toBeGreaterThan(0)
  })

  it('prefers a price set for the alias itself', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id], { input: '1', output: '2' })
    const key = await createKey({ models: [model], dailyBudget: '5' })
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, model))).status).toBe(200)
    const [row] = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect(row!.priceModel).toBe(model)
    expect(Number(row!.costUsd)).toBeCloseTo(costOf(row!, 1, 2), 12)
  })

  it('is refused under a budget only when no candidate has a price', async () => {
    const provider = await createProvider()
    const alias = `bare-${uid()}`
    await testDb()
      .insert(modelMappings)
      .values({ model: alias, providerId: provider.id, upstreamModel: `unpriced-${uid()}` })
    const key = await createKey({ models: [alias], dailyBudget: '5' })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, alias))
    expect(res.status).toBe(503)
    expect(((await res.json()) as any).error.message).toContain('No price is in effect')
  })
})

describe('the budget reservation', () => {
  // Two targets for one alias: a cheap upstream model first, an expensive one second.
  async function twoTargets(options: { maxOutput?: number } = {}) {
    const cheap = await createProvider()
    const dear = await createProvider()
    const alias = `alias-${uid()}`
    const [cheapModel, dearModel] = [`cheap-${uid()}`, `dear-${uid()}`]
    await price(cheapModel, '0', '1')
    await price(dearModel, '0', '1000')
    await testDb()
      .insert(modelMappings)
      .values([
        { model: alias, providerId: cheap.id, upstreamModel: cheapModel, priority: 1 },
        {
          model: alias,
          providerId: dear.id,
          upstreamModel: dearModel,
          priority: 2,
          maxOutputTokens: options.maxOutput ?? null,
        },
      ])
    return { alias, cheapModel }
  }

  it('reserves for the most expensive candidate, then charges the one that answered', async () => {
    const { alias, cheapModel } = await twoTargets()
    // 10 output tokens at $1000/M = $0.01 on the dear target: more than the $0.005 budget.
    const key = await createKey({ models: [alias], dailyBudget: '0.005' })
    const refused = await gateway('/v1/chat/completions', chatRequest(key.raw, alias, { max_tokens: 10 }))
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as any).error.code).toBe('insufficient_quota')

    const roomy = await createKey({ models: [alias], dailyBudget: '0.02' })
    const ok = await gateway('/v1/chat/completions', chatRequest(roomy.raw, alias, { max_tokens: 10 }))
    expect(ok.status).toBe(200)
    const [row] = await eventually(async () => {
      const rows = await usageRows(roomy.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect(row!.priceModel).toBe(cheapModel)
    expect(Number(row!.costUsd)).toBeCloseTo(costOf(row!, 0, 1), 12)
  })

  it("reserves the model's maximum output when max_tokens is absent", async () => {
    const provider = await createProvider()
    // $10 per 1M output tokens: the default cap (16,384 tokens) reserves $0.16384.
    const model = await createModel([provider.id], { input: '0', output: '10' })
    const key = await createKey({ models: [model], dailyBudget: '0.01' })
    const open = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(open.status).toBe(429)
    const { error } = (await open.json()) as any
    expect(error.code).toBe('insufficient_quota')
    expect(error.message).toContain('$0.16384')
    // With max_tokens the reservation is what the request asks for.
    expect(
      (await gateway('/v1/chat/completions', chatRequest(key.raw, model, { max_tokens: 50 }))).status,
    ).toBe(200)
  })

  it("takes the mapping's max_output_tokens as the cap", async () => {
    const { alias } = await twoTargets({ maxOutput: 5 })
    // Dear target: 5 tokens × $1000/M = $0.005; cheap target: 16,384 × $1/M = $0.016384.
    const key = await createKey({ models: [alias], dailyBudget: '0.0164' })
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, alias))).status).toBe(200)
    const tight = await createKey({ models: [alias], dailyBudget: '0.0163' })
    expect((await gateway('/v1/chat/completions', chatRequest(tight.raw, alias))).status).toBe(429)
  })
})

describe('the spend counters', () => {
  it('equal the ledger exactly: small requests are not rounded up to a micro-dollar each', async () => {
    const provider = await createProvider()
    // $0.02 per 1M tokens: a short embedding costs a few hundredths of a micro-dollar.
    const model = await createModel([provider.id], { input: '0.02', output: '0' })
    const key = await createKey({ models: [model], dailyBudget: '1', monthlyBudget: '10' })
    for (let i = 0; i < 12; i++) {
      const res = await gateway('/v1/embeddings', keyedPost(key.raw, { model, input: `hello ${i}` }))
      expect(res.status).toBe(200)
    }
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(12)
      return rows
    })
    const ledger = rows.reduce((sum, row) => sum + usdToPico(row.costUsd), 0n)
    expect(ledger).toBeGreaterThan(0n)
    expect(ledger).toBeLessThan(12n * 1_000_000n) // under a micro-dollar a request
    const now = Date.now()
    await eventually(async () => {
      const [day, month] = await Promise.all([
        testRedis().get<string | number>(keys.spendDay(key.id, dayTag(now))),
        testRedis().get<string | number>(keys.spendMonth(key.id, monthTag(now))),
      ])
      expect(BigInt(day ?? -1)).toBe(ledger)
      expect(BigInt(month ?? -1)).toBe(ledger)
    })
  })
})
