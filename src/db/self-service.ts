import { and, desc, eq, gte, lt, sql } from 'drizzle-orm'
import { usageDaily, usageLogs } from '../../drizzle/schema'
import { startOfUtcMonth } from '../lib/time'
import type { Db } from './client'

// What a key holder may read about their own key (routes/me.ts): charges, never cost.
const ymd = (d: Date) => d.toISOString().slice(0, 10)

// Σ charge_usd today and this month (UTC) of a key or a whole project, from the daily rollup.
export async function chargeSpend(
  db: Db,
  scope: { keyId: string } | { projectId: string },
  now: number,
): Promise<{ day: string; month: string }> {
  const today = ymd(new Date(now))
  const [row] = await db
    .select({
      day: sql<string>`coalesce(sum(${usageDaily.chargeUsd}) filter (where ${usageDaily.day} = ${today}::date), 0)::numeric(24, 12)::text`,
      month: sql<string>`coalesce(sum(${usageDaily.chargeUsd}), 0)::numeric(24, 12)::text`,
    })
    .from(usageDaily)
    .where(
      and(
        'keyId' in scope ? eq(usageDaily.apiKeyId, scope.keyId) : eq(usageDaily.projectId, scope.projectId),
        gte(usageDaily.day, ymd(startOfUtcMonth(now))),
      ),
    )
  return row ?? { day: '0', month: '0' }
}

// Σ charge_usd per UTC day and model in [from, to) (YYYY-MM-DD), for the billing usage endpoint.
export async function dailyCharges(
  db: Db,
  scope: { keyId: string } | { projectId: string },
  from: string,
  to: string,
): Promise<{ day: string; model: string; usd: string }[]> {
  return db
    .select({
      day: sql<string>`${usageDaily.day}::text`,
      model: usageDaily.model,
      usd: sql<string>`sum(${usageDaily.chargeUsd})::numeric(24, 12)::text`,
    })
    .from(usageDaily)
    .where(
      and(
        'keyId' in scope ? eq(usageDaily.apiKeyId, scope.keyId) : eq(usageDaily.projectId, scope.projectId),
        gte(usageDaily.day, from),
        lt(usageDaily.day, to),
      ),
    )
    .groupBy(usageDaily.day, usageDaily.model)
    .orderBy(usageDaily.day, usageDaily.model)
}

// The newest usage row with this request id made by this key (a client may reuse its own request ids).
export async function generationOf(db: Db, requestId: string, keyId: string) {
  const rows = await db
    .select()
    .from(usageLogs)
    .where(and(eq(usageLogs.requestId, requestId), eq(usageLogs.apiKeyId, keyId)))
    .orderBy(desc(usageLogs.createdAt))
    .limit(1)
  return rows[0]
}
