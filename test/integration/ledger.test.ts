import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { usageLogs } from '../../drizzle/schema'
import { createUsagePartition, dropUsageBefore, usagePartitionMonths } from '../../src/db/usage-partitions'
import { admin, adminKey } from '../helpers/admin'
import { chatRequest, eventually, gateway, testDb, uid } from '../helpers/gateway'
import { createModel, createProvider, usageRows } from '../helpers/fixtures'

const chat = (raw: string, model: string) =>
  gateway('/v1/chat/completions', chatRequest(raw, model, { max_tokens: 5 }))
const month = () => new Date().toISOString().slice(0, 7)

// Rows written straight into the ledger: `n` of them at the same instant, so only the id orders them.
async function seedTies(
  project: string,
  apiKeyId: string,
  n: number,
  at: Date,
  status = (_i: number) => 200,
) {
  const rows = Array.from({ length: n }, (_, i) => ({
    eventId: crypto.randomUUID(),
    requestId: `req-${project}-${i}`,
    apiKeyId,
    projectId: project,
    route: 'chat',
    model: 'm',
    provider: 'p',
    status: status(i),
    promptTokens: i,
    completionTokens: 1,
    totalTokens: i + 1,
    costUsd: '0.000000000001',
    latencyMs: 5,
    createdAt: at,
  }))
  for (let i = 0; i < rows.length; i += 500)
    await testDb()
      .insert(usageLogs)
      .values(rows.slice(i, i + 500))
}

async function allPages(path: string) {
  const seen: any[] = []
  let cursor: string | null = null
  do {
    const page: any = await admin('GET', `${path}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(page.status, JSON.stringify(page.body)).toBe(200)
    seen.push(...page.body.data)
    cursor = page.body.next_cursor
  } while (cursor)
  return seen
}

describe('the request log and the export page by (created_at, id)', () => {
  it('walks rows that share one instant across pages, each once, newest first', async () => {
    const project = `ties-${uid()}`
    const keyId = crypto.randomUUID()
    await seedTies(project, keyId, 7, new Date('2024-07-01T10:00:00.123Z'))
    await seedTies(project, keyId, 2, new Date('2024-07-01T10:00:00.124Z'))
    const seen = await allPages(`/usage/logs?project_id=${project}&from=2024-07-01&to=2024-07-02&limit=2`)
    expect(seen).toHaveLength(9)
    expect(seen.slice(0, 2).every((r) => r.created_at === '2024-07-01T10:00:00.124Z')).toBe(true)
    const ids = seen.map((r) => r.id)
    expect(new Set(ids).size).toBe(9)
    expect(ids.slice(2)).toEqual([...ids.slice(2)].sort((a, b) => b - a))
  })

  it('exports rows that share one instant across pages, each once, oldest first', async () => {
    const project = `xties-${uid()}`
    const keyId = crypto.randomUUID()
    await seedTies(project, keyId, 1500, new Date('2024-08-02T00:00:00Z'))
    const res = await gateway(
      `/admin/usage/logs/export?format=ndjson&project_id=${project}&from=2024-08-01&to=2024-09-01`,
      { headers: { authorization: 'Bearer test-admin-token' } },
    )
    expect(res.status).toBe(200)
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toHaveLength(1500)
    expect(lines.map((l) => l.prompt_tokens)).toEqual(Array.from({ length: 1500 }, (_, i) => i))
  })

  it('exports each row exactly as the request log serializes it (fields, order, values)', async () => {
    const project = `same-${uid()}`
    await seedTies(
      project,
      crypto.randomUUID(),
      3,
      new Date('2024-10-05T01:02:03.456Z'),
      (i) => [200, 429, 502][i]!,
    )
    const window = `project_id=${project}&from=2024-10-01&to=2024-11-01`
    const res = await gateway(`/admin/usage/logs/export?format=ndjson&${window}`, {
      headers: { authorization: 'Bearer test-admin-token' },
    })
    const exported = (await res.text()).trim().split('\n')
    const logged = (await allPages(`/usage/logs?${window}`)).reverse()
    expect(exported).toEqual(logged.map(({ object: _object, ...fields }) => JSON.stringify(fields)))
  })

  it('filters the request log by request id and by error status', async () => {
    const project = `filt-${uid()}`
    const keyId = crypto.randomUUID()
    await seedTies(project, keyId, 6, new Date('2024-09-03T00:00:00Z'), (i) => (i % 3 === 0 ? 429 : 200))
    const q = `/usage/logs?project_id=${project}&from=2024-09-01&to=2024-10-01&limit=1`
    const errors = await allPages(`${q}&status=error`)
    expect(errors.map((r) => r.prompt_tokens).sort()).toEqual([0, 3])
    expect((await allPages(`${q}&status=429`)).map((r) => r.status)).toEqual([429, 429])
    expect(await allPages(`${q}&status=ok`)).toHaveLength(4)
    const one = await allPages(`/usage/logs?request_id=req-${project}-4&from=2024-09-01&to=2024-10-01`)
    expect(one.map((r) => r.prompt_tokens)).toEqual([4])
  })
})

describe('the daily rollup', () => {
  it('keeps a key moved to another project mid-day under each project for its own requests, charge = cost', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id], { input: '1', output: '2' })
    const [before, after] = [`move-a-${uid()}`, `move-b-${uid()}`]
    const key = await adminKey({ project_id: before, allowed_models: [model] })
    expect((await chat(key.raw_key, model)).status).toBe(200)
    await eventually(async () => expect(await usageRows(key.id)).toHaveLength(1))
    expect((await admin('PATCH', `/api-keys/${key.id}`, { project_id: after })).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await chat(key.raw_key, model)).status).toBe(200)
    const rows = await eventually(async () => {
      const all = await usageRows(key.id)
      expect(all).toHaveLength(4)
      return all
    })
    // Each row carries the project the key had when it was served (the first request after the PATCH
    // may still see the old one); the rollup follows the rows.
    expect(new Set(rows.map((r) => r.projectId))).toEqual(new Set([before, after]))
    for (const project of [before, after]) {
      const mine = rows.filter((r) => r.projectId === project)
      const cost = mine.reduce((s, r) => s + BigInt(r.costUsd.replace('.', '')), 0n)
      const statement = await admin('GET', `/projects/${project}/statement?month=${month()}`)
      expect(statement.body.totals.requests).toBe(mine.length)
      expect(BigInt(statement.body.totals.cost_usd.replace('.', ''))).toBe(cost)
      const report = await admin('GET', `/usage?project_id=${project}&group_by=api_key`)
      expect(report.body.data).toMatchObject([{ api_key_id: key.id, requests: mine.length }])
      // Without the key dimension the report reads the project rollup: the same sums.
      const byModel = await admin('GET', `/usage?project_id=${project}&group_by=model`)
      expect(byModel.body.totals).toEqual(report.body.totals)
    }
    expect(rows.every((r) => r.chargeUsd === r.costUsd)).toBe(true)
    const { rows: rollup } = await testDb().execute<{ cost: string; charge: string }>(
      sql`SELECT sum(cost_usd)::text AS cost, sum(charge_usd)::text AS charge FROM usage_daily WHERE api_key_id = ${key.id}`,
    )
    expect(rollup[0]!.charge).toBe(rollup[0]!.cost)
  })
})

describe('usage partitions', () => {
  // Months of 1990: no other test writes there, so dropping them touches nobody's rows.
  it('creates a month taking its rows out of the default partition, and drops whole months with their rollup', async () => {
    const db = testDb()
    const keyId = crypto.randomUUID()
    const project = `ret-${uid()}`
    await seedTies(project, keyId, 3, new Date('1990-01-15T00:00:00Z'))
    await db.execute(sql`INSERT INTO usage_daily (day, project_id, api_key_id, model, requests)
      VALUES ('1990-01-15', ${project}, ${keyId}, 'm', 3), ('1990-02-15', ${project}, ${keyId}, 'm', 1)`)
    await db.execute(sql`INSERT INTO usage_project_daily (day, project_id, model, requests)
      VALUES ('1990-01-15', ${project}, 'm', 3), ('1990-02-15', ${project}, 'm', 1)`)
    await db.execute(sql`INSERT INTO usage_key_daily (day, project_id, api_key_id, requests)
      VALUES ('1990-01-15', ${project}, ${keyId}, 3), ('1990-02-15', ${project}, ${keyId}, 1)`)
    for (const [m, from, to] of [
      ['1990-01', '1990-01-01', '1990-02-01'],
      ['1990-02', '1990-02-01', '1990-03-01'],
    ] as const)
      await createUsagePartition(db, m, new Date(`${from}T00:00:00Z`), new Date(`${to}T00:00:00Z`))
    expect(await usagePartitionMonths(db)).toEqual(expect.arrayContaining(['1990-01', '1990-02']))
    const where = sql`project_id = ${project}`
    const { rows: placed } = await db.execute<{ part: string; n: number }>(
      sql`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM usage_logs WHERE ${where} GROUP BY 1`,
    )
    expect(placed).toEqual([{ part: 'usage_logs_1990_01', n: 3 }])

    await dropUsageBefore(db, ['1990-01'], new Date('1990-02-01T00:00:00Z'))
    const months = await usagePartitionMonths(db)
    expect(months).toContain('1990-02')
    expect(months).not.toContain('1990-01')
    const { rows: left } = await db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM usage_logs WHERE ${where}`,
    )
    expect(left[0]!.n).toBe(0)
    const { rows: days } = await db.execute<{ day: string }>(
      sql`SELECT day::text FROM usage_daily WHERE ${where} ORDER BY day`,
    )
    expect(days.map((d) => d.day)).toEqual(['1990-02-15'])
    const { rows: projectDays } = await db.execute<{ day: string }>(
      sql`SELECT day::text FROM usage_project_daily WHERE ${where} ORDER BY day`,
    )
    expect(projectDays.map((d) => d.day)).toEqual(['1990-02-15'])
    const { rows: keyDays } = await db.execute<{ day: string }>(
      sql`SELECT day::text FROM usage_key_daily WHERE ${where} ORDER BY day`,
    )
    expect(keyDays.map((d) => d.day)).toEqual(['1990-02-15'])
    await dropUsageBefore(db, ['1990-02'], new Date('1990-03-01T00:00:00Z'))
  })
})
