import { sql } from 'drizzle-orm'
import { Hono } from 'hono'
import type { AppEnv } from '../context'
import type { Deps } from '../deps'
import { keyringFor } from '../secrets/keyring'

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

// A malformed SECRETS_KEY (or SECRETS_KEY_PREVIOUS) leaves stored provider keys unreadable: say why.
async function secretsCheck(deps: Deps): Promise<Check> {
  const started = Date.now()
  const { problem } = await keyringFor(deps.config)
  return problem
    ? { ok: false, latency_ms: Date.now() - started, error: problem }
    : { ok: true, latency_ms: Date.now() - started }
}

async function deepHealth(deps: Deps) {
  const [postgres, redis, secrets] = await Promise.all([
    check(() => deps.db.execute(sql`select 1`)),
    check(() => deps.redis.ping()),
    secretsCheck(deps),
  ])
  return { status: postgres.ok && redis.ok && secrets.ok ? 'ok' : 'degraded', postgres, redis, secrets }
}

export const health = new Hono<AppEnv>().get('/', async (c) => {
  if (c.req.query('deep') === undefined || c.req.query('deep') === '0') return c.json({ status: 'ok' })
  const report = await deepHealth(c.var.deps)
  return c.json(report, report.status === 'ok' ? 200 : 503)
})
