import { afterEach, describe, expect, it } from 'vitest'
import { usdToPico } from '../../src/lib/money'
import { keys } from '../../src/redis/keys'
import { admin, adminKey } from '../helpers/admin'
import {
  chatRequest,
  eventually,
  gateway,
  gatewayWith,
  keyedPost,
  mockUrl,
  testRedis,
  uid,
} from '../helpers/gateway'
import { createModel, createProvider, usageRows } from '../helpers/fixtures'
import { runCron } from '../helpers/stores'

// Prepaid balances and rolling windows, decided in the guard's one atomic Redis step.

// Input tokens are free and each completion token costs $0.001: with max_tokens 5 a request reserves and
// costs exactly $0.005.
async function pricedModel() {
  const provider = await createProvider()
  return createModel([provider.id], { input: '0', output: '1000' })
}
const REQUEST_USD = 0.005
const chat = (raw: string, model: string) =>
  gateway('/v1/chat/completions', chatRequest(raw, model, { max_tokens: 5 }))

async function prepaid(usd: string, spec: Record<string, unknown> = {}) {
  const projectId = `shop-${uid()}`
  expect((await admin('POST', '/projects', { id: projectId, ...spec })).status).toBe(201)
  expect((await admin('POST', `/projects/${projectId}/credits`, { amount_usd: usd })).status).toBe(201)
  return projectId
}

async function settled(keyId: string, n: number) {
  return eventually(async () => {
    const rows = await usageRows(keyId)
    expect(rows).toHaveLength(n)
    return rows
  }, 10_000)
}

const balanceOf = async (projectId: string) =>
  (await admin('GET', `/projects/${projectId}`)).body.balance_usd as number

describe('prepaid balances', () => {
  it('40 concurrent requests against a balance worth 10: exactly 10 run, the balance ends at 0, Σ charges = credits − balance to the pico', async () => {
    const model = await pricedModel()
    const projectId = await prepaid(String(10 * REQUEST_USD))
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })
    const results = await Promise.all(Array.from({ length: 40 }, () => chat(key.raw_key, model)))
    const ok = results.filter((r) => r.status === 200)
    expect(ok).toHaveLength(10)
    for (const refused of results.filter((r) => r.status !== 200)) {
      expect(refused.status).toBe(429)
      expect(refused.headers.get('x-should-retry')).toBe('false')
      expect(((await refused.json()) as any).error.code).toBe('insufficient_quota')
    }
    const rows = await settled(key.id, 40)
    const charged = rows.reduce((s, r) => s + usdToPico(r.chargeUsd), 0n)
    const state = await testRedis().hgetall<Record<string, string>>(keys.balance(projectId))
    const left = BigInt(String(state!.credit)) - BigInt(String(state!.spent))
    expect(left).toBeGreaterThanOrEqual(0n)
    expect(charged).toBe(usdToPico(String(10 * REQUEST_USD)) - left)
    expect(left).toBe(0n)
    expect(await balanceOf(projectId)).toBe(0)
    // A top-up lets the project spend again.
    await admin('POST', `/projects/${projectId}/credits`, { amount_usd: REQUEST_USD })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    expect((await chat(key.raw_key, model)).status).toBe(429)
  })

  it('refuses in each client dialect like an exhausted budget', async () => {
    const model = await pricedModel()
    const projectId = await prepaid('0.001')
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })
    const openai = await chat(key.raw_key, model)
    expect(openai.status).toBe(429)
    expect(openai.headers.get('x-should-retry')).toBe('false')
    expect(((await openai.json()) as any).error).toMatchObject({
      code: 'insufficient_quota',
      type: 'insufficient_quota',
    })
    const messages = await gateway(
      '/v1/messages',
      keyedPost(key.raw_key, { model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    )
    expect(messages.status).toBe(429)
    expect(await messages.json()).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', details: { error_code: 'enforced_spend_limit_reached' } },
    })
    const gemini = await gateway(`/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key.raw_key, 'content-type': 'application/json' },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        generationConfig: { maxOutputTokens: 5 },
      }),
    })
    expect(gemini.status).toBe(429)
    expect(((await gemini.json()) as any).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' })
  })

  it('a redeemed code turns the project prepaid for the very next request, at the price ratio', async () => {
    const model = await pricedModel()
    const projectId = `shop-${uid()}`
    await admin('POST', '/projects', { id: projectId, price_ratio: 2 })
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    const code = (await admin('POST', '/redemption-codes', { amount_usd: String(4 * REQUEST_USD) })).body
      .codes[0]
    expect((await gateway('/v1/redeem', keyedPost(key.raw_key, { code }))).status).toBe(200)
    // Each request now charges $0.01 against $0.02.
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await chat(key.raw_key, model)).status)
    expect(statuses).toEqual([200, 200, 429])
    await settled(key.id, 4)
    expect(await balanceOf(projectId)).toBe(0)
  })

  it('rebuilds a lost balance from Postgres (credits − charges) and the cron catches Redis up', async () => {
    const model = await pricedModel()
    const projectId = await prepaid(String(3 * REQUEST_USD))
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    await settled(key.id, 1)
    await testRedis().del(keys.balance(projectId))
    expect((await chat(key.raw_key, model)).status).toBe(200)
    expect((await chat(key.raw_key, model)).status).toBe(200)
    expect((await chat(key.raw_key, model)).status).toBe(429)
    await settled(key.id, 4)
    // A credit whose Redis write was lost: the cron brings Redis up to the ledger.
    await testRedis().hset(keys.balance(projectId), { credit: '0', cid: '0' })
    await runCron()
    expect(await balanceOf(projectId)).toBe(0)
    const state = await testRedis().hgetall<Record<string, string>>(keys.balance(projectId))
    expect(BigInt(String(state!.credit))).toBe(usdToPico(String(3 * REQUEST_USD)))
  })
})

describe('rolling windows', () => {
  it('refuse at the limit with Retry-After from when enough ages out, and admit again after (injected clock)', async () => {
    const model = await pricedModel()
    const key = await adminKey({
      project_id: `plan-${uid()}`,
      allowed_models: [model],
      windows: [{ period: '5h', limit_requests: 2 }],
    })
    const at = (offsetMs: number) =>
      gatewayWith(
        { CLOCK_OFFSET_MS: String(offsetMs) },
        '/v1/chat/completions',
        chatRequest(key.raw_key, model, { max_tokens: 5 }),
      )
    expect((await at(0)).res.status).toBe(200)
    expect((await at(0)).res.status).toBe(200)
    const refused = await at(0)
    expect(refused.res.status).toBe(429)
    expect(JSON.parse(refused.body).error.code).toBe('rate_limit_exceeded')
    const retryAfter = Number(refused.res.headers.get('retry-after'))
    // The oldest bucket ages out between 5 h and 5 h + one bucket (5 minutes) from now.
    expect(retryAfter).toBeGreaterThan(5 * 3600 - 60)
    expect(retryAfter).toBeLessThanOrEqual(5 * 3600 + 5 * 60 + 1)
    expect((await at(3 * 3600_000)).res.status).toBe(429)
    expect((await at((retryAfter + 1) * 1000)).res.status).toBe(200)
  })

  it('a project dollar window counts the charge of all its keys, and a request that can never fit says so', async () => {
    const model = await pricedModel()
    const projectId = `plan-${uid()}`
    await admin('POST', '/projects', {
      id: projectId,
      windows: [{ period: '1d', limit_usd: String(3 * REQUEST_USD) }],
    })
    const [a, b] = [
      await adminKey({ project_id: projectId, allowed_models: [model] }),
      await adminKey({ project_id: projectId, allowed_models: [model] }),
    ]
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => chat((i % 2 ? a : b).raw_key, model)),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(3)
    const refused = results.find((r) => r.status === 429)!
    expect(refused.headers.get('x-nexusai-limit-scope')).toBe('project')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(86_000)
    const huge = await gateway('/v1/chat/completions', chatRequest(a.raw_key, model, { max_tokens: 100 }))
    expect(huge.status).toBe(429)
    expect(huge.headers.get('x-should-retry')).toBe('false')
    // /v1/me shows what the window counts.
    await settled(a.id, 5)
    const me = (await (
      await gateway('/v1/me', { headers: { authorization: `Bearer ${a.raw_key}` } })
    ).json()) as any
    expect(me.windows).toEqual([
      {
        scope: 'project',
        period: '1d',
        used_usd: 3 * REQUEST_USD,
        limit_usd: 3 * REQUEST_USD,
        used_requests: 3,
        limit_requests: null,
        resets_at: expect.any(String),
      },
    ])
  })
})

describe('balance webhooks', () => {
  const hooks: string[] = []
  afterEach(async () => {
    for (const id of hooks.splice(0)) await admin('DELETE', `/webhooks/${id}`)
  })

  it('balance.low once when a charge crosses the alert, balance.exhausted once when refused; a top-up re-arms', async () => {
    const scenario = `hook~${uid()}`
    const hook = await admin('POST', '/webhooks', {
      url: `${mockUrl()}/s/${scenario}/v1/webhook`,
      events: ['balance.low', 'balance.exhausted'],
    })
    hooks.push(hook.body.id)
    const model = await pricedModel()
    const projectId = await prepaid(String(4 * REQUEST_USD), { balance_alert_usd: String(2.5 * REQUEST_USD) })
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => chat(key.raw_key, model).then((r) => r.status)),
    )
    expect(statuses.filter((s) => s === 200)).toHaveLength(4)
    const received = async () =>
      (
        (await (
          await fetch(`${mockUrl()}/__requests?scenario=${encodeURIComponent(scenario)}`)
        ).json()) as any[]
      )
        .map((r) => r.body)
        .filter((b) => b.data.project_id === projectId)
    const events = await eventually(async () => {
      const got = await received()
      expect(got.map((e) => e.type).sort()).toEqual(['balance.exhausted', 'balance.low'])
      return got
    }, 10_000)
    expect(events.find((e) => e.type === 'balance.low').data).toMatchObject({
      project_id: projectId,
      threshold_usd: '0.012500',
    })
    expect((await chat(key.raw_key, model)).status).toBe(429)
    await admin('POST', `/projects/${projectId}/credits`, { amount_usd: String(4 * REQUEST_USD) })
    for (let i = 0; i < 5; i++) await chat(key.raw_key, model)
    await eventually(
      async () =>
        expect((await received()).map((e) => e.type).sort()).toEqual([
          'balance.exhausted',
          'balance.exhausted',
          'balance.low',
          'balance.low',
        ]),
      10_000,
    )
  })
})
