import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { keys } from '../../src/redis/keys'
import { chatRequest, envWith, gatewayWith, testRedis } from '../helpers/gateway'
import { countRows, setup, usageRows } from '../helpers/fixtures'

const postgresDown = {
  DATABASE_URL: 'postgres://nexus:local@pgdown.localtest.me/nexusai',
  NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
}

const request = (raw: string, model: string) => chatRequest(raw, model)

describe('when Postgres is down', () => {
  it('serves a warm key, keeps the usage row in Redis and the cron trigger writes it later', async () => {
    const { model, key } = await setup()
    expect((await gatewayWith({}, '/v1/chat/completions', request(key.raw, model))).res.status).toBe(200)
    expect(await countRows(key.id)).toBe(1)

    const down = await gatewayWith(postgresDown, '/v1/chat/completions', request(key.raw, model))
    expect(down.res.status).toBe(200)
    expect(await countRows(key.id)).toBe(1)
    const spooled = await testRedis().lrange(keys.usageSpool(), 0, -1)
    expect(JSON.stringify(spooled)).toContain(key.id)

    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController(), envWith({}), ctx)
    await waitOnExecutionContext(ctx)
    const rows = await usageRows(key.id)
    expect(rows).toHaveLength(2)
    expect(rows.map((r) => r.status)).toEqual([200, 200])
  })

  it('answers 503 service_unavailable for a key it has never seen', async () => {
    const { model, key } = await setup()
    const { res, body } = await gatewayWith(postgresDown, '/v1/chat/completions', request(key.raw, model))
    expect(res.status).toBe(503)
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'service_unavailable' } })
    expect(body).not.toContain('127.0.0.1')
  })
})

describe('the cron trigger', () => {
  it('raises a spend counter below what Postgres says, and never lowers one above it', async () => {
    const { model, key } = await setup({ key: { dailyBudget: '1' } })
    expect((await gatewayWith({}, '/v1/chat/completions', request(key.raw, model))).res.status).toBe(200)
    const { dayTag } = await import('../../src/lib/time')
    const counter = keys.spendDay(key.id, dayTag(Date.now()))
    const truth = await testRedis().get<number>(counter)
    expect(truth).toBeGreaterThan(0)
    const runCron = async () => {
      const ctx = createExecutionContext()
      await worker.scheduled(createScheduledController(), envWith({}), ctx)
      await waitOnExecutionContext(ctx)
    }

    // A lost settle: the counter is below the truth and comes back up to it.
    await testRedis().set(counter, 0)
    await runCron()
    expect(await testRedis().get<number>(counter)).toBe(truth)

    // Spend settled in Redis whose usage row is not committed yet: above the truth, left alone.
    const inFlight = truth! + 123_456
    await testRedis().set(counter, inFlight)
    await runCron()
    expect(await testRedis().get<number>(counter)).toBe(inFlight)
  })
})
