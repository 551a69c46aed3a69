import { and, eq, gte, sql } from 'drizzle-orm'
import { usageLogs } from '../../drizzle/schema'
import type { Deps } from '../deps'
import { usdToMicros } from '../lib/money'
import { dayTag, monthTag, startOfUtcDay, startOfUtcMonth } from '../lib/time'
import { keys } from '../redis/keys'
import { settleScript } from '../redis/scripts'

// What the guard reserved for one request, to be settled with the real numbers after the response.
export type Hold = {
  keyId: string
  ticket: string
  tokens: number
  tpm: boolean
  reservation: string | null
  day: string
  month: string
}

const DAY_COUNTER_TTL_S = 2 * 86_400
const MONTH_COUNTER_TTL_S = 35 * 86_400

async function spentSince(deps: Deps, keyId: string, since: Date): Promise<number> {
  const [row] = await deps.db
    .select({ total: sql<string>`coalesce(sum(${usageLogs.costUsd}), 0)` })
    .from(usageLogs)
    .where(and(eq(usageLogs.apiKeyId, keyId), gte(usageLogs.createdAt, since)))
  // Round up to whole micro-USD, as the counters do for each request.
  const [whole = '0', frac = ''] = (row?.total ?? '0').split('.')
  const micros = usdToMicros(`${whole}.${frac.slice(0, 6)}`)
  return /[1-9]/.test(frac.slice(6)) ? micros + 1 : micros
}

// Redis is a cache of the truth: a missing spend counter is rebuilt from usage_logs (SET NX, so a
// concurrent rebuild or settle that got there first wins).
export async function rebuildSpend(deps: Deps, keyId: string, now: number): Promise<void> {
  const [day, month] = await Promise.all([
    spentSince(deps, keyId, startOfUtcDay(now)),
    spentSince(deps, keyId, startOfUtcMonth(now)),
  ])
  const pipe = deps.redis.pipeline()
  pipe.set(keys.spendDay(keyId, dayTag(now)), day, { nx: true, ex: DAY_COUNTER_TTL_S })
  pipe.set(keys.spendMonth(keyId, monthTag(now)), month, { nx: true, ex: MONTH_COUNTER_TTL_S })
  await pipe.exec()
}

// Success: the token log gets the real count and the spend counters the real cost. Failure: both
// holds are released (tokens 0, cost 0).
export async function settleHold(
  deps: Deps,
  hold: Hold,
  actualTokens: number,
  costMicros: number,
): Promise<void> {
  await settleScript(deps.redis).exec(
    [
      keys.tpm(hold.keyId),
      keys.spendDay(hold.keyId, hold.day),
      keys.spendMonth(hold.keyId, hold.month),
      keys.reservations(hold.keyId),
    ],
    [
      hold.ticket,
      hold.tpm ? String(hold.tokens) : '',
      String(actualTokens),
      hold.reservation ?? '',
      String(costMicros),
    ],
  )
}
