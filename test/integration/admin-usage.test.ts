import { eq } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { usageLogs } from '../../drizzle/schema'
import { admin, adminKey, expectOpenAIError } from '../helpers/admin'
import { eventually, gateway, sdk, testDb, uid } from '../helpers/gateway'
import { createModel, createProvider, countRows } from '../helpers/fixtures'

type Row = typeof usageLogs.$inferSelect
const SUMS = [
  'requests',
  'success',
  'failed',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'charge_usd',
  'cache_read_share',
] as const

// Exact sums of the raw rows, in the report's shape; cost as a 12-decimal string via integer pico-USD.
function expected(rows: Row[]) {
  const usd = (field: 'costUsd' | 'chargeUsd') => {
    const pico = rows.reduce((sum, r) => sum + BigInt(r[field].replace('.', '')), 0n)
    const text = pico.toString().padStart(13, '0')
    return `${text.slice(0, -12)}.${text.slice(-12)}`
  }
  const prompt = rows.reduce((s, r) => s + r.promptTokens, 0)
  const read = rows.reduce((s, r) => s + r.cacheReadTokens, 0)
  return {
    requests: rows.length,
    success: rows.filter((r) => r.status < 400).length,
    failed: rows.filter((r) => r.status >= 400).length,
    prompt_tokens: rows.reduce((s, r) => s + r.promptTokens, 0),
    completion_tokens: rows.reduce((s, r) => s + r.completionTokens, 0),
    total_tokens: rows.reduce((s, r) => s + r.totalTokens, 0),
    cache_read_tokens: rows.reduce((s, r) => s + r.cacheReadTokens, 0),
    cache_write_tokens: rows.reduce((s, r) => s + r.cacheWrite5mTokens + r.cacheWrite1hTokens, 0),
    reasoning_tokens: rows.reduce((s, r) => s + r.reasoningTokens, 0),
    cost_usd: usd('costUsd'),
    charge_usd: usd('chargeUsd'),
    cache_read_share: prompt > 0 ? Math.round((read / prompt) * 10_000) / 10_000 : null,
  }
}

const day = (r: Row) => new Date(r.createdAt).toISOString().slice(0, 10)
function groupBy(rows: Row[], key: (r: Row) => string): Map<string, Row[]> {
  const groups = new Map<string, Row[]>()
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row])
  return groups
}

describe('usage reports', () => {
  const project = `proj-${uid()}`
  let rows: Row[] = []
  let ids: { main: string; other: string }
  let models: { a: string; b: string; denied: string }
  let providerName = ''

  // Five requests in one project: three on model a (two keys), one on model b, one refused with 403.
  beforeAll(async () => {
    const provider = await createProvider()
    providerName = provider.name
    models = {
      a: await createModel([provider.id], { input: '0.15', output: '0.6' }),
      b: await createModel([provider.id], { input: '2.5', output: '10' }),
      denied: `denied-${uid()}`,
    }
    const main = await adminKey({ project_id: project, allowed_models: [models.a, models.b] })
    const other = await adminKey({ project_id: project, allowed_models: [models.a] })
    ids = { main: main.id, other: other.id }
    const ask = (raw: string, model: string) =>
      sdk(raw).chat.completions.create({ model, messages: [{ role: 'user', content: `hello ${uid()}` }] })
    await ask(main.raw_key, models.a)
    await ask(main.raw_key, models.a)
    await ask(main.raw_key, models.b)
    await ask(other.raw_key, models.a)
    await expect(ask(main.raw_key, models.denied)).rejects.toMatchObject({ status: 403 })
    await eventually(async () => {
      expect(await countRows(main.id)).toBe(4)
      expect(await countRows(other.id)).toBe(1)
    })
    rows = await testDb().select().from(usageLogs).where(eq(usageLogs.projectId, project))
  })

  const report = async (query: string) => {
    const reply = await admin('GET', `/usage?project_id=${project}&${query}`)
    expect(reply.status, JSON.stringify(reply.body)).toBe(200)
    return reply.body
  }

  it('groups by model with requests, success, failures, tokens and exact cost matching the usage rows', async () => {
    const body = await report('group_by=model')
    const want = [...groupBy(rows, (r) => r.model)].map(([model, group]) => ({ model, ...expected(group) }))
    expect(body.data).toEqual(want.sort((x, y) => x.model.localeCompare(y.model)))
    expect(body.data.find((g: any) => g.model === models.denied)).toMatchObject({
      requests: 1,
      success: 0,
      failed: 1,
      cost_usd: '0.000000000000',
    })
    expect(body.totals).toEqual(expected(rows))
    expect(body.totals).toMatchObject({ requests: 5, success: 4, failed: 1 })
    expect(body.totals.cost_usd).toMatch(/^\d+\.\d{12}$/)
    expect(Number(body.totals.cost_usd)).toBeGreaterThan(0)
  })

  it('groups by day (the default), api key, provider and project', async () => {
    const byDay = await report('')
    expect(byDay.group_by).toBe('day')
    expect(byDay.data).toEqual([...groupBy(rows, day)].map(([d, group]) => ({ day: d, ...expected(group) })))
    const byKey = await report('group_by=api_key')
    expect(byKey.data.map((g: any) => [g.api_key_id, g.requests]).sort()).toEqual(
      [
        [ids.main, 4],
        [ids.other, 1],
      ].sort(),
    )
    const byProvider = await report('group_by=provider')
    expect(byProvider.data).toEqual(
      [...groupBy(rows, (r) => r.provider ?? '')]
        .map(([p, group]) => ({ provider: p || null, ...expected(group) }))
        .sort((x, y) => (x.provider ?? '').localeCompare(y.provider ?? '')),
    )
    expect(byProvider.data.find((g: any) => g.provider === providerName).requests).toBe(4)
    const byProject = await report('group_by=project')
    expect(byProject.data).toEqual([{ project_id: project, ...expected(rows) }])
  })

  it('filters by api key, model and provider', async () => {
    expect((await report(`api_key_id=${ids.other}`)).totals).toEqual(
      expected(rows.filter((r) => r.apiKeyId === ids.other)),
    )
    expect((await report(`model=${models.b}`)).totals).toEqual(
      expected(rows.filter((r) => r.model === models.b)),
    )
    expect((await report(`provider=${providerName}`)).totals.requests).toBe(4)
    expect((await report(`model=nothing-${uid()}`)).data).toEqual([])
    const unfiltered = await admin('GET', `/usage?api_key_id=${ids.main}&group_by=project`)
    expect(unfiltered.body.data).toEqual([
      { project_id: project, ...expected(rows.filter((r) => r.apiKeyId === ids.main)) },
    ])
  })

  it('counts whole UTC days: to is exclusive, and date-times inside a day round out to that day', async () => {
    const today = day(rows[0]!)
    const onDay = rows.filter((r) => day(r) === today)
    const next = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
    const prev = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
    expect((await report(`from=${today}&to=${next}`)).totals.requests).toBe(onDay.length)
    expect((await report(`from=${prev}&to=${today}`)).totals.requests).toBe(
      rows.filter((r) => day(r) < today).length,
    )
    const rounded = await report(`from=${today}T00:00:01Z&to=${today}T00:00:02Z`)
    expect(rounded).toMatchObject({ from: today, to: next })
    expect(rounded.totals.requests).toBe(onDay.length)
    expect((await report(`from=${today}T12:00:00%2B02:00&to=${next}`)).from).toBe(today)
    expectOpenAIError(
      await admin('GET', `/usage?from=${today}&to=${today}`),
      400,
      'invalid_request_error',
      'to',
    )
  })

  it('exports the same rows as CSV with a header line, as an attachment', async () => {
    const res = await gateway(`/admin/usage?project_id=${project}&group_by=model&format=csv`, {
      headers: { authorization: 'Bearer test-admin-token' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="usage_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d_by-model\.csv"$/,
    )
    const lines = (await res.text()).trimEnd().split('\r\n')
    expect(lines[0]).toBe(`model,${SUMS.join(',')}`)
    const json = await report('group_by=model')
    expect(lines.slice(1)).toEqual(json.data.map((g: any) => [g.model, ...SUMS.map((s) => g[s])].join(',')))
  })

  it('refuses bad report parameters naming the parameter', async () => {
    expectOpenAIError(await admin('GET', '/usage?group_by=week'), 400, 'invalid_request_error', 'group_by')
    expectOpenAIError(await admin('GET', '/usage?format=xml'), 400, 'invalid_request_error', 'format')
    expectOpenAIError(await admin('GET', '/usage?from=yesterday'), 400, 'invalid_request_error', 'from')
    expectOpenAIError(await admin('GET', '/usage?to=2026-13-01'), 400, 'invalid_request_error', 'to')
    expectOpenAIError(await admin('GET', '/usage?api_key_id=abc'), 400, 'invalid_request_error', 'api_key_id')
  })

  it('lists raw usage rows newest first with filters and a cursor, for drill-down', async () => {
    const mine = rows.filter((r) => r.apiKeyId === ids.main).sort((x, y) => y.id - x.id)
    const seen: any[] = []
    let cursor: string | null = null
    do {
      const page: any = await admin(
        'GET',
        `/usage/logs?api_key_id=${ids.main}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(page.status).toBe(200)
      seen.push(...page.body.data)
      cursor = page.body.next_cursor
    } while (cursor)
    expect(seen.map((r) => r.id)).toEqual(mine.map((r) => r.id))
    expect(seen[0]).toMatchObject({ object: 'usage_log', api_key_id: ids.main, project_id: project })
    expect(seen.every((r) => /^\d+\.\d{12}$/.test(r.cost_usd))).toBe(true)
    expect(seen.find((r) => r.status === 403)).toMatchObject({
      model: models.denied,
      error_code: 'model_not_allowed',
      provider: null,
    })
    const byModel = await admin('GET', `/usage/logs?project_id=${project}&model=${models.b}`)
    expect(byModel.body.data.map((r: any) => r.id)).toEqual(
      rows.filter((r) => r.model === models.b).map((r) => r.id),
    )
    expectOpenAIError(await admin('GET', '/usage/logs?cursor=%%%'), 400, 'invalid_request_error', 'cursor')
  })
})

describe('usage CSV safety', () => {
  it('neutralizes client-chosen model names that a spreadsheet would run as formulas, and quotes commas', async () => {
    const project = `csv-${uid()}`
    const key = await adminKey({ project_id: project, allowed_models: ['*'] })
    const names = ['=HYPERLINK("http://evil.test","click")', '+1+1', 'plain,with,commas']
    for (const model of names) {
      await expect(
        sdk(key.raw_key).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 404 })
    }
    await eventually(async () => expect(await countRows(key.id)).toBe(3))
    const { body } = await admin('GET', `/usage?project_id=${project}&group_by=model&format=csv`)
    const cells = (body as string)
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((line) => line.slice(0, line.lastIndexOf(',1,0,1,')))
    expect(cells.sort()).toEqual(
      [`"'=HYPERLINK(""http://evil.test"",""click"")"`, "'+1+1", '"plain,with,commas"'].sort(),
    )
  })
})

describe('usage log ids', () => {
  it("keeps the client's X-Request-Id and records the gateway's own id beside it", async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const key = await adminKey({ allowed_models: [model] })
    const chosen = `client-chosen-${uid()}`
    const res = await gateway('/v1/chat/completions', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key.raw_key}`,
        'content-type': 'application/json',
        'x-request-id': chosen,
      },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.headers.get('x-request-id')).toBe(chosen)
    const [log] = await eventually(async () => {
      const page = await admin('GET', `/usage/logs?api_key_id=${key.id}`)
      expect(page.body.data).toHaveLength(1)
      return page.body.data
    })
    expect(log).toMatchObject({ request_id: chosen, price_model: model, tokens_method: null })
    expect(log.event_id).toMatch(/^[0-9a-f-]{36}$/)
  })
})
