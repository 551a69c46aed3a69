import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { admin } from '../helpers/admin'
import { mockRequests, sdk, uid } from '../helpers/gateway'
import { createKey, createModel, createProvider, onlyRow } from '../helpers/fixtures'

const chat = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })

describe('routing, retries and fallback', () => {
  it('retries the same provider on 500 up to max_retries and then succeeds', async () => {
    const provider = await createProvider({ scenario: `fail2x500~${uid()}`, maxRetries: 2 })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const res = await sdk(key.raw).chat.completions.create(chat(model))
    expect(res.choices[0]?.message.content).toContain('Hello')
    expect(await mockRequests(provider.scenario)).toHaveLength(3)
    expect(await onlyRow(key.id)).toMatchObject({ attempts: 3, provider: provider.name, status: 200 })
  })

  it('honours Retry-After on 429 before retrying', async () => {
    const provider = await createProvider({ scenario: `fail1x429+retryafter300~${uid()}`, maxRetries: 1 })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    await sdk(key.raw).chat.completions.create(chat(model))
    const seen = await mockRequests(provider.scenario)
    expect(seen).toHaveLength(2)
    expect(
      (seen[1] as unknown as { at: number }).at - (seen[0] as unknown as { at: number }).at,
    ).toBeGreaterThanOrEqual(300)
  })

  it('falls back in priority order: timeout, connection refused and a bad provider key all move on', async () => {
    const hanging = await createProvider({ scenario: `hang~${uid()}`, timeoutMs: 300 })
    const refused = await createProvider({ baseUrl: 'http://127.0.0.1:9/v1' })
    const wrongKey = await createProvider({ scenario: `status401~${uid()}`, maxRetries: 3 })
    const healthy = await createProvider()
    const model = await createModel([hanging.id, refused.id, wrongKey.id, healthy.id])
    const key = await createKey({ models: [model] })
    const res = await sdk(key.raw).chat.completions.create(chat(model))
    expect(res.choices[0]?.message.content).toContain('Hello')
    // A 401 from upstream is our provider key's fault: no retry on that provider, straight to the next.
    expect(await mockRequests(wrongKey.scenario)).toHaveLength(1)
    expect(await onlyRow(key.id)).toMatchObject({ attempts: 4, provider: healthy.name })
  })

  it('answers 504 upstream_timeout when the last provider timed out', async () => {
    const hanging = await createProvider({ scenario: `hang~${uid()}`, timeoutMs: 200 })
    const model = await createModel([hanging.id])
    const key = await createKey({ models: [model] })
    const error = await sdk(key.raw)
      .chat.completions.create(chat(model))
      .catch((e) => e)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error.status).toBe(504)
    expect(error.code).toBe('upstream_timeout')
    expect(await onlyRow(key.id)).toMatchObject({ status: 504, errorCode: 'upstream_timeout' })
  })

  it('skips disabled providers and mappings', async () => {
    const disabled = await createProvider({ enabled: false })
    const healthy = await createProvider()
    const model = await createModel([disabled.id, healthy.id])
    const key = await createKey({ models: [model] })
    await sdk(key.raw).chat.completions.create(chat(model))
    expect(await mockRequests(disabled.scenario)).toHaveLength(0)
    expect(await onlyRow(key.id)).toMatchObject({ attempts: 1, provider: healthy.name })

    // A disabled mapping: its provider is enabled and healthy, but this model is not routed there.
    const unmapped = await createProvider()
    const other = await createModel([unmapped.id, healthy.id])
    const mappings = await admin('GET', `/model-mappings?model=${other}`)
    const first = mappings.body.data.find((m: { provider_id: string }) => m.provider_id === unmapped.id)
    expect((await admin('PATCH', `/model-mappings/${first.id}`, { enabled: false })).status).toBe(200)
    const otherKey = await createKey({ models: [other] })
    await sdk(otherKey.raw).chat.completions.create(chat(other))
    expect(await mockRequests(unmapped.scenario)).toHaveLength(0)
    expect(await onlyRow(otherKey.id)).toMatchObject({ attempts: 1, provider: healthy.name })
  })

  it('never shows the client an upstream 401 message', async () => {
    const provider = await createProvider({ scenario: `status401~${uid()}` })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const error = await sdk(key.raw)
      .chat.completions.create(chat(model))
      .catch((e) => e)
    expect(error.status).toBe(502)
    expect(JSON.stringify(error.error)).not.toMatch(/api key|incorrect/i)
  })
})
