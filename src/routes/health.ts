import { sql } from 'drizzle-orm'
import { Hono } from 'hono'
import type { AppEnv } from '../context'
import type { Deps } from '../deps'
import { listProviderKeys } from '../db/provider-keys'
import { keyringFor } from '../secrets/keyring'
import { open } from '../secrets/seal'

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
// So does a well-formed wrong one: every active stored key is opened (read fresh, not from a cache),
// and those no configured key opens are counted, with the providers they leave without a stored key.
async function secretsCheck(
  deps: Deps,
): Promise<Check & { unreadable_keys?: number; provider_ids?: string[] }> {
  const started = Date.now()
  const ring = await keyringFor(deps.config)
  if (ring.problem) return { ok: false, latency_ms: Date.now() - started, error: ring.problem }
  const rows = (await listProviderKeys(deps.db)).filter((row) => row.state === 'active')
  const opened = await Promise.all(
    rows.map(async (row) => ({ row, ok: (await open(ring, row.providerId, row)) !== null })),
  )
  const unreadable = opened.filter((o) => !o.ok).map((o) => o.row)
  if (unreadable.length === 0) return { ok: true, latency_ms: Date.now() - started }
  return {
    ok: false,
    latency_ms: Date.now() - started,
    error: `${unreadable.length} stored provider key(s) cannot be opened with the configured SECRETS_KEY (or SECRETS_KEY_PREVIOUS): set the key they were sealed under, or replace them.`,
    unreadable_keys: unreadable.length,
    provider_ids: [...new Set(unreadable.map((row) => row.providerId))].sort(),
  }
}

async function deepHealth(deps: Deps) {
  const [postgres, redis, secrets] = await Promise.all([
    check(() => deps.db.execute(sql`select 1`)),
    check(() => deps.redis.ping()),
    secretsCheck(deps).catch(() => ({ ok: false, latency_ms: 0, error: 'stored keys not read' })),
  ])
  return { status: postgres.ok && redis.ok && secrets.ok ? 'ok' : 'degraded', postgres, redis, secrets }
}

export const health = new Hono<AppEnv>().get('/', async (c) => {
  if (c.req.query('deep') === undefined || c.req.query('deep') === '0') return c.json({ status: 'ok' })
  const report = await deepHealth(c.var.deps)
  return c.json(report, report.status === 'ok' ? 200 : 503)
})
