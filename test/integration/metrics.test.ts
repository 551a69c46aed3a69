import { describe, expect, it } from 'vitest'
import { eventually, gateway, gatewayWith, sdk, uid } from '../helpers/gateway'
import { createKey, createModel, createProvider, setup } from '../helpers/fixtures'
import { parsePrometheus, type Sample } from '../helpers/prometheus'

async function scrape() {
  const res = await gateway('/metrics')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
  return parsePrometheus(await res.text())
}

const value = (samples: Sample[] | undefined, labels: Record<string, string>) =>
  samples
    ?.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0) ?? 0

describe('/metrics', () => {
  it('counts requests, tokens, cost, fallbacks, retries and rate limiting from Redis counters', async () => {
    const flaky = await createProvider({ scenario: `fail1x500~${uid()}`, maxRetries: 1 })
    const broken = await createProvider({ scenario: `status503~${uid()}` })
    const model = await createModel([broken.id, flaky.id], { input: '1', output: '2' })
    const key = await createKey({ models: [model], rpmLimit: 1 })
    const client = sdk(key.raw)
    const done = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
    await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi' }] })
      .catch(() => {})
    const usage = done.usage!

    const families = await eventually(async () => {
      const families = await scrape()
      expect(value(families.get('nexusai_requests_total')?.samples, { model, status: '429' })).toBe(1)
      expect(
        value(families.get('nexusai_requests_total')?.samples, {
          model,
          status: '200',
          provider: flaky.name,
          route: 'chat',
        }),
      ).toBe(1)
      return families
    })
    expect(value(families.get('nexusai_tokens_total')?.samples, { model, type: 'prompt' })).toBe(
      usage.prompt_tokens,
    )
    expect(value(families.get('nexusai_tokens_total')?.samples, { model, type: 'completion' })).toBe(
      usage.completion_tokens,
    )
    const cost = (usage.prompt_tokens * 1 + usage.completion_tokens * 2) / 1e6
    expect(value(families.get('nexusai_cost_usd_total')?.samples, { model })).toBeCloseTo(cost, 9)
    expect(
      value(families.get('nexusai_fallbacks_total')?.samples, {
        model,
        from_provider: broken.name,
        to_provider: flaky.name,
      }),
    ).toBe(1)
    expect(
      value(families.get('nexusai_upstream_retries_total')?.samples, { provider: flaky.name, reason: '500' }),
    ).toBe(1)
    expect(
      value(families.get('nexusai_rate_limited_total')?.samples, { kind: 'rpm' }),
    ).toBeGreaterThanOrEqual(1)
    const histogram = families.get('nexusai_request_duration_seconds')!.samples
    expect(value(histogram, { model, provider: flaky.name, le: '+Inf' })).toBe(1)
    expect(
      value(families.get('nexusai_upstream_ttfb_seconds')?.samples, { provider: flaky.name, le: '+Inf' }),
    ).toBeGreaterThanOrEqual(1)
  })

  it('labels unknown models as "other" so clients cannot create new series', async () => {
    const key = await createKey({ models: ['*'] })
    const model = `made-up-${uid()}`
    await sdk(key.raw)
      .chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
      .catch(() => {})
    await eventually(async () => {
      const text = await (await gateway('/metrics')).text()
      expect(text).toContain('model="other"')
      expect(text).not.toContain(model)
    })
  })

  it('requires METRICS_TOKEN when one is set', async () => {
    const guarded = { METRICS_TOKEN: 'scrape-secret' }
    expect((await gatewayWith(guarded, '/metrics')).res.status).toBe(401)
    const ok = await gatewayWith(guarded, '/metrics', { headers: { authorization: 'Bearer scrape-secret' } })
    expect(ok.res.status).toBe(200)
  })

  it('never contains an upstream key or a virtual key', async () => {
    const { model, key } = await setup()
    await sdk(key.raw).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
    const text = await (await gateway('/metrics')).text()
    expect(text).not.toContain('sk-upstream')
    expect(text).not.toContain('lgw_')
  })
})
