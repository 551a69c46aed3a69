import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { apiKeys } from '../../drizzle/schema'
import { sha256Hex } from '../../src/lib/ids'
import { admin, adminKey, auditOf, expectOpenAIError } from '../helpers/admin'
import { chatRequest, gateway, sdk, testDb, uid } from '../helpers/gateway'
import { createModel, createProvider, setup } from '../helpers/fixtures'

const UNKNOWN = '00000000-0000-4000-8000-000000000000'
const chat = (raw: string, model: string) => gateway('/v1/chat/completions', chatRequest(raw, model))
const models = (raw: string) => gateway('/v1/models', { headers: { authorization: `Bearer ${raw}` } })

describe('creating and reading API keys', () => {
  it('shows the raw key once at creation, stores only its hash, and the key works at once', async () => {
    const { model } = await setup()
    const created = await admin('POST', '/api-keys', {
      name: `k-${uid()}`,
      project_id: 'shop',
      allowed_models: [model],
    })
    expect(created.status).toBe(201)
    const key = created.body
    expect(key.raw_key).toMatch(/^lgw_[0-9A-Za-z]{51}$/)
    expect(key.key_prefix).toBe(key.raw_key.slice(0, 12))
    expect(key).not.toHaveProperty('key_hash')
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, key.id))
    expect(row!.keyHash).toBe(await sha256Hex(key.raw_key))
    const res = await models(key.raw_key)
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).data.map((m: any) => m.id)).toEqual([model])
  })

  it('applies defaults for omitted fields and echoes every field in snake_case', async () => {
    const name = `k-${uid()}`
    const { body } = await admin('POST', '/api-keys', { name })
    expect(body).toMatchObject({
      object: 'api_key',
      name,
      project_id: 'default',
      allowed_models: [],
      rpm_limit: null,
      tpm_limit: null,
      daily_budget: null,
      monthly_budget: null,
      status: 'active',
      expires_at: null,
      last_used_at: null,
    })
    expect(Date.parse(body.created_at)).toBeGreaterThan(0)
    expect(body.updated_at).toBe(body.created_at)
  })

  it('keeps budgets exact: decimal strings and numbers with up to 6 decimals come back as numbers', async () => {
    const key = await adminKey({
      daily_budget: '12.345678',
      monthly_budget: 0.1,
      rpm_limit: 0,
      tpm_limit: 1000,
    })
    expect(key).toMatchObject({ daily_budget: 12.345678, monthly_budget: 0.1, rpm_limit: 0, tpm_limit: 1000 })
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, key.id))
    expect(row!.dailyBudget).toBe('12.345678')
    expect(row!.monthlyBudget).toBe('0.100000')
  })

  it('never returns the hash or the raw key from get or list', async () => {
    const key = await adminKey()
    const one = await admin('GET', `/api-keys/${key.id}`)
    expect(one.status).toBe(200)
    expect(one.body.key_prefix).toBe(key.key_prefix)
    const list = await admin('GET', '/api-keys?limit=500')
    expect(list.body.object).toBe('list')
    expect(list.body.data.some((k: any) => k.id === key.id)).toBe(true)
    const hash = await sha256Hex(key.raw_key)
    for (const text of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
      expect(text).not.toContain(key.raw_key)
      expect(text).not.toContain(hash)
      expect(text).not.toContain('key_hash')
      expect(text).not.toContain('raw_key')
    }
  })

  it('lists keys newest first and pages through them with a cursor, without repeats', async () => {
    const ids = [(await adminKey()).id, (await adminKey()).id, (await adminKey()).id]
    const seen: any[] = []
    let cursor: string | null = null
    for (let i = 0; i < 100 && !ids.every((id) => seen.some((k) => k.id === id)); i++) {
      const page: any = await admin('GET', `/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.body.data.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.data)
      cursor = page.body.next_cursor
      if (!cursor) break
    }
    expect(seen.filter((k) => ids.includes(k.id)).map((k) => k.id)).toEqual([...ids].reverse())
    expect(new Set(seen.map((k) => k.id)).size).toBe(seen.length)
    const times = seen.map((k) => Date.parse(k.created_at))
    expect(times).toEqual([...times].sort((a, b) => b - a))
  })

  it('answers 404 not_found for unknown and malformed ids on get, patch and rotate', async () => {
    for (const id of [UNKNOWN, 'not-a-uuid', "1' OR '1'='1"]) {
      const path = `/api-keys/${encodeURIComponent(id)}`
      expectOpenAIError(await admin('GET', path), 404, 'not_found')
      expectOpenAIError(await admin('PATCH', path, { name: 'x' }), 404, 'not_found')
      expectOpenAIError(await admin('POST', `${path}/rotate`), 404, 'not_found')
    }
  })
})

describe('validating API key bodies', () => {
  const cases: [string, unknown, string | null][] = [
    ['a missing name', {}, 'name'],
    ['an empty name', { name: '  ' }, 'name'],
    ['a negative rpm_limit', { name: 'x', rpm_limit: -1 }, 'rpm_limit'],
    ['a fractional tpm_limit', { name: 'x', tpm_limit: 1.5 }, 'tpm_limit'],
    ['a budget with 7 decimals', { name: 'x', daily_budget: '0.1234567' }, 'daily_budget'],
    ['a negative budget', { name: 'x', monthly_budget: -1 }, 'monthly_budget'],
    ['a budget in exponent form', { name: 'x', monthly_budget: 1e-7 }, 'monthly_budget'],
    ['an unknown status', { name: 'x', status: 'paused' }, 'status'],
    ['an expires_at that is not a date-time', { name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
    ['allowed_models that is not a list', { name: 'x', allowed_models: 'gpt-4o' }, 'allowed_models'],
    ['an unknown field', { name: 'x', rpm: 5 }, 'rpm'],
    ['a secret field', { name: 'x', key_hash: 'abc' }, 'key_hash'],
  ]
  for (const [what, body, param] of cases) {
    it(`refuses a create body with ${what}, naming the field`, async () => {
      expectOpenAIError(await admin('POST', '/api-keys', body), 400, 'invalid_request_error', param)
    })
  }

  it('refuses a body that is not JSON, a non-JSON content type and an empty patch', async () => {
    expectOpenAIError(await admin('POST', '/api-keys', '{"name":'), 400, 'invalid_request_error')
    const res = await gateway('/admin/api-keys', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/plain' },
      body: 'name=x',
    })
    expect(res.status).toBe(400)
    const key = await adminKey()
    expectOpenAIError(await admin('PATCH', `/api-keys/${key.id}`, {}), 400, 'invalid_request_error')
    expectOpenAIError(
      await admin('PATCH', `/api-keys/${key.id}`, { rpm_limit: 'ten' }),
      400,
      'invalid_request_error',
      'rpm_limit',
    )
  })
})

describe('changing API keys', () => {
  it('applies any subset of fields and allows null to lift limits, budgets and expiry', async () => {
    const key = await adminKey({ rpm_limit: 5, daily_budget: 1, expires_at: '2099-01-01T00:00:00Z' })
    const patched = await admin('PATCH', `/api-keys/${key.id}`, {
      rpm_limit: null,
      daily_budget: null,
      expires_at: null,
      name: 'renamed',
    })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({
      id: key.id,
      name: 'renamed',
      rpm_limit: null,
      daily_budget: null,
      expires_at: null,
    })
    expect(patched.body.key_prefix).toBe(key.key_prefix)
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(key.created_at as string))
    expect((await admin('GET', `/api-keys/${key.id}`)).body).toEqual(patched.body)
  })

  it('disabling a key refuses its very next chat completion with 401, and enabling it lets it back in', async () => {
    const { model } = await setup()
    const key = await adminKey({ allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    expect((await admin('PATCH', `/api-keys/${key.id}`, { status: 'disabled' })).status).toBe(200)
    const refused = await chat(key.raw_key, model)
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as any).error.code).toBe('invalid_api_key')
    expect((await models(key.raw_key)).status).toBe(401)
    await admin('PATCH', `/api-keys/${key.id}`, { status: 'active' })
    expect((await chat(key.raw_key, model)).status).toBe(200)
  })

  it('narrowing allowed_models refuses the removed model on the next request with 403', async () => {
    const provider = await createProvider()
    const [kept, removed] = [await createModel([provider.id]), await createModel([provider.id])]
    const key = await adminKey({ allowed_models: [kept, removed] })
    expect((await chat(key.raw_key, removed)).status).toBe(200)
    await admin('PATCH', `/api-keys/${key.id}`, { allowed_models: [kept] })
    const refused = await chat(key.raw_key, removed)
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as any).error.code).toBe('model_not_allowed')
    expect((await chat(key.raw_key, kept)).status).toBe(200)
  })

  it('an expires_at in the past makes the key fail with 401 on the next request', async () => {
    const { model } = await setup()
    const key = await adminKey({ allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    await admin('PATCH', `/api-keys/${key.id}`, { expires_at: '2001-01-01T00:00:00Z' })
    expect((await chat(key.raw_key, model)).status).toBe(401)
  })

  it('rotation keeps the id, stops the old raw key at once and makes the new one work', async () => {
    const { model } = await setup()
    const key = await adminKey({ allowed_models: [model] })
    expect((await models(key.raw_key)).status).toBe(200)
    const rotated = await admin('POST', `/api-keys/${key.id}/rotate`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.id).toBe(key.id)
    expect(rotated.body.raw_key).toMatch(/^lgw_/)
    expect(rotated.body.raw_key).not.toBe(key.raw_key)
    expect(rotated.body.key_prefix).toBe(rotated.body.raw_key.slice(0, 12))
    const old = await models(key.raw_key)
    expect(old.status).toBe(401)
    expect(((await old.json()) as any).error.code).toBe('invalid_api_key')
    expect((await chat(key.raw_key, model)).status).toBe(401)
    expect((await models(rotated.body.raw_key)).status).toBe(200)
    const completion = await sdk(rotated.body.raw_key).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(completion.choices[0]?.message.content).toBeTruthy()
    expect(JSON.stringify((await admin('GET', `/api-keys/${key.id}`)).body)).not.toContain('raw_key')
  })

  it('records create, update and rotate in the audit log without the hash or any raw key', async () => {
    const key = await adminKey({ name: 'before' })
    await admin('PATCH', `/api-keys/${key.id}`, { name: 'after', rpm_limit: 7 })
    const rotated = await admin('POST', `/api-keys/${key.id}/rotate`)
    const entries = await auditOf(key.id)
    expect(entries.map((e) => e.action)).toEqual(['api_key.create', 'api_key.update', 'api_key.rotate'])
    expect(entries.every((e) => e.targetType === 'api_key' && /^[0-9a-f]{12}$/.test(e.actor))).toBe(true)
    const [create, update, rotate] = entries as any[]
    expect(create.before).toBeNull()
    expect(create.after).toMatchObject({ id: key.id, name: 'before' })
    expect(update.before).toMatchObject({ name: 'before', rpm_limit: null })
    expect(update.after).toMatchObject({ name: 'after', rpm_limit: 7 })
    expect(rotate.before.key_prefix).toBe(key.key_prefix)
    expect(rotate.after.key_prefix).toBe(rotated.body.key_prefix)
    const text = JSON.stringify(entries)
    for (const secret of [
      key.raw_key,
      rotated.body.raw_key,
      await sha256Hex(key.raw_key),
      await sha256Hex(rotated.body.raw_key),
    ]) {
      expect(text).not.toContain(secret)
    }
    expect(text).not.toContain('key_hash')
  })
})
