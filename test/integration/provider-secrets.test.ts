import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { providerKeys } from '../../drizzle/schema'
import { admin, auditOf, expectOpenAIError } from '../helpers/admin'
import { createKey, createModel } from '../helpers/fixtures'
import {
  ADMIN_TOKEN,
  chatRequest,
  eventually,
  gateway,
  gatewayWith,
  mockRequests,
  mockUrl,
  testDb,
  uid,
  UPSTREAM_KEY,
} from '../helpers/gateway'
import {
  NEXT_SECRETS_KEY,
  pooledProvider,
  postgresText,
  redisText,
  SECRETS_KEY,
  upstreamKey,
} from '../helpers/secrets'
import { captureLogs } from '../helpers/stores'

// Everything that stores provider keys lives in this one file: a rotation re-seals every stored key, so
// no other file may hold stored keys while it runs.

async function adminWith(overrides: Record<string, string>, method: string, path: string, body?: unknown) {
  const { res, body: text } = await gatewayWith(overrides, `/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: text ? JSON.parse(text) : null, res }
}

const storedKeysOf = async (providerId: string, overrides: Record<string, string> = {}) => {
  const list = await adminWith(overrides, 'GET', '/providers')
  return list.body.data.find((p: { id: string }) => p.id === providerId)
}

// Calls `model` with a fresh virtual key `n` times; returns the statuses.
async function callTimes(model: string, n: number, overrides: Record<string, string> = {}) {
  const key = await createKey({ models: [model] })
  const statuses: number[] = []
  for (let i = 0; i < n; i++)
    statuses.push(
      (await gatewayWith(overrides, '/v1/chat/completions', chatRequest(key.raw, model))).res.status,
    )
  return statuses
}

const keysSeen = async (scenario: string) => (await mockRequests(scenario)).map((r) => r.authorization)

describe('stored provider keys through the admin API', () => {
  it('stores a write-only key and shows only its hint, state and source', async () => {
    const secret = upstreamKey()
    const created = await admin('POST', '/providers', {
      name: `p-${uid()}`,
      base_url: 'https://example.test/v1',
      api_key: secret,
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ has_api_key: true, api_key_source: 'stored' })
    expect(created.body.stored_keys).toEqual([
      {
        id: expect.any(String),
        object: 'provider_key',
        hint: secret.slice(-4),
        state: 'active',
        last_used_at: null,
        created_at: expect.any(String),
      },
    ])
    const list = await admin('GET', '/providers')
    const audit = await auditOf(created.body.id)
    expect(audit.map((a) => a.action)).toEqual(['provider.create', 'provider.api_key_added'])
    expect(audit[1]?.after).toEqual({ key_id: created.body.stored_keys[0].id, hint: secret.slice(-4) })
    // The provider's own entry leaves the key source to the key entries.
    expect(audit[0]?.after).not.toHaveProperty('stored_keys')
    expect(JSON.stringify([created.body, list.body, audit])).not.toContain(secret)
  })

  it('adds, disables and removes keys one by one, auditing each with its hint', async () => {
    const [a, b] = [upstreamKey(), upstreamKey()]
    const provider = await pooledProvider('default', [a])
    const added = await admin('POST', `/providers/${provider.id}/keys`, { api_key: b })
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ hint: b.slice(-4), state: 'active' })
    const disabled = await admin('PATCH', `/providers/${provider.id}/keys/${added.body.id}`, {
      state: 'disabled',
    })
    expect(disabled.body).toMatchObject({ id: added.body.id, state: 'disabled' })
    const first = provider.stored_keys[0]!.id
    expect((await admin('DELETE', `/providers/${provider.id}/keys/${first}`)).status).toBe(204)
    expect((await admin('DELETE', `/providers/${provider.id}/keys/${first}`)).status).toBe(404)
    const now = await storedKeysOf(provider.id)
    expect(now.stored_keys.map((k: { hint: string; state: string }) => [k.hint, k.state])).toEqual([
      [b.slice(-4), 'disabled'],
    ])
    // The only stored key is disabled and there is no api_key_ref: routing has no key.
    expect(now).toMatchObject({ has_api_key: false, api_key_source: 'none' })
    const actions = (await auditOf(provider.id)).map((e) => [e.action, e.after ?? e.before])
    expect(actions).toContainEqual(['provider.api_key_added', { key_id: added.body.id, hint: b.slice(-4) }])
    expect(actions).toContainEqual(['provider.api_key_removed', { key_id: first, hint: a.slice(-4) }])
    expect(JSON.stringify(await auditOf(provider.id))).not.toContain(a)
  })

  it('PATCH api_keys replaces the pool and api_key: null empties it', async () => {
    const provider = await pooledProvider('default', [upstreamKey()])
    const next = [upstreamKey(), upstreamKey()]
    const patched = await admin('PATCH', `/providers/${provider.id}`, { api_keys: next })
    expect(patched.body.stored_keys.map((k: { hint: string }) => k.hint).sort()).toEqual(
      next.map((k) => k.slice(-4)).sort(),
    )
    const emptied = await admin('PATCH', `/providers/${provider.id}`, { api_key: null })
    expect(emptied.body).toMatchObject({ stored_keys: [], api_key_source: 'none' })
    const both = await admin('PATCH', `/providers/${provider.id}`, { api_key: 'a', api_keys: ['b'] })
    expectOpenAIError(both, 400, 'invalid_request_error', 'api_keys')
  })

  it('refuses to store a key without a usable SECRETS_KEY, saying what to set', async () => {
    const body = { name: `p-${uid()}`, base_url: 'https://example.test/v1', api_key: upstreamKey() }
    const unset = await adminWith({ SECRETS_KEY: '' }, 'POST', '/providers', body)
    expectOpenAIError(unset, 400, 'invalid_request_error', 'api_key')
    expect(unset.body.error.message).toContain('SECRETS_KEY is not set')
    expect(unset.body.error.message).toContain('wrangler secret put SECRETS_KEY')
    const malformed = await adminWith({ SECRETS_KEY: 'c2hvcnQ=' }, 'POST', '/providers', body)
    expectOpenAIError(malformed, 400, 'invalid_request_error', 'api_key')
    expect(malformed.body.error.message).toContain('SECRETS_KEY must decode to 32 bytes')
    // Nothing was written by either attempt.
    expect((await admin('GET', '/providers')).body.data.map((p: { name: string }) => p.name)).not.toContain(
      body.name,
    )
  })

  it('/healthz?deep=1 fails with the reason when SECRETS_KEY is malformed', async () => {
    const { res, body } = await gatewayWith({ SECRETS_KEY: 'not base64!' }, '/healthz?deep=1')
    expect(res.status).toBe(503)
    expect(JSON.parse(body)).toMatchObject({
      status: 'degraded',
      secrets: { ok: false, error: expect.stringContaining('SECRETS_KEY is not valid base64') },
    })
    const healthy = await gateway('/healthz?deep=1')
    expect(await healthy.json()).toMatchObject({ status: 'ok', secrets: { ok: true } })
  })

  it('a well-formed wrong SECRETS_KEY: the provider is never called without its key, and health says why', async () => {
    // Shaped like no provider key, so only "the key we stored" identifies it.
    const secret = `Zq~${uid()}.unusual/shape+${uid()}`
    const scenario = `ok~${uid()}`
    const provider = await pooledProvider(scenario, [secret])
    const model = await createModel([provider.id])
    const wrong = { SECRETS_KEY: NEXT_SECRETS_KEY }
    const refused = await callTimes(model, 2, wrong)
    expect(refused.every((status) => status >= 500)).toBe(true)
    expect(await mockRequests(scenario)).toEqual([])
    // Visible: the key is unreadable and the provider has none to send.
    expect(await storedKeysOf(provider.id, wrong)).toMatchObject({
      has_api_key: false,
      stored_keys: [{ state: 'unreadable' }],
    })
    const { res, body } = await gatewayWith(wrong, '/healthz?deep=1')
    expect(res.status).toBe(503)
    const report = JSON.parse(body)
    expect(report).toMatchObject({ status: 'degraded', secrets: { ok: false } })
    expect(report.secrets.unreadable_keys).toBeGreaterThanOrEqual(1)
    expect(report.secrets.provider_ids).toContain(provider.id)
    expect(body).not.toContain(secret)
    // With the right key it is called, with that key.
    expect(await callTimes(model, 1)).toEqual([200])
    expect(await keysSeen(scenario)).toEqual([`Bearer ${secret}`])
  })
})

describe('at rest', () => {
  it('neither Postgres nor Redis holds a stored key in plaintext, even after it served requests', async () => {
    const secrets = [upstreamKey(), upstreamKey()]
    const scenario = `ok~${uid()}`
    const provider = await pooledProvider(scenario, secrets)
    const model = await createModel([provider.id])
    expect(await callTimes(model, 2)).toEqual([200, 200])
    expect((await keysSeen(scenario)).sort()).toEqual(secrets.map((s) => `Bearer ${s}`).sort())
    await eventually(async () => {
      const keys = (await storedKeysOf(provider.id)).stored_keys
      expect(keys.every((k: { last_used_at: string | null }) => k.last_used_at !== null)).toBe(true)
    })
    const [pg, redis] = await Promise.all([postgresText(), redisText()])
    expect(pg).toContain(provider.id) // the scan does see our rows
    for (const secret of secrets) {
      expect(pg).not.toContain(secret)
      expect(redis).not.toContain(secret)
    }
  })

  it('a ciphertext copied onto another provider does not open there (the provider id is bound)', async () => {
    const [a, b] = [
      await pooledProvider('default', [upstreamKey()]),
      await pooledProvider('default', [upstreamKey()]),
    ]
    const db = testDb()
    const [source] = await db.select().from(providerKeys).where(eq(providerKeys.providerId, a.id))
    await db
      .update(providerKeys)
      .set({ ciphertext: source!.ciphertext, kekVersion: source!.kekVersion })
      .where(eq(providerKeys.providerId, b.id))
    expect((await storedKeysOf(a.id)).stored_keys[0].state).toBe('active')
    expect((await storedKeysOf(b.id)).stored_keys[0].state).toBe('unreadable')
    expect((await storedKeysOf(b.id)).api_key_source).toBe('none')
    // An active key nothing opens fails /healthz?deep=1 for every test file: this one is retired.
    const keyId = (await storedKeysOf(b.id)).stored_keys[0].id
    expect((await admin('PATCH', `/providers/${b.id}/keys/${keyId}`, { state: 'disabled' })).status).toBe(200)
  })
})

describe('rotation', () => {
  it('re-seals under the new SECRETS_KEY with the previous one configured, then needs only the new one', async () => {
    const secret = upstreamKey()
    const scenario = `ok~${uid()}`
    const provider = await pooledProvider(scenario, [secret])
    await admin('PATCH', `/providers/${provider.id}`, { api_key_ref: 'PROVIDER_TESTS_API_KEY' })
    const model = await createModel([provider.id])
    const rotating = { SECRETS_KEY: NEXT_SECRETS_KEY, SECRETS_KEY_PREVIOUS: SECRETS_KEY }
    const next = { SECRETS_KEY: NEXT_SECRETS_KEY }
    try {
      // Before the rotation the new key alone cannot open it: reported unreadable, skipped, never a 500.
      expect((await storedKeysOf(provider.id, next)).stored_keys[0].state).toBe('unreadable')
      const rotated = await adminWith(rotating, 'POST', '/secrets/rotate')
      expect(rotated.status).toBe(200)
      expect(rotated.body.resealed).toBeGreaterThanOrEqual(1)
      expect((await storedKeysOf(provider.id, next)).stored_keys[0].state).toBe('active')
      expect(await callTimes(model, 1, next)).toEqual([200])
      expect(await keysSeen(scenario)).toEqual([`Bearer ${secret}`])
      // The old key alone (a deploy that lost the rotation) opens nothing: the key is skipped and
      // routing falls back to api_key_ref.
      expect((await storedKeysOf(provider.id)).stored_keys[0].state).toBe('unreadable')
      expect(await callTimes(model, 1)).toEqual([200])
      expect((await keysSeen(scenario))[1]).toBe(`Bearer ${UPSTREAM_KEY}`)
      const again = await adminWith(rotating, 'POST', '/secrets/rotate')
      expect(again.body).toMatchObject({ resealed: 0, kek_version: rotated.body.kek_version })
    } finally {
      // Back to the suite's key, with the rotated one as previous.
      await adminWith({ SECRETS_KEY, SECRETS_KEY_PREVIOUS: NEXT_SECRETS_KEY }, 'POST', '/secrets/rotate')
    }
    expect((await storedKeysOf(provider.id)).stored_keys[0].state).toBe('active')
    const audit = await admin('GET', '/audit?limit=50')
    expect(audit.body.data.map((e: { action: string }) => e.action)).toContain('secrets.rotate')
  })

  it('refuses to rotate without SECRETS_KEY', async () => {
    expectOpenAIError(
      await adminWith({ SECRETS_KEY: '' }, 'POST', '/secrets/rotate'),
      400,
      'invalid_request_error',
    )
  })
})

describe('pools on the hot path', () => {
  it('precedence: PROVIDER_<NAME>_API_KEY, then stored keys, then api_key_ref', async () => {
    const secret = upstreamKey()
    const scenario = `ok~${uid()}`
    const provider = await pooledProvider(scenario, [secret])
    await admin('PATCH', `/providers/${provider.id}`, { api_key_ref: 'PROVIDER_TESTS_API_KEY' })
    const model = await createModel([provider.id])
    const envName = `PROVIDER_${provider.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`
    await callTimes(model, 1)
    await callTimes(model, 1, { [envName]: 'sk-from-env-override' })
    expect(await keysSeen(scenario)).toEqual([`Bearer ${secret}`, 'Bearer sk-from-env-override'])
    expect((await storedKeysOf(provider.id, { [envName]: 'x' })).api_key_source).toBe('env')
  })

  it('spreads requests across the active keys', async () => {
    const secrets = [upstreamKey(), upstreamKey(), upstreamKey()]
    const scenario = `ok~${uid()}`
    const provider = await pooledProvider(scenario, secrets)
    const model = await createModel([provider.id])
    expect(await callTimes(model, 9)).toEqual(Array(9).fill(200))
    const seen = await keysSeen(scenario)
    for (const secret of secrets)
      expect(seen.filter((a) => a === `Bearer ${secret}`).length).toBeGreaterThan(0)
  })

  it('a key the upstream answers 401 for is marked invalid and the next request uses another', async () => {
    const [good, bad] = [upstreamKey('GOODKEY'), upstreamKey('REVOKED')]
    const scenario = `denyREVOKED~${uid()}`
    const provider = await pooledProvider(scenario, [good, bad])
    const model = await createModel([provider.id])
    // Two requests take both keys in turn: the refused one is swapped for the good one at once.
    expect(await callTimes(model, 2)).toEqual([200, 200])
    expect(await keysSeen(scenario)).toContain(`Bearer ${bad}`)
    const badId = provider.stored_keys.find((k) => k.hint === 'OKED')!.id
    await eventually(async () => {
      const keys = (await storedKeysOf(provider.id)).stored_keys
      expect(keys.find((k: { id: string }) => k.id === badId).state).toBe('invalid')
    })
    const before = (await keysSeen(scenario)).length
    expect(await callTimes(model, 3)).toEqual([200, 200, 200])
    expect((await keysSeen(scenario)).slice(before)).toEqual(Array(3).fill(`Bearer ${good}`))
    // The key was at fault, not the provider: its breaker counted nothing.
    expect((await storedKeysOf(provider.id)).health).toMatchObject({ state: 'closed', failures: 0 })
    const invalidated = (await auditOf(provider.id)).find((e) => e.action === 'provider.api_key_invalid')
    expect(invalidated).toMatchObject({
      actor: 'gateway',
      after: { key_id: badId, hint: 'OKED', status: 401 },
    })
    // An operator can put it back.
    const back = await admin('PATCH', `/providers/${provider.id}/keys/${badId}`, { state: 'active' })
    expect(back.body.state).toBe('active')
  })

  it('a 403 that does not blame the key (a moderation or region refusal) leaves the pool alone', async () => {
    const [a, b] = [upstreamKey('MODA'), upstreamKey('MODB')]
    const scenario = `status403~${uid()}`
    const provider = await pooledProvider(scenario, [a, b])
    const model = await createModel([provider.id])
    expect(await callTimes(model, 2)).toEqual([502, 502])
    // One upstream call per request: a refusal of the request is not a reason to walk the pool.
    expect(await keysSeen(scenario)).toHaveLength(2)
    await new Promise((r) => setTimeout(r, 300)) // key events are written after the response
    const listed = await storedKeysOf(provider.id)
    expect(listed.stored_keys.map((k: { state: string }) => k.state)).toEqual(['active', 'active'])
  })

  it('a 429 with Retry-After cools that key alone', async () => {
    const [a, limited, c] = [upstreamKey('KEYA'), upstreamKey('LIMITED'), upstreamKey('KEYC')]
    const scenario = `limitLIMITED+retryafter60000~${uid()}`
    const provider = await pooledProvider(scenario, [a, limited, c])
    const model = await createModel([provider.id])
    expect(await callTimes(model, 3)).toEqual([200, 200, 200])
    expect(await keysSeen(scenario)).toContain(`Bearer ${limited}`)
    const before = (await keysSeen(scenario)).length
    expect(await callTimes(model, 6)).toEqual(Array(6).fill(200))
    const later = (await keysSeen(scenario)).slice(before)
    expect(later).not.toContain(`Bearer ${limited}`)
    expect(later).toContain(`Bearer ${a}`)
    expect(later).toContain(`Bearer ${c}`)
    // Cooling is not invalid: the key stays active, and the provider itself is neither cooled nor faulted.
    const listed = await storedKeysOf(provider.id)
    expect(listed.stored_keys.map((k: { state: string }) => k.state)).toEqual(['active', 'active', 'active'])
    expect(listed.health).toMatchObject({ state: 'closed', failures: 0, retry_at: null })
  })
})

describe('leaks', () => {
  it('no response, log line, metric or audit entry carries a stored key, even when upstreams echo it', async () => {
    const echoed = upstreamKey()
    const refused = upstreamKey('LEAKDENY')
    const leaking = await pooledProvider(`secretleak~${uid()}`, [echoed])
    const denying = await pooledProvider(`denyLEAKDENY~${uid()}`, [refused])
    const model = await createModel([leaking.id, denying.id])
    const key = await createKey({ models: [model] })
    const { result, lines } = await captureLogs(async () => {
      const bodies: string[] = []
      for (let i = 0; i < 2; i++) {
        const { res, body } = await gatewayWith({}, '/v1/chat/completions', chatRequest(key.raw, model))
        bodies.push(String(res.status), JSON.stringify([...res.headers]), body)
      }
      bodies.push(JSON.stringify((await admin('GET', '/providers')).body))
      bodies.push(JSON.stringify((await admin('GET', '/audit?limit=100')).body))
      bodies.push(await (await gateway('/metrics')).text())
      bodies.push(await (await gateway('/healthz?deep=1')).text())
      return bodies.join('\n')
    })
    expect(result).toContain('502')
    const everything = `${result}\n${lines.join('\n')}`
    expect(everything).toContain('provider key refused')
    for (const secret of [echoed, refused]) expect(everything).not.toContain(secret)
    expect(mockUrl()).toBeTruthy()
  })
})
