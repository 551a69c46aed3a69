import { and, eq, gte, inArray, sql } from 'drizzle-orm'
import { usageDaily } from '../../drizzle/schema'
import { startOfUtcMonth } from '../lib/time'
import type { Db } from './client'

// Spend of this UTC day and this UTC month from the daily rollup (settled usage rows), as exact decimal
// USD strings: what the key holders were charged (cost × price ratio), which is what budgets count.
export type Spend = { day: string; month: string }

const ymd = (d: Date) => d.toISOString().slice(0, 10)

function spendColumns(now: number) {
  const today = ymd(new Date(now))
  return {
    day: sql<string>`coalesce(sum(${usageDaily.chargeUsd}) filter (where ${usageDaily.day} = ${today}::date), 0)::numeric(24, 12)::text`,
    month: sql<string>`coalesce(sum(${usageDaily.chargeUsd}), 0)::numeric(24, 12)::text`,
  }
}

export async function projectSpend(db: Db, projectId: string, now: number): Promise<Spend> {
  const [row] = await db
    .select(spendColumns(now))
    .from(usageDaily)
    .where(and(eq(usageDaily.projectId, projectId), gte(usageDaily.day, ymd(startOfUtcMonth(now)))))
  return row ?? { day: '0', month: '0' }
}

// Per project, for the given projects (the cron reconciles the budgeted ones).
export async function projectsSpend(db: Db, projectIds: string[], now: number) {
  if (projectIds.length === 0) return []
  return db
    .select({ projectId: usageDaily.projectId, ...spendColumns(now) })
    .from(usageDaily)
    .where(and(inArray(usageDaily.projectId, projectIds), gte(usageDaily.day, ymd(startOfUtcMonth(now)))))
    .groupBy(usageDaily.projectId)
}

// Per key, for a page of keys.
export async function keysSpend(db: Db, keyIds: string[], now: number) {
  if (keyIds.length === 0) return []
  return db
    .select({ keyId: usageDaily.apiKeyId, ...spendColumns(now) })
    .from(usageDaily)
    .where(and(inArray(usageDaily.apiKeyId, keyIds), gte(usageDaily.day, ymd(startOfUtcMonth(now)))))
    .groupBy(usageDaily.apiKeyId)
}
