import { describe, expect, it } from 'vitest'
import { dayTag, monthTag } from '../../src/lib/time'
import { keys } from '../../src/redis/keys'
import { admin, adminKey, auditOf, expectOpenAIError } from '../helpers/admin'
import { chatRequest, eventually, gateway, testRedis, uid } from '../helpers/gateway'
import { countRows, createModel, createProvider, usageRows } from '../helpers/fixtures'
import { runCron } from '../helpers/stores'

const chat = (raw: string, model: string) =>
  gateway('/v1/chat/completions', chatRequest(raw, model, { max_tokens: 5 }))

// Input tokens are free and each completion token costs $0.001: every request costs exactly $0.005.
async function pricedModel() {
  const provider = await createProvider()
  return createModel([provider.id], { input: '0', output: '1000' })
}

async function project(spec: Record<string, unknown> = {}) {
  const reply = await admin('POST', '/projects', { id: `team-${uid()}`, ...spec })
  expect(reply.status).toBe(201)
  return reply.body as { id: string } & Record<string, unknown>
}

async function refusal(res: Response) {
  return {
    status: res.status,
    scope: res.headers.get('x-nexusai-limit-scope'),
    error: ((await res.json()) as { error: { code: string; message: string } }).error,
  }
}

describe('projects admin API', () => {
  it("creates a key's unknown project without limits, lists it, and refuses a duplicate id", async () => {
    const id = `seedlike-${uid()}`
    await adminKey({ project_id: id })
    const listed = await admin('GET', '/projects')
    expect(listed.status).toBe(200)
    expect(listed.body.data.find((p: { id: string }) => p.id === id)).toMatchObject({
      object: 'project',
      id,
      name: id,
      status: 'active',
      rpm_limit: null,
      tpm_limit: null,
      daily_budget: null,
      monthly_budget: null,
    })
    expectOpenAIError(await admin('POST', '/projects', { id }), 409, 'conflict', 'id')
    // A second key under the same project leaves the project as it is.
    await admin('PATCH', `/projects/${id}`, { daily_budget: '3' })
    await adminKey({ project_id: id })
    expect((await admin('GET', `/projects/${id}`)).body).toMatchObject({ daily_budget: 3 })
  })

  it('creates, patches (audited) and reads a project; refuses bad bodies and unknown ids', async () => {
    const created = await project({ name: 'Shop team', rpm_limit: 10, monthly_budget: 12.5 })
    expect(created).toMatchObject({
      name: 'Shop team',
      rpm_limit: 10,
      monthly_budget: 12.5,
      daily_budget: null,
    })
    const patched = await admin('PATCH', `/projects/${created.id}`, { status: 'disabled', rpm_limit: null })
    expect(patched.body).toMatchObject({ status: 'disabled', rpm_limit: null, monthly_budget: 12.5 })
    const got = await admin('GET', `/projects/${created.id}`)
    expect(got.body).toMatchObject({ status: 'disabled', spend: { today_usd: expect.any(String) } })
    expect((await auditOf(created.id)).map((a) => a.action)).toEqual(['project.create', 'project.update'])
    expectOpenAIError(
      await admin('PATCH', `/projects/${created.id}`, { rpm: 1 }),
      400,
      'invalid_request_error',
      'rpm',
    )
    expectOpenAIError(await admin('PATCH', `/projects/${created.id}`, {}), 400, 'invalid_request_error')
    expectOpenAIError(await admin('POST', '/projects', { name: 'no id' }), 400, 'invalid_request_error', 'id')
    expectOpenAIError(await admin('PATCH', '/projects/nope-404', { name: 'x' }), 404, 'not_found')
    expectOpenAIError(await admin('GET', '/projects/nope-404'), 404, 'not_found')
  })
})

describe('project limits and budgets', () => {
  it('holds a project budget under concurrency across all its keys: total spend ≤ the budget', async () => {
    const model = await pricedModel()
    const team = await project({ daily_budget: '0.05' })
    const members = await Promise.all(
      Array.from({ length: 4 }, () => adminKey({ project_id: team.id, allowed_models: [model] })),
    )
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => chat(members[i % 4]!.raw_key, model).then(refusalOrOk)),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(10)
    const refused = results.filter((r) => r.status === 429)
    expect(refused).toHaveLength(30)
    expect(refused[0]).toMatchObject({ scope: 'project', error: { code: 'insufficient_quota' } })
    expect(refused[0]!.error!.message).toContain(`project '${team.id}'`)
    const rows = await eventually(async () => {
      const all = (await Promise.all(members.map((k) => usageRows(k.id)))).flat()
      expect(all).toHaveLength(40)
      return all
    })
    const spent = rows.reduce((sum, r) => sum + Number(r.costUsd), 0)
    expect(spent).toBeLessThanOrEqual(0.05 + 1e-12)
    expect(spent).toBeCloseTo(0.05, 9)
    const got = await admin('GET', `/projects/${team.id}`)
    expect(Number(got.body.spend.today_usd)).toBeCloseTo(0.05, 9)
  })

  it("says whether the key's or the project's limit refused a request", async () => {
    const model = await pricedModel()
    const team = await project({ rpm_limit: 3 })
    const a = await adminKey({ project_id: team.id, allowed_models: [model], rpm_limit: 1 })
    const b = await adminKey({ project_id: team.id, allowed_models: [model] })
    expect((await chat(a.raw_key, model)).status).toBe(200)
    const byKey = await refusal(await chat(a.raw_key, model))
    expect(byKey).toMatchObject({ status: 429, scope: 'key', error: { code: 'rate_limit_exceeded' } })
    expect(byKey.error.message).toContain('of this key:')
    // The key's refusal consumed nothing of the project: b gets the two requests left.
    expect((await chat(b.raw_key, model)).status).toBe(200)
    expect((await chat(b.raw_key, model)).status).toBe(200)
    const byProject = await refusal(await chat(b.raw_key, model))
    expect(byProject).toMatchObject({ status: 429, scope: 'project', error: { code: 'rate_limit_exceeded' } })
    expect(byProject.error.message).toContain(`project '${team.id}': limit 3`)
  })

  it('enforces a project TPM limit across keys', async () => {
    const model = await pricedModel()
    // Each request is estimated at 8 prompt + 5 completion tokens and settles at the mock's 4 + 5.
    const team = await project({ tpm_limit: 25 })
    const a = await adminKey({ project_id: team.id, allowed_models: [model] })
    const b = await adminKey({ project_id: team.id, allowed_models: [model] })
    expect((await chat(a.raw_key, model)).status).toBe(200)
    await eventually(async () => expect(await countRows(a.id)).toBe(1))
    // 9 settled + 13 estimated = 22 fits; then 18 + 13 does not.
    expect((await chat(b.raw_key, model)).status).toBe(200)
    await eventually(async () => expect(await countRows(b.id)).toBe(1))
    const refused = await refusal(await chat(a.raw_key, model))
    expect(refused).toMatchObject({ status: 429, scope: 'project' })
    expect(refused.error.message).toContain('tokens per minute')
  })

  it('a disabled project disables its keys at once, and re-enabling brings them back', async () => {
    const model = await pricedModel()
    const team = await project()
    const key = await adminKey({ project_id: team.id, allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    await admin('PATCH', `/projects/${team.id}`, { status: 'disabled' })
    const off = await refusal(await chat(key.raw_key, model))
    expect(off).toMatchObject({ status: 401, error: { code: 'invalid_api_key' } })
    await admin('PATCH', `/projects/${team.id}`, { status: 'enabled' })
    expect((await chat(key.raw_key, model)).status).toBe(200)
  })

  it("rebuilds a lost project counter from the usage rows of all the project's keys", async () => {
    const model = await pricedModel()
    const team = await project({ monthly_budget: '0.01' })
    const a = await adminKey({ project_id: team.id, allowed_models: [model] })
    const b = await adminKey({ project_id: team.id, allowed_models: [model] })
    expect((await chat(a.raw_key, model)).status).toBe(200)
    await eventually(async () => expect(await countRows(a.id)).toBe(1))
    await testRedis().del(
      keys.projectSpendDay(team.id, dayTag(Date.now())),
      keys.projectSpendMonth(team.id, monthTag(Date.now())),
    )
    expect((await chat(b.raw_key, model)).status).toBe(200)
    await eventually(async () => expect(await countRows(b.id)).toBe(1))
    expect((await refusal(await chat(a.raw_key, model))).scope).toBe('project')
  })

  it('the cron raises a project counter that fell below the usage rows', async () => {
    const model = await pricedModel()
    const team = await project({ daily_budget: '0.01' })
    const a = await adminKey({ project_id: team.id, allowed_models: [model] })
    expect((await chat(a.raw_key, model)).status).toBe(200)
    expect((await chat(a.raw_key, model)).status).toBe(200)
    await eventually(async () => expect(await countRows(a.id)).toBe(2))
    const day = keys.projectSpendDay(team.id, dayTag(Date.now()))
    await testRedis().set(day, '0')
    await runCron()
    expect(String(await testRedis().get(day))).toBe('10000000000')
    expect((await refusal(await chat(a.raw_key, model))).scope).toBe('project')
  })
})

async function refusalOrOk(res: Response) {
  if (res.status === 200) return { status: 200, scope: null, error: null as null | { message: string } }
  return refusal(res)
}
