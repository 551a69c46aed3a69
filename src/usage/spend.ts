import { and, eq, gte, isNotNull, or, sql } from 'drizzle-orm'
import { apiKeys, usageDaily } from '../../drizzle/schema'
import { budgetedProjectIds } from '../db/projects'
import { projectSpend, projectsSpend } from '../db/spend-report'
import type { Deps } from '../deps'
import { usdToPico } from '../lib/money'
import { dayTag, monthTag, startOfUtcMonth } from '../lib/time'
import { keys } from '../redis/keys'
import type { Increment } from '../metrics/counters'
import { runHotScript } from '../redis/hot-script'
import { finishScript, raiseCountersScript } from '../redis/scripts'

// What the guard reserved for one request, to be settled with the real numbers after the response.
export type Hold = {
  keyId: string
  ticket: string
  tokens: number
  tpm: boolean
  reservation: string | null
  day: string
  month: string
  // The project's share: what went into its token log and its reservation (null: nothing held there).
  project: { id: string; tokens: number | null; reservation: string | null }
}

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
  const raise = raiseCountersScript(deps.redis)
  for (let i = 0; i < rows.length; i += RECONCILE_CHUNK) {
    const counters: string[] = []
    const args: string[] = []
    for (const row of rows.slice(i, i + RECONCILE_CHUNK)) {
      counters.push(keys.spendDay(row.keyId, dayTag(now)), keys.spendMonth(row.keyId, monthTag(now)))
      args.push(String(usdToPico(row.day)), String(DAY_COUNTER_TTL_S))
      args.push(String(usdToPico(row.month)), String(MONTH_COUNTER_TTL_S))
    }
    await raise.exec(counters, args)
  }
  return rows.length + (await reconcileProjectSpend(deps, now))
}

// Budgeted projects' counters, raised the same way (a project without usage this month has no row and
// keeps whatever its counter says, like a key without usage).
async function reconcileProjectSpend(deps: Deps, now: number): Promise<number> {
  const ids = await budgetedProjectIds(deps.db)
  const raise = raiseCountersScript(deps.redis)
  let count = 0
  for (let i = 0; i < ids.length; i += RECONCILE_CHUNK) {
    const rows = await projectsSpend(deps.db, ids.slice(i, i + RECONCILE_CHUNK), now)
    if (rows.length === 0) continue
    const counters: string[] = []
    const args: string[] = []
    for (const row of rows) {
      counters.push(
        keys.projectSpendDay(row.projectId, dayTag(now)),
        keys.projectSpendMonth(row.projectId, monthTag(now)),
      )
      args.push(String(usdToPico(row.day)), String(DAY_COUNTER_TTL_S))
      args.push(String(usdToPico(row.month)), String(MONTH_COUNTER_TTL_S))
    }
    await raise.exec(counters, args)
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
  circuit: { keys: string[]; args: string[] }
  // The UTC day and month the request counts in (the hold's, else when it ended), and what budget
  // alerts need (docs/webhooks.md).
  period: { day: string; month: string }
  alerts: AlertBudgets
}

// The budgets a request's settlement checks for alerts, and the fractions announced.
export type AlertBudgets = {
  keyDaily: bigint
  keyMonthly: bigint
  projectDaily: bigint
  projectMonthly: bigint
  keyFractions: string
  projectFractions: string
  // "<key|project>|<daily|monthly>" when the guard refused the request for that budget.
  refused: string
}

// After the responses of a batch of requests, in one Redis round trip: settle each hold (the key's and
// its project's share) with the real tokens and cost (a failed call has neither, which releases it),
// move the circuit breakers and count the batch's metrics (increments of the same field summed).
// Also decides the budget alerts each request set off. Returns each request's circuit transitions
// (outcome index, new state, …) and alerts.
export async function settleAndCount(
  deps: Deps,
  settlements: Settlement[],
  increments: Increment[],
  now: number,
): Promise<{ moves: number[][]; alerts: string[][] }> {
  const scriptKeys = [keys.metrics()]
  const args = [String(settlements.length), String(now)]
  for (const { keyId, projectId, hold, actual, circuit, period, alerts } of settlements) {
    const { day, month } = period
    scriptKeys.push(
      keys.tpm(keyId),
      keys.spendDay(keyId, day),
      keys.spendMonth(keyId, month),
      keys.reservations(keyId),
      keys.tpmTotal(keyId),
      keys.projectTpm(projectId),
      keys.projectTpmTotal(projectId),
      keys.projectSpendDay(projectId, day),
      keys.projectSpendMonth(projectId, month),
      keys.projectReservations(projectId),
      keys.budgetAlerts('k', keyId, day),
      keys.budgetAlerts('k', keyId, month),
      keys.budgetAlerts('p', projectId, day),
      keys.budgetAlerts('p', projectId, month),
      ...circuit.keys,
    )
    args.push(
      hold?.ticket ?? '',
      hold?.tpm ? String(hold.tokens) : '',
      String(actual.tokens),
      hold?.reservation ?? '',
      String(actual.costPico),
      hold?.project.tokens != null ? String(hold.project.tokens) : '',
      hold?.project.reservation ?? '',
      String(alerts.keyDaily),
      String(alerts.keyMonthly),
      String(alerts.projectDaily),
      String(alerts.projectMonthly),
      alerts.keyFractions,
      alerts.projectFractions,
      alerts.refused,
      ...circuit.args,
    )
  }
  const sums = new Map<string, number>()
  for (const [field, by] of increments) sums.set(field, (sums.get(field) ?? 0) + by)
  for (const [field, by] of sums) args.push(field, String(by))
  const [moves, alerts] = await runHotScript<[number[][], string[][]]>(
    deps.config,
    finishScript,
    scriptKeys,
    args,
  )
  return { moves, alerts: alerts.map((list) => list.map(String)) }
}
