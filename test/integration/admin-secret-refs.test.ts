import { describe, expect, it } from 'vitest'
import { admin, adminProvider, expectOpenAIError } from '../helpers/admin'
import { chatRequest, gateway, mockRequests, uid } from '../helpers/gateway'
import { createKey, createModel, createProvider } from '../helpers/fixtures'

// The admin token must not be a path to the store or admin credentials: whatever api_key_ref names is
// sent to the provider's base_url as its bearer token.
describe('api_key_ref and provider names', () => {
  it('refuses to point api_key_ref at a store or admin secret, on create and on patch', async () => {
    const provider = await adminProvider({ api_key_ref: 'PROVIDER_OPENAI_MAIN_API_KEY' })
    for (const ref of ['DATABASE_URL', 'UPSTASH_REDIS_REST_TOKEN', 'ADMIN_TOKEN', 'METRICS_TOKEN']) {
      expectOpenAIError(
        await admin('POST', '/providers', {
          name: `p-${uid()}`,
          base_url: 'https://x.test',
          api_key_ref: ref,
        }),
        400,
        'invalid_request_error',
        'api_key_ref',
      )
      expectOpenAIError(
        await admin('PATCH', `/providers/${provider.id}`, { api_key_ref: ref }),
        400,
        'invalid_request_error',
        'api_key_ref',
      )
    }
  })

  it('a row that already names a store secret sends no key upstream and reports has_api_key false', async () => {
    // Written before the rule existed (straight into Postgres, as an old admin write would have).
    const provider = await createProvider({ apiKeyRef: 'UPSTASH_REDIS_REST_TOKEN' })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(200)
    const [seen] = await mockRequests(provider.scenario)
    expect(seen?.authorization).toBeNull()
    const listed = (await admin('GET', '/providers')).body.data.find((p: any) => p.id === provider.id)
    expect(listed.has_api_key).toBe(false)
  })

  it('refuses a provider name whose PROVIDER_<NAME>_ prefix collides with an existing provider', async () => {
    const base = `coll-${uid()}`
    const first = await adminProvider({ name: base })
    for (const name of [base.replace('-', '_'), base.toUpperCase(), base.replace('-', '.')]) {
      const refused = await admin('POST', '/providers', { name, base_url: 'https://x.test/v1' })
      expectOpenAIError(refused, 409, 'conflict', 'name')
      expect(refused.body.error.message).toContain(first.name)
    }
    const other = await adminProvider()
    expectOpenAIError(
      await admin('PATCH', `/providers/${other.id}`, { name: base.toUpperCase() }),
      409,
      'conflict',
      'name',
    )
    // Renaming a provider to another spelling of its own name is fine.
    const renamed = await admin('PATCH', `/providers/${first.id}`, { name: base.toUpperCase() })
    expect(renamed.status).toBe(200)
  })
})
