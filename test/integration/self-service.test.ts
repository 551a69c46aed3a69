import { describe, expect, it } from 'vitest'
import { admin, adminKey } from '../helpers/admin'
import { chatRequest, eventually, gateway, sdk, uid } from '../helpers/gateway'
import { createModel, createProvider, usageRows } from '../helpers/fixtures'

// What a key holder sees under their own key: /v1/me, OpenAI's dashboard billing endpoints (read by chat
// clients for a key's balance) and a request's usage row.

// Input tokens are free and each completion token costs $0.001: with max_tokens 5 a request costs $0.005.
async function pricedModel() {
  const provider = await createProvider()
  return createModel([provider.id], { input: '0', output: '1000' })
}

const get = (raw: string, path: string) => gateway(path, { headers: { authorization: `Bearer ${raw}` } })

async function chat(raw: string, model: string) {
  const res = await gateway('/v1/chat/completions', chatRequest(raw, model, { max_tokens: 5 }))
  expect(res.status).toBe(200)
  return res.headers.get('x-request-id')!
}

describe('GET /v1/me', () => {
  it("shows the key's limits, its spend, its windows and its project's balance and ratio", async () => {
    const projectId = `shop-${uid()}`
    await admin('POST', '/projects', {
      id: projectId,
      price_ratio: 2,
      windows: [{ period: '1d', limit_usd: 5 }],
    })
    await admin('POST', `/projects/${projectId}/credits`, { amount_usd: 3 })
    const model = await pricedModel()
    const key = await adminKey({
      project_id: projectId,
      allowed_models: [model],
      rpm_limit: 60,
      monthly_budget: 9,
      windows: [{ period: '5h', limit_requests: 100 }],
    })
    const res = await get(key.raw_key, '/v1/me')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      object: 'me',
      key: {
        name: key.name,
        key_prefix: key.key_prefix,
        project_id: projectId,
        allowed_models: [model],
        rpm_limit: 60,
        tpm_limit: null,
        expires_at: null,
      },
      spend: { today_usd: 0, month_usd: 0, daily_budget: null, monthly_budget: 9 },
      windows: [
        {
          scope: 'key',
          period: '5h',
          used_usd: 0,
          limit_usd: null,
          used_requests: 0,
          limit_requests: 100,
          resets_at: null,
        },
        {
          scope: 'project',
          period: '1d',
          used_usd: 0,
          limit_usd: 5,
          used_requests: 0,
          limit_requests: null,
          resets_at: null,
        },
      ],
      project: { id: projectId, balance_usd: 3, price_ratio: 2 },
    })
    expect((await get('lgw_nope', '/v1/me')).status).toBe(401)

    // A request costs $0.005 and is charged $0.01 at ratio 2: spend, windows and balance count the charge.
    await chat(key.raw_key, model)
    const after = await eventually(async () => {
      const body = (await (await get(key.raw_key, '/v1/me')).json()) as any
      expect(body.spend.today_usd).toBe(0.01)
      return body
    })
    expect(after.spend.month_usd).toBe(0.01)
    expect(after.windows[0]).toMatchObject({ scope: 'key', used_requests: 1 })
    expect(after.windows[1]).toMatchObject({ scope: 'project', used_usd: 0.01, used_requests: 1 })
    expect(after.project.balance_usd).toBe(2.99)
  })
})

describe("OpenAI's dashboard billing endpoints", () => {
  it('answer the OpenAI SDK and a plain client, with and without /v1, amounts of usage in cents', async () => {
    const model = await pricedModel()
    const key = await adminKey({ project_id: `shop-${uid()}`, allowed_models: [model], monthly_budget: 12.5 })
    await chat(key.raw_key, model)
    await chat(key.raw_key, model)
    const today = new Date().toISOString().slice(0, 10)
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    const client = sdk(key.raw_key)
    const subscription = await client.get('/dashboard/billing/subscription')
    expect(subscription).toEqual({
      object: 'billing_subscription',
      has_payment_method: true,
      hard_limit_usd: 12.5,
      soft_limit_usd: 12.5,
      system_hard_limit_usd: 12.5,
      access_until: 0,
    })
    const bare = await get(key.raw_key, '/dashboard/billing/subscription')
    expect(bare.status).toBe(200)
    expect(await bare.json()).toEqual(subscription)

    const usage = await eventually(async () => {
      const u = (await client.get(`/dashboard/billing/usage?start_date=${today}&end_date=${tomorrow}`)) as any
      expect(u.total_usage).toBe(1)
      return u
    })
    expect(usage).toEqual({
      object: 'list',
      total_usage: 1,
      daily_costs: [
        { timestamp: Date.parse(`${today}T00:00:00Z`) / 1000, line_items: [{ name: model, cost: 1 }] },
      ],
    })
    const plain = await get(key.raw_key, `/dashboard/billing/usage?start_date=${today}&end_date=${tomorrow}`)
    expect(await plain.json()).toEqual(usage)
    const bad = await get(
      key.raw_key,
      '/v1/dashboard/billing/usage?start_date=2026-13-01&end_date=2026-12-01',
    )
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as any).error).toMatchObject({
      code: 'invalid_request_error',
      param: 'start_date',
    })
    expect((await get('lgw_nope', '/dashboard/billing/subscription')).status).toBe(401)
  })

  it("a prepaid project's hard limit is its balance plus this month's charges; no limit reads as unlimited", async () => {
    const model = await pricedModel()
    const projectId = `shop-${uid()}`
    await admin('POST', '/projects', { id: projectId })
    await admin('POST', `/projects/${projectId}/credits`, { amount_usd: 2 })
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })
    await chat(key.raw_key, model)
    await eventually(async () => {
      const s = (await sdk(key.raw_key).get('/dashboard/billing/subscription')) as any
      expect(s.hard_limit_usd).toBe(2)
    })
    const open = await adminKey({ project_id: `open-${uid()}` })
    expect(((await sdk(open.raw_key).get('/dashboard/billing/subscription')) as any).hard_limit_usd).toBe(
      100_000_000,
    )
  })
})

describe('GET /v1/generations/{request_id}', () => {
  it("returns the request's usage row to the key that made it, and 404 to any other", async () => {
    const model = await pricedModel()
    const key = await adminKey({ project_id: `shop-${uid()}`, allowed_models: [model] })
    const other = await adminKey({ project_id: `shop-${uid()}`, allowed_models: [model] })
    const requestId = await chat(key.raw_key, model)
    const generation = await eventually(async () => {
      const res = await get(key.raw_key, `/v1/generations/${requestId}`)
      expect(res.status).toBe(200)
      return (await res.json()) as any
    })
    const [row] = await usageRows(key.id)
    expect(generation.data).toMatchObject({
      id: requestId,
      object: 'generation',
      model,
      provider: row!.provider,
      upstream_model: row!.upstreamModel,
      status: 200,
      prompt_tokens: row!.promptTokens,
      completion_tokens: 5,
      cost_usd: row!.costUsd,
      charge_usd: row!.chargeUsd,
      latency_ms: row!.latencyMs,
    })
    expect(Number(generation.data.charge_usd)).toBe(0.005)
    const byQuery = await get(key.raw_key, `/v1/generation?id=${encodeURIComponent(requestId)}`)
    expect(((await byQuery.json()) as any).data).toEqual(generation.data)
    const foreign = await get(other.raw_key, `/v1/generations/${requestId}`)
    expect(foreign.status).toBe(404)
    expect(((await foreign.json()) as any).error.code).toBe('not_found')
    expect((await get(other.raw_key, '/v1/generation')).status).toBe(404)
  })
})
