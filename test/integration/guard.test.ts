import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { dayTag, monthTag, startOfNextUtcDay } from '../../src/lib/time'
import { keys } from '../../src/redis/keys'
import { chatRequest, eventually, gateway, gatewayWith, sdk, testRedis } from '../helpers/gateway'
import {
  countRows,
  createKey,
  createModel,
  createProvider,
  setup,
  updateKey,
  usageRows,
} from '../helpers/fixtures'

const chat = (model: string, maxTokens = 5) => ({
  model,
  messages: [{ role: 'user' as const, content: 'hi' }],
  max_tokens: maxTokens,
})
const authed = (raw: string, model: string, maxTokens = 5) =>
  chatRequest(raw, model, { max_tokens: maxTokens })

describe('RPM limits', () => {
  it('lets exactly rpm_limit sequential requests through and refuses the rest with 429 and Retry-After', async () => {
    const { model, key } = await setup({ key: { rpmLimit: 5 } })
    const statuses: number[] = []
    let refused: { retryAfter: string | null; body: string } | undefined
    for (let i = 0; i < 8; i++) {
      const res = await gateway('/v1/chat/completions', authed(key.raw, model))
      statuses.push(res.status)
      const text = await res.text()
      if (res.status === 429) refused ??= { retryAfter: res.headers.get('retry-after'), body: text }
      else expect(res.headers.get('x-ratelimit-limit-requests')).toBe('5')
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    expect(Number(refused!.retryAfter)).toBeGreaterThan(0)
    expect(JSON.parse(refused!.body)).toMatchObject({ error: { code: 'rate_limit_exceeded' } })
  })

  it('lets exactly rpm_limit of 30 concurrent requests through', async () => {
    const { model, key } = await setup({ key: { rpmLimit: 10 } })
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        gateway('/v1/chat/completions', authed(key.raw, model)).then(async (r) => (await r.text(), r.status)),
      ),
    )
    expect(results.filter((s) => s === 200)).toHaveLength(10)
    expect(results.filter((s) => s === 429)).toHaveLength(20)
  })

  it('slides the window: a request passes again once the oldest one is a minute old', async () => {
    const { model, key } = await setup({ key: { rpmLimit: 2 } })
    for (let i = 0; i < 2; i++)
      expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(429)
    const later = await gatewayWith(
      { CLOCK_OFFSET_MS: '61000' },
      '/v1/chat/completions',
      authed(key.raw, model),
    )
    expect(later.res.status).toBe(200)
  })

  it('applies a PATCHed limit on the next request', async () => {
    const { model, key } = await setup({ key: { rpmLimit: 1 } })
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(429)
    await updateKey(key.id, { rpmLimit: 3 })
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
  })
})

describe('TPM limits', () => {
  it('refuses once the window tokens are spent, and a refused request consumes nothing', async () => {
    // Each request is estimated at 8 prompt + 20 completion tokens; the mock then reports 4 + 5.
    const { model, key } = await setup({ key: { tpmLimit: 40 } })
    const first = await gateway('/v1/chat/completions', authed(key.raw, model, 20))
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('40')
    // A request whose estimate cannot fit is refused…
    const tooBig = await gateway('/v1/chat/completions', authed(key.raw, model, 100))
    expect(tooBig.status).toBe(429)
    expect(await tooBig.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } })
    // …and leaves the window as it was: settled usage (9 tokens) + 28 estimated still fits in 40.
    await eventually(async () => expect(await countRows(key.id)).toBe(2))
    expect((await gateway('/v1/chat/completions', authed(key.raw, model, 20))).status).toBe(200)
  })
})

describe('TPM window', () => {
  it('frees tokens as they leave the window, and survives losing its running total', async () => {
    // Each request is estimated at 8 + 20 = 28 tokens and settles at the mock's 4 + 5 = 9.
    const { model, key } = await setup({ key: { tpmLimit: 40 } })
    expect((await gateway('/v1/chat/completions', authed(key.raw, model, 20))).status).toBe(200)
    await eventually(async () => expect(await countRows(key.id)).toBe(1))
    expect((await gateway('/v1/chat/completions', authed(key.raw, model, 20))).status).toBe(200)
    await eventually(async () => expect(await countRows(key.id)).toBe(2))
    // 18 settled + 28 > 40: refused, with or without the cached total (rebuilt from the log).
    expect((await gateway('/v1/chat/completions', authed(key.raw, model, 20))).status).toBe(429)
    await testRedis().del(keys.tpmTotal(key.id))
    expect((await gateway('/v1/chat/completions', authed(key.raw, model, 20))).status).toBe(429)
    // A minute later both entries have left the window.
    const later = await gatewayWith(
      { CLOCK_OFFSET_MS: '61000' },
      '/v1/chat/completions',
      authed(key.raw, model, 20),
    )
    expect(later.res.status).toBe(200)
  })
})

describe('budgets', () => {
  // Input tokens are free and each completion token costs $0.001, so every request costs exactly $0.005.
  async function pricedSetup(budget: { dailyBudget?: string; monthlyBudget?: string }) {
    const provider = await createProvider()
    const model = await createModel([provider.id], { input: '0', output: '1000' })
    const key = await createKey({ models: [model], ...budget })
    return { model, key }
  }

  it('holds under concurrency: 40 concurrent requests against a budget worth 10 let exactly 10 through', async () => {
    const { model, key } = await pricedSetup({ dailyBudget: '0.05' })
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        gateway('/v1/chat/completions', authed(key.raw, model)).then(async (r) => ({
          status: r.status,
          body: await r.text(),
          retry: r.headers.get('x-should-retry'),
        })),
      ),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(10)
    const refused = results.filter((r) => r.status === 429)
    expect(refused).toHaveLength(30)
    expect(JSON.parse(refused[0]!.body)).toMatchObject({
      error: { code: 'insufficient_quota', type: 'insufficient_quota' },
    })
    expect(refused[0]!.retry).toBe('false')
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(40)
      return rows
    })
    const spent = rows.reduce((sum, r) => sum + Number(r.costUsd), 0)
    expect(spent).toBeLessThanOrEqual(0.05 + 1e-12)
  })

  it('enforces the monthly budget too, and the SDK does not retry insufficient_quota', async () => {
    const { model, key } = await pricedSetup({ dailyBudget: '1', monthlyBudget: '0.01' })
    const client = sdk(key.raw, { maxRetries: 3 })
    await client.chat.completions.create(chat(model))
    await eventually(async () => expect(await countRows(key.id)).toBe(1))
    await client.chat.completions.create(chat(model))
    const error = await client.chat.completions.create(chat(model)).catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.code).toBe('insufficient_quota')
    expect(error.message).toContain('monthly')
    await eventually(async () => expect(await countRows(key.id)).toBe(3))
  })

  it('frees the daily budget at the next UTC day', async () => {
    const { model, key } = await pricedSetup({ dailyBudget: '0.005' })
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
    await eventually(async () => expect(await countRows(key.id)).toBe(1))
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(429)
    const offset = startOfNextUtcDay(Date.now()) + 60_000 - Date.now()
    const tomorrow = await gatewayWith(
      { CLOCK_OFFSET_MS: String(offset) },
      '/v1/chat/completions',
      authed(key.raw, model),
    )
    expect(tomorrow.res.status).toBe(200)
  })

  it('rebuilds a lost spend counter from usage_logs before deciding', async () => {
    const { model, key } = await pricedSetup({ dailyBudget: '0.01' })
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
    await eventually(async () => expect(await countRows(key.id)).toBe(1))
    await testRedis().del(
      keys.spendDay(key.id, dayTag(Date.now())),
      keys.spendMonth(key.id, monthTag(Date.now())),
    )
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
    await eventually(async () => expect(await countRows(key.id)).toBe(2))
    // $0.01 is now spent according to usage_logs, even though Redis forgot the first request.
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(429)
  })
})

describe('when Redis is down', () => {
  it('refuses with 503 service_unavailable by default and admits with REDIS_FAIL_OPEN', async () => {
    const { model, key } = await setup({ key: { rpmLimit: 100 } })
    expect((await gateway('/v1/chat/completions', authed(key.raw, model))).status).toBe(200)
    const down = { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' }
    const closed = await gatewayWith(down, '/v1/chat/completions', authed(key.raw, model))
    expect(closed.res.status).toBe(503)
    expect(JSON.parse(closed.body)).toMatchObject({ error: { code: 'service_unavailable' } })
    const open = await gatewayWith(
      { ...down, REDIS_FAIL_OPEN: 'true' },
      '/v1/chat/completions',
      authed(key.raw, model),
    )
    expect(open.res.status).toBe(200)
  })
})
