import { createUsagePartition, dropUsageBefore, usagePartitionMonths } from '../db/usage-partitions'
import type { Deps } from '../deps'

// Months ahead that always have a partition, so no request's row waits on a CREATE TABLE.
const MONTHS_AHEAD = 2

export type LedgerPlan = {
  create: { month: string; from: Date; to: Date }[]
  // Whole months to drop, and the instant before which everything goes (rollup days included).
  drop: { months: string[]; cutoff: Date } | null
}

const monthStart = (ms: number, add = 0) => {
  const d = new Date(ms)
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1))
}
const monthOf = (at: Date) => at.toISOString().slice(0, 7)

// Partitions for this month and the next ones; with USAGE_RETENTION_MONTHS = N (keep), the usage rows
// of every month but the last N (the current one included) dropped, the daily rollup pruned to match.
// Without it nothing is ever dropped.
export function planLedger(now: number, existing: string[], keep: number | undefined): LedgerPlan {
  const have = new Set(existing)
  const create: LedgerPlan['create'] = []
  for (let ahead = 0; ahead <= MONTHS_AHEAD; ahead++) {
    const from = monthStart(now, ahead)
    if (!have.has(monthOf(from))) create.push({ month: monthOf(from), from, to: monthStart(now, ahead + 1) })
  }
  if (keep === undefined) return { create, drop: null }
  const cutoff = monthStart(now, 1 - keep)
  return { create, drop: { months: existing.filter((month) => month < monthOf(cutoff)), cutoff } }
}

// The cron's ledger upkeep: one catalog read a minute, and DDL only when a month turns.
export async function maintainUsageLedger(deps: Deps): Promise<{ created: string[]; dropped: string[] }> {
  const plan = planLedger(deps.now(), await usagePartitionMonths(deps.db), deps.config.USAGE_RETENTION_MONTHS)
  for (const { month, from, to } of plan.create) await createUsagePartition(deps.db, month, from, to)
  if (plan.drop) await dropUsageBefore(deps.db, plan.drop.months, plan.drop.cutoff)
  return { created: plan.create.map((c) => c.month), dropped: plan.drop?.months ?? [] }
}
