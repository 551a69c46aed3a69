import { describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { chatRequest, envWith, gatewayWith, mockRequests } from '../helpers/gateway'
import { admin, adminKey } from '../helpers/admin'
import { countRows, createKey, createModel, createProvider } from '../helpers/fixtures'
import { pooledProvider, upstreamKey } from '../helpers/secrets'
import { testDb } from '../helpers/gateway'
import { eq, sql } from 'drizzle-orm'
import { apiKeys } from '../../drizzle/schema'

// This file owns the probe endpoints: nothing else sends them traffic, so their counters are ours.
const probe = () => ({
  DATABASE_URL: 'postgres://nexus:local@probe.localtest.me/probe',
  NEON_HTTP_ENDPOINT: inject('neonProbeEndpoint'),
  UPSTASH_REDIS_REST_URL: inject('upstashProbeUrl'),
})

async function counts() {
  const token = envWith(probe()).UPSTASH_REDIS_REST_TOKEN as string
  const neonBase = inject('neonProbeEndpoint').replace(/\/sql$/, '')
  const [redis, pg] = await Promise.all([
    fetch(`${inject('upstashProbeUrl')}/__stats`, { headers: { authorization: `Bearer ${token}` } }).then(
      (r) => r.json() as Promise<{ requests: number }>,
    ),
    fetch(`${neonBase}/__stats`).then((r) => r.json() as Promise<{ requests: number }>),
  ])
  return { redis: redis.requests, postgres: pg.requests }
}

const request = (raw: string, model: string) => chatRequest(raw, model, { max_tokens: 5 })

const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
const randomBase62 = (n: number) =>
  [...crypto.getRandomValues(new Uint8Array(n))].map((b) => BASE62[b % 62]).join('')

describe('hot-path store round trips', () => {
  // `stored`: the provider's upstream key is a stored (sealed) one, read and opened once per catalog load,
  // never per request. (Which key reached the upstream is provider-secrets.test.ts's business: its
  // rotation test briefly re-seals every stored key, this one included.)
  it.each(['ref', 'stored'])(
    'a warm key with limits and budgets costs one Redis and zero Postgres round trips before the upstream call (upstream key: %s)',
    async (source) => {
      const scenario = `delay400~${crypto.randomUUID()}`
      const provider =
        source === 'stored'
          ? await pooledProvider(scenario, [upstreamKey()])
          : await createProvider({ scenario })
      const model = await createModel([provider.id])
      const key = await createKey({
        models: [model],
        rpmLimit: 1000,
        tpmLimit: 1_000_000,
        dailyBudget: '100',
        monthlyBudget: '1000',
      })
      // Warm the isolate caches and the spend counters.
      expect((await gatewayWith(probe(), '/v1/chat/completions', request(key.raw, model))).res.status).toBe(
        200,
      )

      const before = await counts()
      const pending = gatewayWith(probe(), '/v1/chat/completions', request(key.raw, model))
      // While the upstream holds the second request, count what the gateway did before calling it.
      for (let i = 0; (await mockRequests(scenario)).length < 2 && i < 100; i++)
        await new Promise((r) => setTimeout(r, 20))
      const atUpstream = await counts()
      const { res } = await pending
      expect(res.status).toBe(200)
      expect(atUpstream.redis - before.redis).toBe(1)
      expect(atUpstream.postgres - before.postgres).toBe(0)
      // After the response (gatewayWith waits for waitUntil): one Redis step settles the hold and counts
      // the metrics, one Postgres statement writes the usage row, its rollup and last_used_at.
      const after = await counts()
      expect(after.redis - before.redis).toBe(2)
      expect(after.postgres - before.postgres).toBe(1)
    },
  )

  // The other protocols' routes go through the same stages: a Gemini client on a Gemini target
  // (passthrough) and a Responses client on an Anthropic target (translated).
  it.each([
    [
      'gemini',
      (model: string) => `/v1beta/models/${model}:generateContent`,
      { contents: [{ parts: [{ text: 'Hi' }] }] },
    ],
    ['anthropic', () => '/v1/responses', { input: 'Hi', max_output_tokens: 5 }],
  ] as const)(
    'a warm key on another protocol costs the same one Redis and zero Postgres round trips (%s target)',
    async (type, path, body) => {
      const scenario = `delay400~${crypto.randomUUID()}`
      const provider = await createProvider({ type, scenario })
      const model = await createModel([provider.id])
      const key = await createKey({
        models: [model],
        rpmLimit: 1000,
        tpmLimit: 1_000_000,
        dailyBudget: '100',
      })
      const init = () => ({
        method: 'POST',
        headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
        // A Gemini request names its model in the path only.
        body: JSON.stringify(type === 'gemini' ? body : { model, ...body }),
      })
      expect((await gatewayWith(probe(), path(model), init())).res.status).toBe(200)
      const before = await counts()
      const pending = gatewayWith(probe(), path(model), init())
      for (let i = 0; (await mockRequests(scenario)).length < 2 && i < 100; i++)
        await new Promise((r) => setTimeout(r, 20))
      const atUpstream = await counts()
      expect((await pending).res.status).toBe(200)
      expect(atUpstream.redis - before.redis).toBe(1)
      expect(atUpstream.postgres - before.postgres).toBe(0)
    },
  )
  it('a warm key of a prepaid project with a key window and a project window still costs one Redis and zero Postgres round trips', async () => {
    const scenario = `delay400~${crypto.randomUUID()}`
    const provider = await createProvider({ scenario })
    const model = await createModel([provider.id])
    const projectId = `rt-${crypto.randomUUID().slice(0, 8)}`
    await admin('POST', '/projects', { id: projectId, windows: [{ period: '1d', limit_usd: '100' }] })
    await admin('POST', `/projects/${projectId}/credits`, { amount_usd: '100' })
    const key = await adminKey({
      project_id: projectId,
      allowed_models: [model],
      monthly_budget: '1000',
      windows: [{ period: '5h', limit_requests: 1000 }],
    })
    expect((await gatewayWith(probe(), '/v1/chat/completions', request(key.raw_key, model))).res.status).toBe(
      200,
    )
    const before = await counts()
    const pending = gatewayWith(probe(), '/v1/chat/completions', request(key.raw_key, model))
    for (let i = 0; (await mockRequests(scenario)).length < 2 && i < 100; i++)
      await new Promise((r) => setTimeout(r, 20))
    const atUpstream = await counts()
    expect((await pending).res.status).toBe(200)
    expect(atUpstream.redis - before.redis).toBe(1)
    expect(atUpstream.postgres - before.postgres).toBe(0)
  })

  it('forged keys shaped like an issued one cost no store call; an unknown unsigned one costs one lookup while unsigned keys exist, then none', async () => {
    // Shaped exactly like what the admin API hands out, random everywhere after the prefix.
    const issued = (await adminKey({ allowed_models: ['*'] })).raw_key
    const forge = () => `lgw_${randomBase62(issued.length - 4)}`
    const before = await counts()
    for (let i = 0; i < 100; i++) {
      const { res } = await gatewayWith(probe(), '/v1/chat/completions', request(forge(), 'gpt-4o-mini'))
      expect(res.status).toBe(401)
    }
    const afterForged = await counts()
    expect(afterForged.redis - before.redis).toBe(0)
    expect(afterForged.postgres - before.postgres).toBe(0)

    // A key in the format issued before keys were signed can only be told apart by a lookup, once, while
    // such keys exist (one is made here, and the catalog that says so is loaded before counting).
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const legacy = await createKey({ models: [model], legacy: true })
    expect((await gatewayWith(probe(), '/v1/chat/completions', request(legacy.raw, model))).res.status).toBe(
      200,
    )
    const afterLegacy = await counts()
    const unknown = `lgw_${randomBase62(40)}`
    expect(
      (await gatewayWith(probe(), '/v1/models', { headers: { authorization: `Bearer ${unknown}` } })).res
        .status,
    ).toBe(401)
    const afterFirst = await counts()
    expect(afterFirst.postgres - afterLegacy.postgres).toBe(1)
    for (let i = 0; i < 20; i++) {
      const { res } = await gatewayWith(probe(), '/v1/models', {
        headers: { authorization: `Bearer ${unknown}` },
      })
      expect(res.status).toBe(401)
    }
    const afterRepeats = await counts()
    expect(afterRepeats.redis - afterFirst.redis).toBe(0)
    expect(afterRepeats.postgres - afterFirst.postgres).toBe(0)
  })

  it('once no unsigned key is left, that format is refused without a store call, and a signed key older than the flag clears it', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    // A signed key issued before keys were flagged counts as possibly unsigned until it is presented.
    const signed = await createKey({ models: [model], legacy: true, signedFormat: true })
    expect((await gatewayWith(probe(), '/v1/chat/completions', request(signed.raw, model))).res.status).toBe(
      200,
    )
    const flagOf = async (id: string) =>
      (await testDb().select({ legacy: apiKeys.legacy }).from(apiKeys).where(eq(apiKeys.id, id)))[0]?.legacy
    expect(await flagOf(signed.id)).toBe(false)
    // Every key still in the unsigned format is rotated (this file is the only one that makes them).
    for (const { id } of await testDb()
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(eq(apiKeys.legacy, true)))
      expect((await admin('POST', `/api-keys/${id}/rotate`)).status).toBe(200)
    // The next request loads the catalog that says so.
    expect((await gatewayWith(probe(), '/v1/chat/completions', request(signed.raw, model))).res.status).toBe(
      200,
    )
    const before = await counts()
    for (let i = 0; i < 50; i++) {
      const { res } = await gatewayWith(probe(), '/v1/models', {
        headers: { authorization: `Bearer lgw_${randomBase62(40)}` },
      })
      expect(res.status).toBe(401)
    }
    const after = await counts()
    expect(after.redis - before.redis).toBe(0)
    expect(after.postgres - before.postgres).toBe(0)
  })

  it('keys issued before keys were signed keep working', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const legacy = await createKey({ models: [model], legacy: true })
    expect(legacy.raw).toMatch(/^lgw_[0-9A-Za-z]{40}$/)
    expect((await gatewayWith(probe(), '/v1/chat/completions', request(legacy.raw, model))).res.status).toBe(
      200,
    )
  })

  it('coalesces the after-response work of concurrent requests: one row each, fewer statements than requests', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model], rpmLimit: 1000, tpmLimit: 1_000_000, dailyBudget: '100' })
    expect((await gatewayWith(probe(), '/v1/chat/completions', request(key.raw, model))).res.status).toBe(200)

    const before = await counts()
    const n = 20
    const results = await Promise.all(
      Array.from({ length: n }, () => gatewayWith(probe(), '/v1/chat/completions', request(key.raw, model))),
    )
    expect(results.map((r) => r.res.status)).toEqual(Array(n).fill(200))
    const after = await counts()
    // Every request has its row, and the daily rollup counts each exactly once.
    expect(await countRows(key.id)).toBe(n + 1)
    const rollup = await testDb().execute(
      sql`SELECT sum(requests)::int AS requests FROM usage_daily WHERE api_key_id = ${key.id}`,
    )
    expect(rollup.rows[0]).toMatchObject({ requests: n + 1 })
    // Each request costs one Redis call before the upstream; the after-response work of requests
    // finishing together shares one Redis call and one Postgres statement.
    expect(after.postgres - before.postgres).toBeLessThan(n)
    expect(after.redis - before.redis).toBeLessThan(2 * n)
  })
})
