import { auditInsert } from '../db/audit'
import { findProviderByRef } from '../db/admin-catalog'
import type { ProviderRow } from '../db/catalog'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { labels } from '../metrics/counters'
import { keys } from '../redis/keys'
import { CIRCUIT_STATES, type CircuitState } from '../redis/lua/circuit.lua'
import { runCircuitReset } from '../redis/scripts/circuit-reset'
import { circuitSettings } from '../upstream/circuit'
import { audit, type Admin } from './context'
import { notFound, providerRef } from './query'
import { serializeProvider } from './serialize'
import { viewsOf } from './provider-keys'
import { emitSafely } from '../webhooks/deliver'
import { circuitResetEvent } from '../webhooks/provider-events'

const FIELDS = ['st', 'f', 'ou', 'cu', 'sr', 'lat'] as const

export type Health = {
  state: CircuitState
  // Consecutive provider faults so far.
  failures: number
  // When an open breaker lets a probe through, or a 429 cooldown ends; null when neither is pending.
  retry_at: string | null
  success_ratio: number | null
  latency_ms: number | null
  threshold: number
  window_ms: number
  failure_ratio: number
  cooldown_ms: number
}

function toHealth(raw: Record<string, unknown> | null, row: ProviderRow, deps: Deps): Health {
  const n = (field: (typeof FIELDS)[number]) => {
    const v = Number(raw?.[field])
    return raw?.[field] === undefined || raw?.[field] === null || Number.isNaN(v) ? null : v
  }
  const st = n('st') ?? 0
  const now = deps.now()
  const openUntil = st === 2 ? (n('ou') ?? 0) : 0
  const coolUntil = (n('cu') ?? 0) > now ? (n('cu') ?? 0) : 0
  const retryAt = Math.max(openUntil, coolUntil)
  const settings = circuitSettings(deps.config, row.name, row.circuit)
  const latency = n('lat')
  return {
    state: CIRCUIT_STATES[st] ?? 'closed',
    failures: n('f') ?? 0,
    retry_at: retryAt > 0 ? new Date(retryAt).toISOString() : null,
    success_ratio: n('sr') === null ? null : Math.round((n('sr') as number) * 1000) / 1000,
    latency_ms: latency === null || latency === 0 ? null : Math.round(latency),
    threshold: settings.threshold,
    window_ms: settings.windowMs,
    failure_ratio: settings.failureRatio,
    cooldown_ms: settings.cooldownMs,
  }
}

// Every listed provider's breaker in one Redis round trip. Health is advisory: without Redis the
// listing still answers, with `health: null`.
export async function readHealth(deps: Deps, rows: ProviderRow[]): Promise<(Health | null)[]> {
  if (rows.length === 0) return []
  try {
    const pipe = deps.redis.pipeline()
    for (const row of rows) pipe.hmget(keys.circuit(row.id), ...FIELDS)
    const raw = (await pipe.exec()) as (Record<string, unknown> | null)[]
    return rows.map((row, i) => toHealth(raw[i] ?? null, row, deps))
  } catch (error) {
    log('warn', 'circuit health unavailable', { error: (error as Error).message })
    return rows.map(() => null)
  }
}

// Responses carry the provider's circuit breaker state, read from Redis (not part of the row or its audit).
export async function withHealth(admin: Admin, row: ProviderRow) {
  const [[health], keys] = await Promise.all([readHealth(admin.deps, [row]), viewsOf(admin, [row.id])])
  return { ...serializeProvider(row, admin.deps.config, keys.get(row.id)), health }
}

// POST /admin/providers/:id/reset: closes the breaker and clears its counters and cooldown; the
// success ratio and latency stay, they are history rather than state.
// `ref` is the provider's id, number or name.
export async function resetCircuit(admin: Admin, ref: string) {
  const { deps } = admin
  const row = await findProviderByRef(deps.db, providerRef(ref))
  if (!row) throw notFound('provider', ref)
  const from = await runCircuitReset(deps.redis, {
    providerId: row.id,
    label: labels({ provider: row.name }),
    now: deps.now(),
  })
  if (from !== 'closed') admin.defer(emitSafely(deps, [circuitResetEvent(row, deps.now())], admin.requestId))
  log('info', 'circuit transition', {
    request_id: admin.requestId,
    provider: row.name,
    to: 'closed',
    by: 'reset',
  })
  await auditInsert(
    deps.db,
    audit(
      admin,
      'provider.circuit_reset',
      { type: 'provider', id: row.id },
      { state: from },
      { state: 'closed' },
    ),
  )
  return withHealth(admin, row)
}
