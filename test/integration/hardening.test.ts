import { describe, expect, it } from 'vitest'
import { admin, adminKey, expectOpenAIError } from '../helpers/admin'
import {
  ADMIN_TOKEN,
  chatRequest,
  gateway,
  envWith,
  gatewayWith,
  mockRequests,
  mockUrl,
  uid,
  UPSTREAM_KEY,
} from '../helpers/gateway'
import { createKey, createModel, createProvider } from '../helpers/fixtures'
import { getDeps } from '../../src/deps'
import { emit } from '../../src/webhooks/deliver'
import { event } from '../../src/webhooks/events'

const NUL = 'a\u0000b'
const SURROGATE = 'a\ud800b'

describe('admin writes apply on the next request', () => {
  it('a price set through the API lifts the "no price" refusal of a budgeted key at once', async () => {
    const provider = await createProvider()
    const model = `m-${uid()}`
    expect((await admin('POST', '/model-mappings', { model, provider_id: provider.id })).status).toBe(201)
    const key = await createKey({ models: [model], dailyBudget: '10' })
    // The refusal loads the catalog into this isolate's cache...
    const refused = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('No price')
    // ...and the price set now must not wait for that cache to expire.
    const put = await admin('PUT', `/prices/${model}`, { input_per_million: 1, output_per_million: 2 })
    expect(put.status).toBe(201)
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, model))).status).toBe(200)
  })
})

describe('admin input Postgres cannot store is a 400 naming the field, not "database down"', () => {
  const bodies: [string, string, Record<string, unknown>, string][] = [
    ['key name', '/api-keys', { name: NUL }, 'name'],
    ['key name (lone surrogate)', '/api-keys', { name: SURROGATE }, 'name'],
    ['project_id', '/api-keys', { name: 'k', project_id: NUL }, 'project_id'],
    ['allowed_models', '/api-keys', { name: 'k', allowed_models: ['ok', SURROGATE] }, 'allowed_models[1]'],
    ['mapping model', '/model-mappings', { model: NUL, provider_id: 'openai-main' }, 'model'],
    ['mapping provider', '/model-mappings', { model: 'm', provider_id: SURROGATE }, 'provider_id'],
    [
      'upstream_model',
      '/model-mappings',
      { model: 'm', provider_id: 'openai-main', upstream_model: NUL },
      'upstream_model',
    ],
  ]
  for (const [what, path, body, param] of bodies) {
    it(`refuses a ${what} with NUL or an unpaired surrogate`, async () => {
      expectOpenAIError(await admin('POST', path, body), 400, 'invalid_request_error', param)
    })
  }

  it('refuses them in a key PATCH, the price path and the usage and mapping filters', async () => {
    const key = await adminKey()
    expectOpenAIError(
      await admin('PATCH', `/api-keys/${key.id}`, { name: SURROGATE }),
      400,
      'invalid_request_error',
      'name',
    )
    const price = await admin('PUT', `/prices/${encodeURIComponent(NUL)}`, {
      input_per_million: 1,
      output_per_million: 1,
    })
    expectOpenAIError(price, 400, 'invalid_request_error')
    for (const filter of ['model', 'provider', 'project_id']) {
      expectOpenAIError(await admin('GET', `/usage?${filter}=a%00b`), 400, 'invalid_request_error', filter)
      expectOpenAIError(
        await admin('GET', `/usage/logs?${filter}=a%00b`),
        400,
        'invalid_request_error',
        filter,
      )
    }
    expectOpenAIError(
      await admin('GET', '/model-mappings?model=a%00b'),
      400,
      'invalid_request_error',
      'model',
    )
    expectOpenAIError(await admin('PATCH', '/providers/a%00b', { enabled: true }), 404, 'not_found')
  })

  it('refuses them in a webhook url or secret, a project id in the path and the export filter', async () => {
    const hook = { url: 'https://hooks.example.test/x', events: ['key.expiring'] }
    for (const bad of [NUL, SURROGATE]) {
      expectOpenAIError(
        await admin('POST', '/webhooks', { ...hook, secret: `whsec_0123456789abcdef${bad}` }),
        400,
        'invalid_request_error',
        'secret',
      )
      expectOpenAIError(
        await admin('POST', '/webhooks', { ...hook, url: `https://hooks.example.test/${bad}` }),
        400,
        'invalid_request_error',
        'url',
      )
    }
    for (const path of ['/projects/a%00b', '/projects/a%00b/statement']) {
      expectOpenAIError(await admin('GET', path), 400, 'invalid_request_error', 'id')
    }
    expectOpenAIError(
      await admin('PATCH', '/projects/a%00b', { name: 'x' }),
      400,
      'invalid_request_error',
      'id',
    )
    expectOpenAIError(
      await admin('GET', '/usage/logs/export?project_id=a%00b'),
      400,
      'invalid_request_error',
      'project_id',
    )
  })

  it('refuses statement months a date column cannot hold', async () => {
    await admin('POST', '/projects', { id: 'stmt-months', name: 'statement months' })
    for (const month of ['0000-01', '1969-12', '9999-12']) {
      expectOpenAIError(
        await admin('GET', `/projects/stmt-months/statement?month=${month}`),
        400,
        'invalid_request_error',
        'month',
      )
    }
    expect((await admin('GET', '/projects/stmt-months/statement?month=9998-12')).status).toBe(200)
  })

  it('refuses usage windows outside 1970–9999 instead of shifting them', async () => {
    expectOpenAIError(await admin('GET', '/usage?from=0001-01-01'), 400, 'invalid_request_error', 'from')
    expect((await admin('GET', '/usage?from=2020-01-01')).status).toBe(200)
  })
})

describe('relayed upstream errors', () => {
  it('never carry the provider key or anything shaped like a credential', async () => {
    const provider = await createProvider({ scenario: `secretleak+status400~${uid()}` })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(JSON.parse(text).error.message).toContain('Authorization: Bearer [redacted]')
    expect(text).not.toContain(UPSTREAM_KEY)
    expect(text).not.toContain('sk-upstream')
  })
})

describe('upstream redirects', () => {
  it('are not followed, so the provider key never reaches the host a redirect names', async () => {
    const scenario = `redirect~${uid()}`
    const provider = await createProvider({ scenario })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(502)
    expect(await mockRequests(scenario)).toHaveLength(1)
    expect(await mockRequests(`redirected-${scenario}`)).toEqual([])
  })
})

describe('provider base_url', () => {
  const post = (base_url: string) => admin('POST', '/providers', { name: `p-${uid()}`, base_url })

  it('refuses a query string or a fragment (they would break the upstream path)', async () => {
    expectOpenAIError(await post('https://api.example.test/v1?x=1'), 400, 'invalid_request_error', 'base_url')
    expectOpenAIError(
      await post('https://api.example.test/v1#frag'),
      400,
      'invalid_request_error',
      'base_url',
    )
  })

  it('refuses link-local and cloud metadata addresses even on a local deployment', async () => {
    for (const url of [
      'http://169.254.169.254/latest',
      'http://metadata.google.internal/v1',
      'http://[fe80::1]/v1',
      'http://[::ffff:169.254.169.254]/v1',
      'http://0.0.0.0/v1',
      'http://224.0.0.1/v1',
      'http://255.255.255.255/v1',
      'http://192.0.0.192/v1',
      'http://metadata.tencentyun.com/v1',
      'http://[ff02::1]/v1',
      'http://[64:ff9b::a9fe:a9fe]/v1',
    ])
      expectOpenAIError(await post(url), 400, 'invalid_request_error', 'base_url')
  })

  it('allows loopback and private addresses only when the deployment says it is local', async () => {
    const local = [
      'http://127.0.0.1:9/v1',
      'http://localhost:9/v1',
      'http://10.1.2.3/v1',
      'http://[::1]:9/v1',
    ]
    for (const url of local) expect((await post(url)).status).toBe(201)
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
    const embedded = [
      'http://[::127.0.0.1]/v1',
      'http://[64:ff9b::7f00:1]/v1',
      'http://[::ffff:0:7f00:1]/v1',
      'http://[2002:7f00:1::]/v1',
      'http://[fec0::1]/v1',
      'http://198.18.0.1/v1',
    ]
    for (const url of [...local, ...embedded, 'http://192.168.1.10/v1', 'http://2130706433/v1']) {
      const { res, body } = await gatewayWith({ ALLOW_PRIVATE_UPSTREAMS: 'false' }, '/admin/providers', {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: `p-${uid()}`, base_url: url }),
      })
      expect(res.status).toBe(400)
      expect(JSON.parse(body).error.param).toBe('base_url')
    }
    const { res } = await gatewayWith({ ALLOW_PRIVATE_UPSTREAMS: 'false' }, '/admin/providers', {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `p-${uid()}`, base_url: 'https://api.example.test/v1' }),
    })
    expect(res.status).toBe(201)
  })
})

describe('stored addresses are checked again when used', () => {
  const remote = { ALLOW_PRIVATE_UPSTREAMS: 'false' }

  it('a provider written while the deployment was local is not called once it is not', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    expect((await gateway('/v1/chat/completions', chatRequest(key.raw, model))).status).toBe(200)
    const { res } = await gatewayWith(remote, '/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(503)
    expect(await mockRequests(provider.scenario)).toHaveLength(1)
  })

  it('a webhook written while the deployment was local is not posted to once it is not', async () => {
    const scenario = `hook~${uid()}`
    const hook = await admin('POST', '/webhooks', {
      url: `${mockUrl()}/s/${scenario}/v1/webhook`,
      events: ['key.expiring'],
    })
    expect(hook.status).toBe(201)
    try {
      // An event of this test's own (a cron run would also announce other tests' keys).
      const id = uid()
      await emit(getDeps(envWith(remote)), [event('key.expiring', id, Date.now(), { api_key_id: id })])
      expect(await mockRequests(scenario)).toEqual([])
      const deliveries = (await admin('GET', `/webhooks/${hook.body.id}/deliveries`)).body.data
      expect(deliveries.length).toBeGreaterThan(0)
      for (const d of deliveries)
        expect(d).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^url not allowed/) })
    } finally {
      await admin('DELETE', `/webhooks/${hook.body.id}`)
    }
  })
})

describe('aggregator routing fields', () => {
  const steering = { provider: { order: ['cheap'] }, models: ['other/model'], route: 'fallback' }

  it('are dropped before the upstream call unless the provider is set to forward them', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, model, { ...steering, seed: 1 }))
    expect(res.status).toBe(200)
    const [seen] = await mockRequests(provider.scenario)
    expect(seen?.body).toMatchObject({ seed: 1 })
    for (const field of Object.keys(steering)) expect(seen?.body).not.toHaveProperty(field)

    const variable = `PROVIDER_${provider.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_FORWARD_ROUTING_FIELDS`
    const forwarded = await gatewayWith(
      { [variable]: 'true' },
      '/v1/chat/completions',
      chatRequest(key.raw, model, steering),
    )
    expect(forwarded.res.status).toBe(200)
    expect((await mockRequests(provider.scenario))[1]?.body).toMatchObject(steering)
  })
})

describe('error messages', () => {
  it('quote at most 100 characters of a client-chosen model name', async () => {
    const key = await createKey({ models: ['*'] })
    const long = `m-${'x'.repeat(5000)}`
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw, long))
    expect(res.status).toBe(404)
    const { message } = ((await res.json()) as { error: { message: string } }).error
    expect(message).toContain(`'${long.slice(0, 100)}…'`)
    expect(message.length).toBeLessThan(200)
  })
})

describe('the admin page', () => {
  it('is served with a Content-Security-Policy that allows only its own origin', async () => {
    for (const path of ['/admin/ui', '/admin/ui/app.js']) {
      const res = await gateway(path)
      expect(res.status).toBe(200)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
    }
  })
})
