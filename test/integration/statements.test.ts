import { describe, expect, it } from 'vitest'
import { usageLogs } from '../../drizzle/schema'
import { admin, adminKey, expectOpenAIError } from '../helpers/admin'
import { chatRequest, eventually, gateway, testDb, uid } from '../helpers/gateway'
import { createModel, createProvider, usageRows } from '../helpers/fixtures'

const chat = (raw: string, model: string, maxTokens = 5) =>
  gateway('/v1/chat/completions', chatRequest(raw, model, { max_tokens: maxTokens }))
const month = () => new Date().toISOString().slice(0, 7)

describe('project statements', () => {
  it('groups a month by model and provider with price versions, and its totals equal the usage rows', async () => {
    // p1's upstream reports 2 of each prompt's tokens as read from its prompt cache.
    const [p1, p2] = [await createProvider({ scenario: `ok+cached2~${uid()}` }), await createProvider()]
    const modelA = await createModel([p1.id], { input: '1', output: '2' })
    const modelB = await createModel([p2.id], { input: '0.5', output: '4' })
    const project = `bill-${uid()}`
    const k1 = await adminKey({ project_id: project, allowed_models: [modelA, modelB] })
    const k2 = await adminKey({ project_id: project, allowed_models: [modelA] })
    for (const [raw, model] of [
      [k1.raw_key, modelA],
      [k1.raw_key, modelB],
      [k2.raw_key, modelA],
    ] as const)
      expect((await chat(raw, model)).status).toBe(200)
    // A new price version for modelA: later requests are priced with it.
    expect(
      (await admin('PUT', `/prices/${modelA}`, { input_per_million: 3, output_per_million: 6 })).status,
    ).toBe(201)
    expect((await chat(k2.raw_key, modelA)).status).toBe(200)
    // A request for a model the key may not use leaves a row without provider or cost.
    expect((await chat(k2.raw_key, modelB)).status).toBe(403)
    const rows = await eventually(async () => {
      const all = [...(await usageRows(k1.id)), ...(await usageRows(k2.id))]
      expect(all).toHaveLength(5)
      return all
    })

    const { status, body } = await admin('GET', `/projects/${project}/statement?month=${month()}`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ object: 'statement', project_id: project, month: month() })
    const a = body.data.find((r: any) => r.model === modelA)
    expect(a).toMatchObject({ provider: p1.name, requests: 3, success: 3, failed: 0, cache_read_tokens: 6 })
    expect(a.input_tokens + a.cache_read_tokens + a.cache_write_tokens).toBe(a.prompt_tokens)
    expect(a.cache_read_share).toBe(Math.round((6 / a.prompt_tokens) * 10_000) / 10_000)
    expect(a.price_versions).toHaveLength(2)
    expect(a.price_versions[0]).toMatch(new RegExp(`^${modelA}@2020-01-01T00:00:00.000Z$`))
    expect(body.data.find((r: any) => r.model === modelB && r.provider === null)).toMatchObject({
      requests: 1,
      failed: 1,
      cost_usd: '0.000000000000',
      price_versions: [],
    })

    // Totals equal the rows, exactly (cost summed as integer pico-USD).
    const pico = (usd: string) => BigInt(usd.replace('.', '').replace(/^0+(?=\d)/, ''))
    const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0)
    expect(body.totals).toMatchObject({
      requests: 5,
      success: 4,
      failed: 1,
      prompt_tokens: sum((r) => r.promptTokens),
      completion_tokens: sum((r) => r.completionTokens),
      total_tokens: sum((r) => r.totalTokens),
    })
    expect(pico(body.totals.cost_usd)).toBe(rows.reduce((s, r) => s + pico(r.costUsd), 0n))
    expect(pico(body.totals.cost_usd)).toBe(body.data.reduce((s: bigint, r: any) => s + pico(r.cost_usd), 0n))
    // At price ratio 1 the charge is the cost and the margin nothing.
    expect(body.totals.charge_usd).toBe(body.totals.cost_usd)
    expect(pico(body.totals.margin_usd)).toBe(0n)

    const csv = await admin('GET', `/projects/${project}/statement?month=${month()}&format=csv`)
    expect(csv.res.headers.get('content-type')).toContain('text/csv')
    expect(csv.res.headers.get('content-disposition')).toContain(`statement_${project}_${month()}.csv`)
    const lines = (csv.body as string).trim().split('\r\n')
    expect(lines[0]).toBe(
      'model,provider,requests,success,failed,prompt_tokens,input_tokens,cache_read_tokens,cache_write_tokens,completion_tokens,total_tokens,cost_usd,charge_usd,margin_usd,price_versions',
    )
    expect(lines.at(-1)).toBe(
      `TOTAL,,5,4,1,${body.totals.prompt_tokens},${body.totals.input_tokens},${body.totals.cache_read_tokens},${body.totals.cache_write_tokens},${body.totals.completion_tokens},${body.totals.total_tokens},${body.totals.cost_usd},${body.totals.charge_usd},${body.totals.margin_usd},`,
    )
  })

  it('answers an empty month with zero totals, and refuses a bad month or an unknown project', async () => {
    const project = `quiet-${uid()}`
    await adminKey({ project_id: project })
    const { body } = await admin('GET', `/projects/${project}/statement?month=2021-02`)
    expect(body).toMatchObject({ data: [], totals: { requests: 0, cost_usd: '0.000000000000' } })
    expect(body.from).toBe('2021-02-01T00:00:00.000Z')
    expect(body.to).toBe('2021-03-01T00:00:00.000Z')
    expectOpenAIError(
      await admin('GET', `/projects/${project}/statement?month=2021-13`),
      400,
      'invalid_request_error',
      'month',
    )
    expectOpenAIError(await admin('GET', `/projects/nope-${uid()}/statement`), 404, 'not_found')
  })
})

describe('usage export', () => {
  // Rows straight into Postgres: an export larger than one page (1000 rows) without 2500 requests.
  async function seedRows(project: string, apiKeyId: string, n: number, at: Date) {
    const rows = Array.from({ length: n }, (_, i) => ({
      eventId: crypto.randomUUID(),
      requestId: `req-${i}`,
      apiKeyId,
      projectId: project,
      route: 'chat',
      model: i % 2 ? 'm-odd' : '=m-even',
      provider: 'p',
      status: 200,
      promptTokens: i,
      completionTokens: 1,
      totalTokens: i + 1,
      costUsd: '0.000001000001',
      latencyMs: 5,
      createdAt: new Date(at.getTime() + i),
    }))
    for (let i = 0; i < rows.length; i += 500)
      await testDb()
        .insert(usageLogs)
        .values(rows.slice(i, i + 500))
  }

  it('streams more than one page as NDJSON, in order, each row once, filtered by project and time', async () => {
    const project = `exp-${uid()}`
    const keyId = crypto.randomUUID()
    await seedRows(project, keyId, 2345, new Date('2024-03-10T00:00:00Z'))
    await seedRows(project, keyId, 3, new Date('2024-04-10T00:00:00Z'))
    await seedRows(`other-${uid()}`, keyId, 3, new Date('2024-03-10T00:00:00Z'))
    const res = await gateway(
      `/admin/usage/logs/export?format=ndjson&project_id=${project}&from=2024-03-01&to=2024-04-01`,
      { headers: { authorization: 'Bearer test-admin-token' } },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/x-ndjson')
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toHaveLength(2345)
    expect(new Set(lines.map((l) => l.id)).size).toBe(2345)
    expect(lines.map((l) => l.prompt_tokens)).toEqual(Array.from({ length: 2345 }, (_, i) => i))
    expect(lines[0]).toMatchObject({ project_id: project, api_key_id: keyId, cost_usd: '0.000001000001' })
  })

  it('streams CSV with a header, formula-safe cells, filtered by key', async () => {
    const project = `expcsv-${uid()}`
    const keyId = crypto.randomUUID()
    await seedRows(project, keyId, 1001, new Date('2024-05-10T00:00:00Z'))
    await seedRows(project, crypto.randomUUID(), 5, new Date('2024-05-10T00:00:00Z'))
    const reply = await admin('GET', `/usage/logs/export?api_key_id=${keyId}&from=2024-05-01&to=2024-06-01`)
    expect(reply.status).toBe(200)
    expect(reply.res.headers.get('content-disposition')).toContain('usage_2024-05-01_2024-06-01.csv')
    const lines = (reply.body as string).trim().split('\r\n')
    expect(lines[0]!.startsWith('id,created_at,request_id,api_key_id,project_id,route,model,')).toBe(true)
    expect(lines).toHaveLength(1 + 1001)
    expect(lines[1]).toContain(",'=m-even,")
  })

  it('refuses bad filters with a 400 naming them', async () => {
    expectOpenAIError(
      await admin('GET', '/usage/logs/export?format=xml'),
      400,
      'invalid_request_error',
      'format',
    )
    expectOpenAIError(
      await admin('GET', '/usage/logs/export?api_key_id=nope'),
      400,
      'invalid_request_error',
      'api_key_id',
    )
    expectOpenAIError(
      await admin('GET', '/usage/logs/export?from=2024-02-01&to=2024-01-01'),
      400,
      'invalid_request_error',
      'to',
    )
  })
})
