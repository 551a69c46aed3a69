import { describe, expect, it } from 'vitest'
import { admin, adminKey, adminProvider, auditOf, expectOpenAIError } from '../helpers/admin'
import {
  ADMIN_TOKEN,
  chatRequest,
  eventually,
  gateway,
  gatewayWith,
  UPSTREAM_KEY,
  uid,
} from '../helpers/gateway'
import { createProvider, setup, usageRows } from '../helpers/fixtures'

const UNKNOWN = '00000000-0000-4000-8000-000000000000'
const chat = (raw: string, model: string) => gateway('/v1/chat/completions', chatRequest(raw, model))

describe('providers', () => {
  it('shows the base URL routing really uses when PROVIDER_<NAME>_BASE_URL overrides the row', async () => {
    const name = `p-${uid()}`
    const created = await admin('POST', '/providers', { name, base_url: 'https://example.test/v1' })
    expect(created.body.effective_base_url).toBe('https://example.test/v1')
    const envName = `PROVIDER_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BASE_URL`
    const { body } = await gatewayWith({ [envName]: 'http://127.0.0.1:1/v1' }, '/admin/providers?limit=500', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    const listed = JSON.parse(body).data.find((p: { id: string }) => p.id === created.body.id)
    expect(listed).toMatchObject({
      base_url: 'https://example.test/v1',
      effective_base_url: 'http://127.0.0.1:1/v1',
    })
  })

  it('reports the override as routing calls it: without the trailing slash routing drops', async () => {
    const { model, key, provider } = await setup()
    const envName = `PROVIDER_${provider.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BASE_URL`
    const override = `${provider.baseUrl}/`
    const listedRes = await gatewayWith({ [envName]: override }, '/admin/providers?limit=500', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    const listed = JSON.parse(listedRes.body).data.find((p: { id: string }) => p.id === provider.id)
    expect(listed.effective_base_url).toBe(provider.baseUrl)
    // And routing reaches the upstream at that URL.
    const { res } = await gatewayWith(
      { [envName]: override },
      '/v1/chat/completions',
      chatRequest(key.raw, model),
    )
    expect(res.status).toBe(200)
  })

  it('creates a provider with defaults and reports has_api_key from the Worker secret it names, never the key', async () => {
    const name = `p-${uid()}`
    const created = await admin('POST', '/providers', {
      name,
      base_url: 'https://example.test/v1',
      api_key_ref: 'PROVIDER_TESTS_API_KEY',
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      object: 'provider',
      name,
      type: 'openai',
      base_url: 'https://example.test/v1',
      api_key_ref: 'PROVIDER_TESTS_API_KEY',
      has_api_key: true,
      enabled: true,
      timeout_ms: 30000,
      max_retries: 1,
    })
    const unset = await adminProvider({ api_key_ref: 'PROVIDER_NOT_SET_ANYWHERE_API_KEY' })
    expect(unset.has_api_key).toBe(false)
    const list = await admin('GET', '/providers')
    expect(list.body.data.find((p: any) => p.id === created.body.id)).toEqual(created.body)
    expect(JSON.stringify([created.body, list.body])).not.toContain(UPSTREAM_KEY)
  })

  it('reports has_api_key for a PROVIDER_<NAME>_API_KEY override even without api_key_ref', async () => {
    const provider = await adminProvider({ name: `ovr-${uid()}`, api_key_ref: null })
    expect(provider.has_api_key).toBe(false)
    const secret = `sk-override-${uid()}`
    const variable = `PROVIDER_${provider.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`
    const { res, body } = await gatewayWith({ [variable]: secret }, '/admin/providers', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(res.status).toBe(200)
    expect(JSON.parse(body).data.find((p: any) => p.id === provider.id).has_api_key).toBe(true)
    expect(body).not.toContain(secret)
  })

  it('refuses a second provider with the same name with 409 conflict', async () => {
    const provider = await adminProvider()
    expectOpenAIError(
      await admin('POST', '/providers', { name: provider.name, base_url: 'https://x.test' }),
      409,
      'conflict',
      'name',
    )
    const other = await adminProvider()
    expectOpenAIError(
      await admin('PATCH', `/providers/${other.id}`, { name: provider.name }),
      409,
      'conflict',
      'name',
    )
  })

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a type nexusai does not speak', { type: 'cohere' }, 'type'],
    ['a base_url that is not http(s)', { base_url: 'ftp://files.test/v1' }, 'base_url'],
    ['a base_url that is not a URL', { base_url: 'api.openai.com' }, 'base_url'],
    ['a base_url carrying credentials', { base_url: 'https://user:sk-secret@api.test/v1' }, 'base_url'],
    ['a timeout_ms below 100', { timeout_ms: 50 }, 'timeout_ms'],
    ['a timeout_ms above 600000', { timeout_ms: 600_001 }, 'timeout_ms'],
    ['max_retries above 10', { max_retries: 11 }, 'max_retries'],
    ['a name with spaces', { name: 'my provider' }, 'name'],
    ['an api_key_ref that is not a variable name', { api_key_ref: 'sk-live key' }, 'api_key_ref'],
    ...[
      'DATABASE_URL',
      'UPSTASH_REDIS_REST_TOKEN',
      'UPSTASH_REDIS_REST_URL',
      'ADMIN_TOKEN',
      'METRICS_TOKEN',
      'SECRETS_KEY',
      'OPENAI_API_KEY',
    ].map((ref): [string, Record<string, unknown>, string] => [
      `an api_key_ref naming ${ref}`,
      { api_key_ref: ref },
      'api_key_ref',
    ]),
    ['an unknown field', { api_secret: 'sk-123' }, 'api_secret'],
    ['an api_key with a space', { api_key: 'sk-12 3' }, 'api_key'],
    ['both api_key and api_keys', { api_key: 'sk-1', api_keys: ['sk-2'] }, 'api_keys'],
  ]
  for (const [what, fields, param] of invalid) {
    it(`refuses a provider with ${what}, naming the field`, async () => {
      const body = { name: `p-${uid()}`, base_url: 'https://example.test/v1', ...fields }
      expectOpenAIError(await admin('POST', '/providers', body), 400, 'invalid_request_error', param)
    })
  }

  it('patches a provider, answers 404 for unknown ids and audits both writes', async () => {
    const provider = await adminProvider()
    const patched = await admin('PATCH', `/providers/${provider.id}`, { timeout_ms: 1234, api_key_ref: '' })
    expect(patched.body).toMatchObject({
      id: provider.id,
      timeout_ms: 1234,
      api_key_ref: null,
      has_api_key: false,
    })
    expectOpenAIError(await admin('PATCH', `/providers/${UNKNOWN}`, { enabled: false }), 404, 'not_found')
    expectOpenAIError(await admin('PATCH', '/providers/nope', { enabled: false }), 404, 'not_found')
    const entries = await auditOf(provider.id)
    expect(entries.map((e) => e.action)).toEqual(['provider.create', 'provider.update'])
    expect(entries[1]!.before).toMatchObject({ timeout_ms: 30000 })
    expect(entries[1]!.after).toMatchObject({ timeout_ms: 1234 })
  })

  it('a provider disabled through the API stops serving on the next request', async () => {
    const { model, key, provider } = await setup()
    expect((await chat(key.raw, model)).status).toBe(200)
    await admin('PATCH', `/providers/${provider.id}`, { enabled: false })
    const refused = await chat(key.raw, model)
    expect(refused.status).toBe(503)
    await admin('PATCH', `/providers/${provider.id}`, { enabled: true })
    expect((await chat(key.raw, model)).status).toBe(200)
  })
})

describe('model mappings', () => {
  it('a mapping created through the API routes its model on the next request; deleting it answers 404 model_not_found', async () => {
    const provider = await createProvider()
    const model = `m-${uid()}`
    const key = await adminKey({ allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(404)
    const created = await admin('POST', '/model-mappings', {
      model,
      provider_id: provider.id,
      upstream_model: `up-${model}`,
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      object: 'model_mapping',
      model,
      provider_id: provider.id,
      provider_name: provider.name,
      upstream_model: `up-${model}`,
      priority: 1,
      weight: 1,
      enabled: true,
    })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    const deleted = await gateway(`/admin/model-mappings/${created.body.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(deleted.status).toBe(204)
    expect(await deleted.text()).toBe('')
    const gone = await chat(key.raw_key, model)
    expect(gone.status).toBe(404)
    expect(((await gone.json()) as any).error.code).toBe('model_not_found')
    expectOpenAIError(await admin('DELETE', `/model-mappings/${created.body.id}`), 404, 'not_found')
  })

  it('defaults upstream_model to the model, lists by model and patches any field', async () => {
    const [a, b] = [await adminProvider(), await adminProvider()]
    const model = `m-${uid()}`
    const first = await admin('POST', '/model-mappings', { model, provider_id: a.id })
    expect(first.body.upstream_model).toBe(model)
    await admin('POST', '/model-mappings', { model, provider_id: b.id, priority: 2 })
    const list = await admin('GET', `/model-mappings?model=${model}`)
    expect(list.body.data.map((m: any) => [m.provider_name, m.priority])).toEqual([
      [a.name, 1],
      [b.name, 2],
    ])
    const patched = await admin('PATCH', `/model-mappings/${first.body.id}`, {
      weight: 5,
      enabled: false,
      upstream_model: 'other',
    })
    expect(patched.body).toMatchObject({
      id: first.body.id,
      weight: 5,
      enabled: false,
      upstream_model: 'other',
      provider_name: a.name,
    })
    const all = await admin('GET', '/model-mappings')
    expect(all.body.data.filter((m: any) => m.model === model)).toHaveLength(2)
  })

  it('refuses an unknown provider_id with 400 naming provider_id, and a duplicate model and provider with 409', async () => {
    const provider = await adminProvider()
    const model = `m-${uid()}`
    expectOpenAIError(
      await admin('POST', '/model-mappings', { model, provider_id: UNKNOWN }),
      400,
      'invalid_request_error',
      'provider_id',
    )
    expectOpenAIError(
      await admin('POST', '/model-mappings', { model, provider_id: 'p-1' }),
      400,
      'invalid_request_error',
      'provider_id',
    )
    const created = await admin('POST', '/model-mappings', { model, provider_id: provider.id })
    expectOpenAIError(
      await admin('POST', '/model-mappings', { model, provider_id: provider.id }),
      409,
      'conflict',
    )
    expectOpenAIError(
      await admin('PATCH', `/model-mappings/${created.body.id}`, { provider_id: UNKNOWN }),
      400,
      'invalid_request_error',
      'provider_id',
    )
    expectOpenAIError(
      await admin('POST', '/model-mappings', { provider_id: provider.id }),
      400,
      'invalid_request_error',
      'model',
    )
    expectOpenAIError(
      await admin('POST', '/model-mappings', { model, provider_id: provider.id, priority: -1 }),
      400,
      'invalid_request_error',
      'priority',
    )
    expectOpenAIError(await admin('PATCH', `/model-mappings/${UNKNOWN}`, { weight: 1 }), 404, 'not_found')
  })

  it('audits create, update and delete with the mapping before and after', async () => {
    const provider = await adminProvider()
    const created = await admin('POST', '/model-mappings', { model: `m-${uid()}`, provider_id: provider.id })
    await admin('PATCH', `/model-mappings/${created.body.id}`, { priority: 3 })
    await admin('DELETE', `/model-mappings/${created.body.id}`)
    const entries = await auditOf(created.body.id)
    expect(entries.map((e) => [e.action, e.targetType])).toEqual([
      ['model_mapping.create', 'model_mapping'],
      ['model_mapping.update', 'model_mapping'],
      ['model_mapping.delete', 'model_mapping'],
    ])
    expect(entries[1]!.after).toMatchObject({ priority: 3 })
    expect(entries[2]!.before).toMatchObject({ priority: 3, provider_name: provider.name })
    expect(entries[2]!.after).toBeNull()
  })
})

describe('prices', () => {
  it('setting a price adds a version, never changes older ones, and the list marks the current one', async () => {
    const model = `m-${uid()}`
    const old = await admin('PUT', `/prices/${model}`, {
      input_per_million: 1,
      output_per_million: '2.5',
      effective_from: '2020-01-01T00:00:00Z',
    })
    expect(old.status).toBe(201)
    expect(old.body).toEqual({
      object: 'price',
      model,
      input_per_million: 1,
      output_per_million: 2.5,
      cache_read_per_million: null,
      cache_write_5m_per_million: null,
      cache_write_1h_per_million: null,
      long_context_threshold: null,
      long_input_per_million: null,
      long_output_per_million: null,
      effective_from: '2020-01-01T00:00:00.000Z',
      current: true,
    })
    const now = await admin('PUT', `/prices/${model}`, {
      input_per_million: '0.123456',
      output_per_million: 3,
    })
    expect(now.body).toMatchObject({ input_per_million: 0.123456, current: true })
    const future = await admin('PUT', `/prices/${model}`, {
      input_per_million: 9,
      output_per_million: 9,
      effective_from: '2999-01-01T00:00:00Z',
    })
    expect(future.body.current).toBe(false)
    const versions = (await admin('GET', '/prices')).body.data.filter((p: any) => p.model === model)
    expect(versions.map((v: any) => [v.input_per_million, v.output_per_million, v.current])).toEqual([
      [9, 9, false],
      [0.123456, 3, true],
      [1, 2.5, false],
    ])
    expect(versions[2].effective_from).toBe('2020-01-01T00:00:00.000Z')
    const entries = await auditOf(model)
    expect(entries.map((e) => e.action)).toEqual(['price.create', 'price.create', 'price.create'])
  })

  it('a new price applies to the next request while earlier usage rows keep the cost they were charged', async () => {
    const { model, key } = await setup()
    expect((await chat(key.raw, model)).status).toBe(200)
    const [first] = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    const atOldPrice = (first!.promptTokens * 1 + first!.completionTokens * 2) / 1e6
    expect(Number(first!.costUsd)).toBeCloseTo(atOldPrice, 12)
    expect(
      (await admin('PUT', `/prices/${model}`, { input_per_million: 10, output_per_million: 20 })).status,
    ).toBe(201)
    expect((await chat(key.raw, model)).status).toBe(200)
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(2)
      return rows
    })
    expect(rows[0]!.costUsd).toBe(first!.costUsd)
    expect(Number(rows[1]!.costUsd)).toBeCloseTo(
      (rows[1]!.promptTokens * 10 + rows[1]!.completionTokens * 20) / 1e6,
      12,
    )
  })

  it('accepts model names with slashes in the path', async () => {
    const model = `org-${uid()}/model-v1`
    const reply = await admin('PUT', `/prices/${model}`, { input_per_million: 1, output_per_million: 1 })
    expect(reply.status).toBe(201)
    expect(reply.body.model).toBe(model)
  })

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a negative input price', { input_per_million: -1, output_per_million: 1 }, 'input_per_million'],
    [
      'an output price with 7 decimals',
      { input_per_million: 1, output_per_million: '0.0000001' },
      'output_per_million',
    ],
    ['a missing output price', { input_per_million: 1 }, 'output_per_million'],
    [
      'an effective_from that is not a date-time',
      { input_per_million: 1, output_per_million: 1, effective_from: 'soon' },
      'effective_from',
    ],
    ['a null price', { input_per_million: null, output_per_million: 1 }, 'input_per_million'],
  ]
  for (const [what, body, param] of invalid) {
    it(`refuses ${what}, naming the field`, async () => {
      expectOpenAIError(await admin('PUT', `/prices/m-${uid()}`, body), 400, 'invalid_request_error', param)
    })
  }

  it('refuses a second version starting at the same instant with 409', async () => {
    const model = `m-${uid()}`
    const body = { input_per_million: 1, output_per_million: 1, effective_from: '2024-01-01T00:00:00Z' }
    expect((await admin('PUT', `/prices/${model}`, body)).status).toBe(201)
    expectOpenAIError(await admin('PUT', `/prices/${model}`, body), 409, 'conflict', 'effective_from')
  })
})
