import { sql } from 'drizzle-orm'
import { Hono } from 'hono'
import type { AppEnv } from '../context'
import type { Deps } from '../deps'

type Check = { ok: boolean; latency_ms: number; error?: string }

async function check(run: () => Promise<unknown>): Promise<Check> {
  const started = Date.now()
  try {
    await run()
    return { ok: true, latency_ms: Date.now() - started }
  } catch (error) {
    // Only the error class: driver messages can carry hostnames or connection details.
    return { ok: false, latency_ms: Date.now() - started, error: (error as Error).name || 'Error' }
  }
}

async function deepHealth(deps: Deps) {
  const [postgres, redis] = await Promise.all([
    check(() => deps.db.execute(sql`select 1`)),
    check(() => deps.redis.ping()),
  ])
  return { status: postgres.ok && redis.ok ? 'ok' : 'degraded', postgres, redis }
}

export const health = new Hono<AppEnv>().get('/', async (c) => {
  if (c.req.query('deep') === undefined || c.req.query('deep') === '0') return c.json({ status: 'ok' })
  const report = await deepHealth(c.var.deps)
  return c.json(report, report.status === 'ok' ? 200 : 503)
})
