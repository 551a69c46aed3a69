import { chargesSince, creditTotals, prepaidProjects } from '../db/credits'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { usdToPico } from '../lib/money'
import { readBalanceCounters, syncBalanceCounters } from '../redis/scripts/balance'
import { keys } from '../redis/keys'

// A prepaid project's spendable balance, exact in pico-USD: Σ credits − Σ charges since it turned prepaid.
// Postgres holds the truth of both; Redis holds the live figure the guard decides on (charges are settled
// there first, their usage rows follow). Never shown below zero.

export type Balance = { creditPico: bigint; spentPico: bigint; balancePico: bigint }

const balanceOf = (creditPico: bigint, spentPico: bigint): Balance => ({
  creditPico,
  spentPico,
  balancePico: creditPico > spentPico ? creditPico - spentPico : 0n,
})

// What Postgres says.
async function balanceInPostgres(deps: Deps, projectId: string, prepaidSince: Date) {
  const [credit, spent] = await Promise.all([
    creditTotals(deps.db, projectId),
    chargesSince(deps.db, projectId, prepaidSince),
  ])
  return { creditPico: usdToPico(credit.usd), creditCount: credit.count, spentPico: usdToPico(spent) }
}

// Brings Redis up to what Postgres says (a lost hash is rebuilt; a newer credit view replaces an older;
// charges only rise) and returns the live balance. Called after every credit write, when the guard finds
// no balance in Redis, and by the cron.
export async function syncBalance(deps: Deps, projectId: string, prepaidSince: Date): Promise<Balance> {
  const truth = await balanceInPostgres(deps, projectId, prepaidSince)
  const live = await syncBalanceCounters(deps.config, keys.balance(projectId), truth)
  return balanceOf(live.creditPico, live.spentPico)
}

// The live balance for reading (admin pages, /v1/me): Redis, rebuilt when missing; Postgres alone when
// Redis cannot be reached.
export async function readBalance(deps: Deps, projectId: string, prepaidSince: Date): Promise<Balance> {
  try {
    const live = await readBalanceCounters(deps.config, keys.balance(projectId))
    if (live) return balanceOf(live.creditPico, live.spentPico)
    return await syncBalance(deps, projectId, prepaidSince)
  } catch (error) {
    log('warn', 'balance read from Postgres (Redis unavailable)', {
      project_id: projectId,
      error: (error as Error).message,
    })
    const truth = await balanceInPostgres(deps, projectId, prepaidSince)
    return balanceOf(truth.creditPico, truth.spentPico)
  }
}

// The cron: every prepaid project's Redis balance brought up to Postgres, so a credit whose Redis write was
// lost, or charges a lost settle never counted, are right within a minute.
export async function reconcileBalances(deps: Deps): Promise<number> {
  const projects = await prepaidProjects(deps.db)
  for (const p of projects) await syncBalance(deps, p.id, p.prepaidSince)
  return projects.length
}
