import { describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { getDeps } from '../../src/deps'
import { sha256Hex } from '../../src/lib/ids'
import { keys } from '../../src/redis/keys'
import { runSpoolStep } from '../../src/redis/scripts/spool'
import { recordUsage, recordUsageRows, type UsageRow } from '../../src/usage/record'
import { chatRequest, envWith, gatewayWith, testDb, testRedis, uid } from '../helpers/gateway'
import { countRows, setup, usageRows } from '../helpers/fixtures'
import { captureLogs, rawList, runCron } from '../helpers/stores'
import { sql } from 'drizzle-orm'

const INT32_MAX = 2 ** 31 - 1

// A usage row as the Worker would spool it, for the given key.
function row(keyId: string, overrides: Partial<UsageRow> = {}): UsageRow {
  return {
    event_id: crypto.randomUUID(),
    request_id: `req-${uid()}`,
    api_key_id: keyId,
    project_id: 'default',
    route: 'chat',
    model: `m-${uid()}`,
    provider: 'p',
    upstream_model: 'up',
    status: 200,
    error_code: null,
    prompt_tokens: 3,
    completion_tokens: 4,
    total_tokens: 7,
    tokens_estimated: false,
    cost_usd: '0.000001000000',
    latency_ms: 12,
    ttfb_ms: 5,
    stream: false,
    attempts: 1,
    created_at: new Date().toISOString(),
    ...overrides,
  }
}

async function eventRow(eventId: string) {
  const result = await testDb().execute(
    sql`SELECT model, prompt_tokens, completion_tokens, total_tokens FROM usage_logs WHERE event_id = ${eventId}`,
  )
  return result.rows[0] as
    { model: string; prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined
}

// Other test files run the cron too (and may drain our rows first): run it until `done` holds.
async function cronUntil(done: () => Promise<boolean>, runs = 10): Promise<void> {
  for (let i = 0; i < runs; i++) {
    await runCron()
    if (await done()) return
  }
  throw new Error('the cron trigger never got there')
}

describe('the usage spool with rows Postgres rejects', () => {
  it('dead-letters the bad rows and writes the good rows behind them', async () => {
    const { key } = await setup()
    const nul = row(key.id, { model: 'bad\u0000model' }) // text refuses NUL: SQLSTATE 22021
    const huge = row(key.id, { prompt_tokens: 3_000_000_000 }) // integer out of range: 22003
    const garbage = `not json ${uid()}`
    const good = row(key.id)
    const raw = [nul, huge].map((r) => JSON.stringify(r))
    await testRedis().rpush(keys.usageSpool(), ...raw, garbage, JSON.stringify(good))

    const { lines } = await captureLogs(() =>
      cronUntil(async () => (await eventRow(good.event_id)) !== undefined),
    )
    expect(await eventRow(good.event_id)).toMatchObject({ model: good.model, total_tokens: 7 })
    expect(await eventRow(nul.event_id)).toBeUndefined()
    expect(await eventRow(huge.event_id)).toBeUndefined()

    // Moved, exactly as spooled, to the dead-letter list; none is left to block the spool.
    const dead = await rawList(keys.usageSpoolDead())
    for (const item of [...raw, garbage]) expect(dead.filter((d) => d === item)).toHaveLength(1)
    const spool = (await rawList(keys.usageSpool())).join('\n')
    for (const r of [nul, huge, good]) expect(spool).not.toContain(r.event_id)
    expect(spool).not.toContain(garbage)
    // Each rejection leaves a warning naming the row and the SQLSTATE, without the row's data.
    const warnings = lines.filter((l) => l.includes('dead-lettered'))
    expect(warnings.some((l) => l.includes(nul.event_id) && l.includes('"sqlstate":"22021"'))).toBe(true)
    expect(warnings.some((l) => l.includes(huge.event_id) && l.includes('"sqlstate":"22003"'))).toBe(true)
  })

  it('keeps every row when Postgres is down, and writes them once it is back', async () => {
    const { key } = await setup()
    const rows = [row(key.id), row(key.id), row(key.id)]
    await testRedis().rpush(keys.usageSpool(), ...rows.map((r) => JSON.stringify(r)))
    await runCron({
      DATABASE_URL: 'postgres://nexus:local@pgdown-robust.localtest.me/nexusai',
      NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
    })
    const spool = (await rawList(keys.usageSpool())).join('\n')
    const dead = (await rawList(keys.usageSpoolDead())).join('\n')
    // Not drained by this run (another file's cron may have written them already, never dropped them).
    for (const r of rows) {
      expect(spool.includes(r.event_id) || (await eventRow(r.event_id)) !== undefined).toBe(true)
      expect(dead).not.toContain(r.event_id)
    }
    await cronUntil(async () => (await countRows(key.id)) === 3)
  })
})

describe('the spool drain step (Redis script)', () => {
  it('trims only rows still at the head, so overlapping drains never drop unwritten rows', async () => {
    const redis = testRedis()
    const lists = { spool: `nx:test:spool:${uid()}`, dead: `nx:test:dead:${uid()}` }
    // [handled count, first, last, ...rejected] (null: none), then how many rows to read next.
    const step = (handled: [number, string, string, ...string[]] | null, read: number) => {
      const [count = 0, first = '', last = '', ...rejected] = handled ?? []
      return runSpoolStep(redis, lists, { handled: handled && { count, first, last, rejected }, read })
    }
    await redis.rpush(lists.spool, '{"a":1}', 'b', '7', 'd')
    // Rows come back exactly as stored (no JSON parsing).
    expect(await step(null, 2)).toEqual({ kind: 'read', rows: ['{"a":1}', 'b'] })
    // Another drain handled the same two rows first and trimmed them.
    expect(await step([2, '{"a":1}', 'b'], 0)).toEqual({ kind: 'read', rows: [] })
    // This drain's acknowledgement no longer matches the head: nothing is trimmed or dead-lettered.
    expect(await step([2, '{"a":1}', 'b', 'b'], 5)).toEqual({ kind: 'overtaken' })
    expect(await rawList(lists.spool)).toEqual(['7', 'd'])
    expect(await redis.llen(lists.dead)).toBe(0)
    // A matching acknowledgement trims and dead-letters, then reads on.
    expect(await step([1, '7', '7', '7'], 5)).toEqual({ kind: 'read', rows: ['d'] })
    expect(await rawList(lists.dead)).toEqual(['7'])
    await redis.del(lists.spool, lists.dead)
  })
})

describe('a usage row Postgres rejects when it is recorded', () => {
  it('is written once sanitized instead of spooled: the model name from a request with a NUL byte', async () => {
    const { model, key } = await setup()
    const { res } = await gatewayWith({}, '/v1/chat/completions', chatRequest(key.raw, `${model}\u0000x`))
    expect(res.status).toBeGreaterThanOrEqual(400)
    const rows = await usageRows(key.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.model).toBe(`${model}x`)
    expect((await rawList(keys.usageSpool())).join('\n')).not.toContain(key.id)
  })

  it('retries a raw row once sanitized (control characters, integers out of range)', async () => {
    const { key } = await setup()
    const bad = row(key.id, {
      model: 'gpt\u0000\u001f-x',
      provider: 'p\u0000',
      prompt_tokens: 5_000_000_000,
      completion_tokens: -3,
      total_tokens: 5_000_000_000,
    })
    await recordUsage(getDeps(envWith({})), bad)
    expect(await eventRow(bad.event_id)).toMatchObject({
      model: 'gpt-x',
      prompt_tokens: INT32_MAX,
      completion_tokens: 0,
      total_tokens: INT32_MAX,
    })
    expect((await rawList(keys.usageSpool())).join('\n')).not.toContain(bad.event_id)
  })

  it('dead-letters a row sanitizing cannot fix instead of spooling it forever', async () => {
    const { key } = await setup()
    const bad = row(key.id, { api_key_id: `not-a-uuid-${uid()}` }) // 22P02
    await recordUsage(getDeps(envWith({})), bad)
    expect(await eventRow(bad.event_id)).toBeUndefined()
    expect((await rawList(keys.usageSpool())).join('\n')).not.toContain(bad.event_id)
    expect((await rawList(keys.usageSpoolDead())).join('\n')).toContain(bad.event_id)
  })
})

describe('a batch of usage rows (requests finishing together)', () => {
  it('writes every good row of a batch Postgres rejects and dead-letters only the bad one', async () => {
    const { key } = await setup()
    const good = [
      row(key.id, { provider_key_id: crypto.randomUUID() }),
      row(key.id, { model: 'm\u0000x' }),
      row(key.id),
    ]
    const bad = row(key.id, { api_key_id: `not-a-uuid-${uid()}` }) // 22P02 for the whole statement
    await recordUsageRows(getDeps(envWith({})), [good[0]!, bad, good[1]!, good[2]!])
    for (const r of good) expect(await eventRow(r.event_id)).toBeDefined()
    expect(await eventRow(good[1]!.event_id)).toMatchObject({ model: 'mx' })
    expect(await eventRow(bad.event_id)).toBeUndefined()
    expect((await rawList(keys.usageSpoolDead())).join('\n')).toContain(bad.event_id)
    expect(await countRows(key.id)).toBe(3)
  })

  it('writes a clean batch in one statement: rows, rollup and last_used_at', async () => {
    const { key } = await setup()
    const rows = [
      row(key.id, { cache_read_tokens: 2, cache_write_5m_tokens: 3, reasoning_tokens: 1 }),
      row(key.id, { status: 500 }),
      row(key.id, { provider_key_id: crypto.randomUUID(), cache_write_1h_tokens: 4 }),
    ]
    rows[2]!.model = rows[0]!.model
    await recordUsageRows(getDeps(envWith({})), rows)
    expect(await countRows(key.id)).toBe(3)
    const daily = await testDb().execute(
      sql`SELECT sum(requests)::int AS requests, sum(success)::int AS success, sum(failed)::int AS failed,
        sum(total_tokens)::int AS tokens, count(*)::int AS groups, sum(cache_read_tokens)::int AS cache_read,
        sum(cache_write_tokens)::int AS cache_write, sum(reasoning_tokens)::int AS reasoning
        FROM usage_daily WHERE api_key_id = ${key.id}`,
    )
    expect(daily.rows[0]).toMatchObject({
      requests: 3,
      success: 2,
      failed: 1,
      tokens: 21,
      groups: 2,
      cache_read: 2,
      cache_write: 7,
      reasoning: 1,
    })
    const used = await testDb().execute(sql`SELECT last_used_at FROM api_keys WHERE id = ${key.id}`)
    expect((used.rows[0] as { last_used_at: unknown }).last_used_at).not.toBeNull()
    // Replaying the batch (a spool drain after a lost reply) writes and counts nothing twice.
    await recordUsageRows(getDeps(envWith({})), rows)
    expect(await countRows(key.id)).toBe(3)
    const again = await testDb().execute(
      sql`SELECT sum(requests)::int AS requests FROM usage_daily WHERE api_key_id = ${key.id}`,
    )
    expect(again.rows[0]).toMatchObject({ requests: 3 })
  })

  it('spools the whole batch when Postgres is unreachable, and the cron trigger writes it', async () => {
    const { key } = await setup()
    const rows = [row(key.id), row(key.id), row(key.id)]
    const down = {
      DATABASE_URL: 'postgres://nexus:local@pgdown-batch.localtest.me/nexusai',
      NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
    }
    await recordUsageRows(getDeps(envWith(down)), rows)
    const spool = (await rawList(keys.usageSpool())).join('\n')
    for (const r of rows) {
      // Spooled (or already drained into Postgres by another file's cron run).
      expect(spool.includes(r.event_id) || (await eventRow(r.event_id)) !== undefined).toBe(true)
    }
    await cronUntil(async () => (await countRows(key.id)) === 3)
  })
})

describe('a Postgres that accepts connections and never answers', () => {
  const hung = {
    DATABASE_URL: 'postgres://nexus:local@pghang.localtest.me/nexusai',
    NEON_HTTP_ENDPOINT: `${inject('mockUpstreamUrl')}/s/hang~${uid()}/v1/sql`,
  }

  it('answers 503 for a cold key within the query timeout, logging no key hash', async () => {
    const { model, key } = await setup()
    const started = Date.now()
    const { result, lines } = await captureLogs(() =>
      gatewayWith(hung, '/v1/chat/completions', chatRequest(key.raw, model)),
    )
    const elapsed = Date.now() - started
    expect(result.res.status).toBe(503)
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'service_unavailable' } })
    expect(elapsed).toBeLessThan(9_000)
    const logs = lines.join('\n')
    expect(logs).toContain('postgres unavailable')
    expect(logs).not.toContain(await sha256Hex(key.raw))
    expect(logs).not.toContain(key.raw)
  })

  it('spools the usage row of a warm key instead of waiting forever', async () => {
    const { model, key } = await setup()
    expect((await gatewayWith({}, '/v1/chat/completions', chatRequest(key.raw, model))).res.status).toBe(200)
    expect(await countRows(key.id)).toBe(1)
    const started = Date.now()
    const { res } = await gatewayWith(hung, '/v1/chat/completions', chatRequest(key.raw, model))
    expect(res.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(9_000) // waitUntil included: the insert gave up
    // Spooled (or already drained into Postgres by another file's cron run: the hung endpoint wrote nothing).
    const spooled = (await rawList(keys.usageSpool())).join('\n').includes(key.id)
    expect(spooled || (await countRows(key.id)) === 2).toBe(true)
    await cronUntil(async () => (await countRows(key.id)) === 2)
  })
})

describe('logs', () => {
  it('never carry the key hash when the key lookup fails on a down Postgres', async () => {
    const { model, key } = await setup()
    const down = {
      DATABASE_URL: 'postgres://nexus:local@pgdown-logs.localtest.me/nexusai',
      NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
    }
    const { result, lines } = await captureLogs(() =>
      gatewayWith(down, '/v1/chat/completions', chatRequest(key.raw, model)),
    )
    expect(result.res.status).toBe(503)
    const logs = lines.join('\n')
    expect(logs).not.toContain(await sha256Hex(key.raw))
    expect(logs).not.toContain(key.raw)
    expect(logs).not.toContain('params')
    // What is logged instead: the error's names and its SQLSTATE (none: Postgres never answered).
    const failure = lines.find((l) => l.includes('postgres unavailable'))
    expect(JSON.parse(failure!)).toMatchObject({ error: expect.any(String), sqlstate: null })
  })
})
