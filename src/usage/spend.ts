import { and, eq, gte, isNotNull, or, sql } from 'drizzle-orm'
import { apiKeys, usageDaily } from '../../drizzle/schema'
import { budgetedProjectIds } from '../db/projects'
import { projectSpend, projectsSpend } from '../db/spend-report'
import type { Deps } from '../deps'
import { usdToPico } from '../lib/money'
import { dayTag, monthTag, startOfUtcMonth } from '../lib/time'
import { keys, type Period, type ScopeKind } from '../redis/keys'
import type { Increment } from '../metrics/counters'
import {
  runFinish,
  type CircuitOutcome,
  type EconomySettlement,
  type Finished,
  type ScopeAlerts,
} from '../redis/scripts/finish'
import type { Hold } from '../redis/scripts/guard'
import { runRaiseCounters, type CounterFloor } from '../redis/scripts/raise'

const DAY_COUNTER_TTL_S = 2 * 86_400
const MONTH_COUNTER_TTL_S = 35 * 86_400

// Spend of this UTC day and month per key, from the daily rollup (the truth), for one key or for every
// key that has a budget.
async function rollupSpend(deps: Deps, now: number, keyId?: string) {
  const today = new Date(now).toISOString().slice(0, 10)
  const monthStart = startOfUtcMonth(now).toISOString().slice(0, 10)
  return deps.db
    .select({
      keyId: apiKeys.id,
      day: sql<string>`coalesce(sum(${usageDaily.chargeUsd}) filter (where ${usageDaily.day} = ${today}::date), 0)::text`,
      month: sql<string>`coalesce(sum(${usageDaily.chargeUsd}), 0)::text`,
    })
    .from(apiKeys)
    .leftJoin(usageDaily, and(eq(usageDaily.apiKeyId, apiKeys.id), gte(usageDaily.day, monthStart)))
    .where(
      keyId ? eq(apiKeys.id, keyId) : or(isNotNull(apiKeys.dailyBudget), isNotNull(apiKeys.monthlyBudget)),
    )
    .groupBy(apiKeys.id)
}

// Redis is a cache of the truth: a missing spend counter is rebuilt from Postgres (SET NX, so a
// concurrent rebuild or settle that got there first wins).
export async function rebuildSpend(deps: Deps, keyId: string, now: number): Promise<void> {
  const [row] = await rollupSpend(deps, now, keyId)
  if (!row) return
  const pipe = deps.redis.pipeline()
  pipe.set(keys.spendDay(keyId, dayTag(now)), String(usdToPico(row.day)), { ex: DAY_COUNTER_TTL_S, nx: true })
  pipe.set(keys.spendMonth(keyId, monthTag(now)), String(usdToPico(row.month)), {
    ex: MONTH_COUNTER_TTL_S,
    nx: true,
  })
  await pipe.exec()
}

// The same for a project's counters (the sum over all its keys' rows).
export async function rebuildProjectSpend(deps: Deps, projectId: string, now: number): Promise<void> {
  const spend = await projectSpend(deps.db, projectId, now)
  const pipe = deps.redis.pipeline()
  pipe.set(keys.projectSpendDay(projectId, dayTag(now)), String(usdToPico(spend.day)), {
    ex: DAY_COUNTER_TTL_S,
    nx: true,
  })
  pipe.set(keys.projectSpendMonth(projectId, monthTag(now)), String(usdToPico(spend.month)), {
    ex: MONTH_COUNTER_TTL_S,
    nx: true,
  })
  await pipe.exec()
}

// Keys per reconcile script call (two counters each), so a large fleet never makes one huge call.
const RECONCILE_CHUNK = 100

// The cron trigger raises every budgeted key's counters to what Postgres says, so an undercount from a
// lost settle or a settle/rebuild race lasts at most one run. It never lowers a counter: one above
// Postgres holds costs already settled in Redis whose usage rows are not committed yet (in flight, or
// spooled while Postgres was unreachable), and lowering it would let a key overshoot its budget.
export async function reconcileSpend(deps: Deps): Promise<number> {
  const now = deps.now()
  const rows = await rollupSpend(deps, now)
  for (let i = 0; i < rows.length; i += RECONCILE_CHUNK) {
    const floors: CounterFloor[] = []
    for (const row of rows.slice(i, i + RECONCILE_CHUNK)) {
      floors.push(
        {
          key: keys.spendDay(row.keyId, dayTag(now)),
          pico: usdToPico(row.day),
          ttlSeconds: DAY_COUNTER_TTL_S,
        },
        {
          key: keys.spendMonth(row.keyId, monthTag(now)),
          pico: usdToPico(row.month),
          ttlSeconds: MONTH_COUNTER_TTL_S,
        },
      )
    }
    await runRaiseCounters(deps.redis, floors)
  }
  return rows.length + (await reconcileProjectSpend(deps, now))
}

// Budgeted projects' counters, raised the same way (a project without usage this month has no row and
// keeps whatever its counter says, like a key without usage).
async function reconcileProjectSpend(deps: Deps, now: number): Promise<number> {
  const ids = await budgetedProjectIds(deps.db)
  let count = 0
  for (let i = 0; i < ids.length; i += RECONCILE_CHUNK) {
    const rows = await projectsSpend(deps.db, ids.slice(i, i + RECONCILE_CHUNK), now)
    if (rows.length === 0) continue
    const floors: CounterFloor[] = []
    for (const row of rows) {
      floors.push(
        {
          key: keys.projectSpendDay(row.projectId, dayTag(now)),
          pico: usdToPico(row.day),
          ttlSeconds: DAY_COUNTER_TTL_S,
        },
        {
          key: keys.projectSpendMonth(row.projectId, monthTag(now)),
          pico: usdToPico(row.month),
          ttlSeconds: MONTH_COUNTER_TTL_S,
        },
      )
    }
    await runRaiseCounters(deps.redis, floors)
    count += rows.length
  }
  return count
}

// One request's part of the finish step: its hold, its real tokens and cost, its circuit outcomes.
export type Settlement = {
  keyId: string
  // The key's project, whose share of the hold is settled too.
  projectId: string
  hold: Hold | null
  actual: { tokens: number; costPico: bigint }
  outcomes: CircuitOutcome[]
  // Its rolling windows' and prepaid balance's share (redis/scripts/finish.ts).
  economy: EconomySettlement
  // The UTC day and month the request counts in (the hold's, else when it ended), and what budget
  // alerts need (docs/webhooks.md).
  period: Period
  alerts: AlertBudgets
  // The conversation's pin to write (docs/affinity.md), or null.
  pin: { key: string; value: string; ttlSeconds: number } | null
}

// The budgets a request's settlement checks for alerts, per scope.
export type AlertBudgets = Record<ScopeKind, ScopeAlerts>

// After the responses of a batch of requests, in one Redis round trip: settle each hold (the key's and
// its project's share) with the real tokens and cost (a failed call has neither, which releases it),
// move the circuit breakers and count the batch's metrics (increments of the same field summed).
// Also decides the budget alerts each request set off. Returns each request's circuit transitions and
// alerts.
export async function settleAndCount(
  deps: Deps,
  settlements: Settlement[],
  increments: Increment[],
  now: number,
): Promise<Finished[]> {
  const sums = new Map<string, number>()
  for (const [field, by] of increments) sums.set(field, (sums.get(field) ?? 0) + by)
  return runFinish(
    deps.config,
    settlements.map((s) => {
      const ids: Record<ScopeKind, string> = { key: s.keyId, project: s.projectId }
      return {
        ticket: s.hold?.ticket ?? null,
        period: s.period,
        actual: s.actual,
        outcomes: s.outcomes,
        economy: s.economy,
        pin: s.pin,
        scopes: (['key', 'project'] as const).map((kind) => {
          const held = s.hold?.scopes.find((h) => h.scope.kind === kind) ?? null
          return { scope: held?.scope ?? { kind, id: ids[kind] }, held, alerts: s.alerts[kind] }
        }),
      }
    }),
    sums,
    now,
  )
}
