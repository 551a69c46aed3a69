import { afterEach, describe, expect, it } from 'vitest'
import { admin, adminKey, expectOpenAIError } from '../helpers/admin'
import { eq } from 'drizzle-orm'
import { webhooks } from '../../drizzle/schema'
import { getDeps } from '../../src/deps'
import { emit } from '../../src/webhooks/deliver'
import { event } from '../../src/webhooks/events'
import {
  ADMIN_TOKEN,
  chatRequest,
  envWith,
  eventually,
  gateway,
  gatewayWith,
  mockUrl,
  testDb,
  uid,
} from '../helpers/gateway'
import { createKey, createModel, createProvider } from '../helpers/fixtures'
import { pooledProvider, postgresText, redisText, upstreamKey } from '../helpers/secrets'
import { runCron } from '../helpers/stores'

// The webhook receiver is the mock upstream's /s/<scenario>/v1/webhook: it records every delivery (headers
// and the exact body) and answers 200, or fails on demand (status500, hang, …) like any mock route.
type Received = { headers: Record<string, string>; raw: string; body: any }
async function received(scenario: string): Promise<Received[]> {
  const res = await fetch(`${mockUrl()}/__requests?scenario=${encodeURIComponent(scenario)}`)
  return res.json()
}
const receiverUrl = (scenario: string) => `${mockUrl()}/s/${scenario}/v1/webhook`

// What a receiver does: recompute HMAC-SHA256("<t>.<body>") under the shared secret.
async function verify(secret: string, delivery: Received): Promise<boolean> {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(delivery.headers['x-nexusai-signature'] ?? '')
  if (!match) return false
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  )
  const mac = new Uint8Array(match[2]!.match(/../g)!.map((b) => parseInt(b, 16)))
  return crypto.subtle.verify('HMAC', key, mac, new TextEncoder().encode(`${match[1]}.${delivery.raw}`))
}

const hooks: string[] = []
async function webhook(scenario: string, events: string[], extra: Record<string, unknown> = {}) {
  const reply = await admin('POST', '/webhooks', { url: receiverUrl(scenario), events, ...extra })
  expect(reply.status, JSON.stringify(reply.body)).toBe(201)
  hooks.push(reply.body.id)
  return reply.body as { id: string; secret: string }
}
// Webhooks are global: remove this test's, so the next test's events do not reach them.
afterEach(async () => {
  for (const id of hooks.splice(0)) await admin('DELETE', `/webhooks/${id}`)
})

// Every request costs exactly $0.005 (input free, $1000 per 1M output tokens, 5 output tokens).
async function pricedModel(scenario?: string) {
  const provider = await createProvider(scenario ? { scenario } : {})
  return createModel([provider.id], { input: '0', output: '1000' })
}
const chat = (raw: string, model: string) =>
  gateway('/v1/chat/completions', chatRequest(raw, model, { max_tokens: 5 }))
const mine = (deliveries: Received[], field: string, id: string) =>
  deliveries.filter((d) => d.body?.data?.[field] === id)

describe('webhooks admin API', () => {
  it('creates (secret shown once), lists, patches and deletes webhooks; validates url and events', async () => {
    const created = await admin('POST', '/webhooks', {
      url: 'https://hooks.example.test/nexusai',
      events: ['budget.threshold', 'budget.threshold', 'key.expiring'],
    })
    expect(created.status).toBe(201)
    hooks.push(created.body.id)
    expect(created.body).toMatchObject({
      object: 'webhook',
      events: ['budget.threshold', 'key.expiring'],
      enabled: true,
      secret: expect.stringMatching(/^whsec_[0-9a-f]{48}$/),
    })
    const listed = (await admin('GET', '/webhooks')).body.data.find((w: any) => w.id === created.body.id)
    expect(listed).not.toHaveProperty('secret')
    expect(listed.secret_hint).toBe(`…${created.body.secret.slice(-4)}`)
    const patched = await admin('PATCH', `/webhooks/${created.body.id}`, { enabled: false })
    expect(patched.body).toMatchObject({ enabled: false })
    expect(JSON.stringify(patched.body)).not.toContain(created.body.secret)

    const bad = (body: unknown) => admin('POST', '/webhooks', body)
    expectOpenAIError(
      await bad({ url: 'http://hooks.example.test/x', events: ['key.expiring'] }),
      400,
      'invalid_request_error',
      'url',
    )
    expectOpenAIError(
      await bad({ url: 'ftp://127.0.0.1/x', events: ['key.expiring'] }),
      400,
      'invalid_request_error',
      'url',
    )
    expectOpenAIError(
      await bad({ url: 'https://h.example.test', events: ['budget.nope'] }),
      400,
      'invalid_request_error',
      'events[0]',
    )
    expectOpenAIError(
      await bad({ url: 'https://h.example.test', events: [] }),
      400,
      'invalid_request_error',
      'events',
    )
    expectOpenAIError(
      await bad({ url: 'https://h.example.test', events: ['key.expiring'], secret: 'short' }),
      400,
      'invalid_request_error',
      'secret',
    )
    expectOpenAIError(
      await admin('PATCH', `/webhooks/${crypto.randomUUID()}`, { enabled: true }),
      404,
      'not_found',
    )
    expect((await admin('DELETE', `/webhooks/${created.body.id}`)).status).toBe(204)
    expectOpenAIError(await admin('GET', `/webhooks/${created.body.id}/deliveries`), 404, 'not_found')
    hooks.length = 0
  })

  it('accepts http to loopback only when the deployment says it is local', async () => {
    const body = JSON.stringify({ url: 'http://127.0.0.1:9/hook', events: ['key.expiring'] })
    const init = (): RequestInit => ({
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body,
    })
    const remote = await gatewayWith({ ALLOW_PRIVATE_UPSTREAMS: 'false' }, '/admin/webhooks', init())
    expect(remote.res.status).toBe(400)
    expect(JSON.parse(remote.body).error).toMatchObject({
      param: 'url',
      message: expect.stringContaining('local deployment'),
    })
    const local = await gatewayWith({}, '/admin/webhooks', init())
    expect(local.res.status).toBe(201)
    hooks.push(JSON.parse(local.body).id)
  })
})

describe('webhook secrets', () => {
  // An event only this test's webhook is told about (a cron run would also announce other tests' keys).
  const announce = async (id: string) =>
    emit(getDeps(envWith({})), [event('key.expiring', id, Date.now(), { api_key_id: id })])

  it('are stored sealed under SECRETS_KEY, and deliveries are still signed with them', async () => {
    // Shaped like no generated secret, so only "the secret we were given" finds it.
    const secret = `Qz~${uid()}/unusual+SIGNING.secret_${uid()}`
    const scenario = `hook~${uid()}`
    const hook = await webhook(scenario, ['key.expiring'], { secret })
    expect(hook.secret).toBe(secret)
    const [pg, redis] = await Promise.all([postgresText(), redisText()])
    expect(pg).toContain(hook.id)
    expect(pg).not.toContain(secret)
    expect(redis).not.toContain(secret)
    expect((await admin('GET', '/webhooks')).body.data.find((w: any) => w.id === hook.id).secret_hint).toBe(
      `…${secret.slice(-4)}`,
    )
    const id = uid()
    await announce(id)
    const [delivery] = mine(await received(scenario), 'api_key_id', id)
    expect(delivery).toBeDefined()
    expect(await verify(secret, delivery!)).toBe(true)
  })

  it('cannot be stored without a usable SECRETS_KEY', async () => {
    const { res, body } = await gatewayWith({ SECRETS_KEY: '' }, '/admin/webhooks', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://hooks.example.test/x', events: ['key.expiring'] }),
    })
    expect(res.status).toBe(400)
    expect(JSON.parse(body).error).toMatchObject({
      param: 'secret',
      message: expect.stringContaining('SECRETS_KEY is not set'),
    })
  })

  it('a secret stored before sealing still signs, and POST /admin/secrets/rotate seals it', async () => {
    const secret = `whsec_plain_${uid()}_${uid()}`
    const scenario = `hook~${uid()}`
    const [row] = await testDb()
      .insert(webhooks)
      .values({ url: receiverUrl(scenario), events: ['key.expiring'], secret })
      .returning()
    hooks.push(row!.id)
    const first = uid()
    await announce(first)
    expect(await verify(secret, mine(await received(scenario), 'api_key_id', first)[0]!)).toBe(true)

    const rotated = await admin('POST', '/secrets/rotate')
    expect(rotated.status).toBe(200)
    expect(rotated.body.webhook_secrets.resealed).toBeGreaterThanOrEqual(1)
    const [stored] = await testDb().select().from(webhooks).where(eq(webhooks.id, row!.id))
    expect(stored!.kekVersion).toBe(rotated.body.kek_version)
    expect(stored!.secret).not.toContain(secret)
    expect(await postgresText()).not.toContain(secret)
    const second = uid()
    await announce(second)
    expect(await verify(secret, mine(await received(scenario), 'api_key_id', second)[0]!)).toBe(true)
  })
})

describe('budget alerts', () => {
  it('announces each threshold and the exhaustion once, signed, however many requests cross them at once', async () => {
    const scenario = `hook~${uid()}`
    const hook = await webhook(scenario, ['budget.threshold', 'budget.exhausted'])
    const model = await pricedModel()
    // $0.02 is four requests: 0.5, 0.8 and 1.0 are crossed by the 2nd, 4th and 4th.
    const key = await adminKey({ allowed_models: [model], daily_budget: '0.02' })
    const results = await Promise.all(
      Array.from({ length: 12 }, () => chat(key.raw_key, model).then((r) => r.status)),
    )
    expect(results.filter((s) => s === 200)).toHaveLength(4)

    const deliveries = await eventually(async () => {
      const got = mine(await received(scenario), 'api_key_id', key.id)
      expect(got).toHaveLength(4)
      return got
    })
    const kinds = deliveries.map((d) => `${d.body.type}:${d.body.data.threshold ?? ''}`).sort()
    expect(kinds).toEqual([
      'budget.exhausted:',
      'budget.threshold:0.5',
      'budget.threshold:0.8',
      'budget.threshold:1',
    ])
    for (const d of deliveries) {
      expect(await verify(hook.secret, d)).toBe(true)
      expect(await verify('not-the-secret-at-all', d)).toBe(false)
      expect(d.body).toMatchObject({
        id: expect.stringContaining(`key:${key.id}:daily:`),
        created_at: expect.any(String),
        data: { scope: 'key', window: 'daily', budget_usd: '0.020000', project_id: 'default' },
      })
    }
    // Still once each: later requests (refused) announce nothing new.
    expect((await chat(key.raw_key, model)).status).toBe(429)
    const log = await eventually(async () => {
      const page = (await admin('GET', `/webhooks/${hook.id}/deliveries?limit=500`)).body
      const rows = page.data.filter((d: any) => d.body.data.api_key_id === key.id)
      expect(
        rows.every((d: any) => d.status === 'delivered' && d.attempts === 1 && d.last_status === 200),
      ).toBe(true)
      return rows
    })
    expect(log).toHaveLength(4)
    expect(mine(await received(scenario), 'api_key_id', key.id)).toHaveLength(4)
  })

  it("announces a project's 80 % once across all its keys, at the project's fractions", async () => {
    const scenario = `hook~${uid()}`
    await webhook(scenario, ['budget.threshold'])
    const model = await pricedModel()
    const project = `alerts-${uid()}`
    await admin('POST', '/projects', { id: project, monthly_budget: '0.05', budget_alerts: [0.8] })
    const keys = await Promise.all(
      Array.from({ length: 3 }, () => adminKey({ project_id: project, allowed_models: [model] })),
    )
    await Promise.all(Array.from({ length: 9 }, (_, i) => chat(keys[i % 3]!.raw_key, model)))
    const got = await eventually(async () => {
      const list = (await received(scenario)).filter((d) => d.body?.data?.project_id === project)
      expect(list).toHaveLength(1)
      return list
    })
    expect(got[0]!.body).toMatchObject({
      type: 'budget.threshold',
      data: {
        scope: 'project',
        window: 'monthly',
        threshold: 0.8,
        api_key_id: null,
        spent_usd: '0.040000000000',
      },
    })
  })
})

describe('delivery', () => {
  it('retries after a 500 from the receiver, with backoff, from the cron', async () => {
    const failing = `status500~${uid()}`
    const hook = await webhook(failing, ['budget.threshold'])
    const model = await pricedModel()
    const key = await adminKey({ allowed_models: [model], daily_budget: '0.01', budget_alerts: [0.5] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    const first = await eventually(async () => {
      const rows = (await admin('GET', `/webhooks/${hook.id}/deliveries`)).body.data.filter(
        (d: any) => d.body.data.api_key_id === key.id,
      )
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ status: 'pending', attempts: 1, last_status: 500 })
      return rows[0]
    })
    // The receiver recovers; the cron retries once the backoff has passed.
    const healthy = `hook~${uid()}`
    await admin('PATCH', `/webhooks/${hook.id}`, { url: receiverUrl(healthy) })
    await runCron()
    expect(mine(await received(healthy), 'api_key_id', key.id)).toHaveLength(0)
    await runCron({ CLOCK_OFFSET_MS: '120000' })
    const retried = mine(await received(healthy), 'api_key_id', key.id)
    expect(retried).toHaveLength(1)
    expect(retried[0]!.raw).toBe(JSON.stringify(first.body))
    const row = (await admin('GET', `/webhooks/${hook.id}/deliveries`)).body.data.find(
      (d: any) => d.id === first.id,
    )
    expect(row).toMatchObject({ status: 'delivered', attempts: 2, last_status: 200, next_attempt_at: null })
  })

  it('a receiver that does not answer does not hold up the client', async () => {
    const slow = `hang~${uid()}`
    const hook = await webhook(slow, ['budget.threshold'])
    const model = await pricedModel()
    const key = await adminKey({ allowed_models: [model], daily_budget: '0.005', budget_alerts: [1] })
    const res = await chat(key.raw_key, model)
    expect(res.status).toBe(200)
    // The delivery reaches the receiver after the client has its response, and is still unanswered
    // (in flight) then: the response did not wait for it.
    await eventually(async () => expect(mine(await received(slow), 'api_key_id', key.id)).toHaveLength(1))
    const rows = (await admin('GET', `/webhooks/${hook.id}/deliveries`)).body.data.filter(
      (d: any) => d.body.data.api_key_id === key.id,
    )
    expect(rows).toMatchObject([{ status: 'pending', attempts: 0 }])
  })
})

describe('other events', () => {
  it('key.expiring comes from the cron, once per expiry', async () => {
    const scenario = `hook~${uid()}`
    await webhook(scenario, ['key.expiring'])
    const expiresAt = new Date(Date.now() + 3 * 86_400_000).toISOString()
    const key = await adminKey({ expires_at: expiresAt })
    await runCron()
    await runCron()
    const got = mine(await received(scenario), 'api_key_id', key.id)
    expect(got).toHaveLength(1)
    expect(got[0]!.body).toMatchObject({ type: 'key.expiring', data: { expires_at: expiresAt } })
  })

  it('provider.circuit_opened when a breaker opens', async () => {
    const scenario = `hook~${uid()}`
    await webhook(scenario, ['provider.circuit_opened', 'provider.circuit_closed'])
    const failing = await createProvider({ scenario: `status500~${uid()}` })
    const model = await createModel([failing.id])
    // Two keys: one alone opens a breaker for itself only.
    const keys = [await createKey({ models: [model] }), await createKey({ models: [model] })]
    for (let i = 0; i < 5; i++)
      await gatewayWith({}, '/v1/chat/completions', chatRequest(keys[i % 2]!.raw, model))
    const got = await eventually(async () => {
      const list = mine(await received(scenario), 'provider_id', failing.id)
      expect(list).toHaveLength(1)
      return list
    })
    expect(got[0]!.body).toMatchObject({
      type: 'provider.circuit_opened',
      data: { provider: failing.name, state: 'open' },
    })
  })

  it('provider.circuit_closed when an operator resets an open breaker (and not for a closed one)', async () => {
    const scenario = `hook~${uid()}`
    await webhook(scenario, ['provider.circuit_closed'])
    const failing = await createProvider({ scenario: `status500~${uid()}` })
    const model = await createModel([failing.id])
    // Two keys: one alone opens a breaker for itself only.
    const keys = [await createKey({ models: [model] }), await createKey({ models: [model] })]
    for (let i = 0; i < 5; i++)
      await gatewayWith({}, '/v1/chat/completions', chatRequest(keys[i % 2]!.raw, model))
    expect(
      (await admin('GET', '/providers')).body.data.find((p: any) => p.id === failing.id).health,
    ).toMatchObject({
      state: 'open',
    })
    const reset = await admin('POST', `/providers/${failing.id}/reset`)
    expect(reset.body.health).toMatchObject({ state: 'closed' })
    const got = await eventually(async () => {
      const list = mine(await received(scenario), 'provider_id', failing.id)
      expect(list).toHaveLength(1)
      return list
    })
    expect(got[0]!.body).toMatchObject({
      type: 'provider.circuit_closed',
      data: { provider: failing.name, state: 'closed', by: 'reset' },
    })
    // A second reset finds it closed: nothing to announce.
    expect((await admin('POST', `/providers/${failing.id}/reset`)).status).toBe(200)
    await new Promise((r) => setTimeout(r, 300))
    expect(mine(await received(scenario), 'provider_id', failing.id)).toHaveLength(1)
  })

  it('provider.key_invalid when an upstream refuses a stored key', async () => {
    const scenario = `hook~${uid()}`
    await webhook(scenario, ['provider.key_invalid'])
    const [good, bad] = [upstreamKey('GOODKEY'), upstreamKey('REVOKED')]
    const provider = await pooledProvider(`denyREVOKED~${uid()}`, [good, bad])
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    for (let i = 0; i < 2; i++) await gatewayWith({}, '/v1/chat/completions', chatRequest(key.raw, model))
    const got = await eventually(async () => {
      const list = mine(await received(scenario), 'provider_id', provider.id)
      expect(list).toHaveLength(1)
      return list
    })
    expect(got[0]!.body).toMatchObject({
      type: 'provider.key_invalid',
      data: { provider: provider.name, key_hint: 'OKED', status: 401 },
    })
    expect(JSON.stringify(got[0]!.body)).not.toContain(bad)
  })
})
