import { and, eq, gte, lt, sql } from 'drizzle-orm'
import { usageDaily } from '../../drizzle/schema'
import type { Db } from './client'

// A project's month from the daily rollup (keyed by project and price version), grouped by model and
// provider, with the totals as one more grouping set of the same scan: the work depends on how many
// keys, models and days the month had, never on how many requests.
const sums = {
  requests: sql<string>`coalesce(sum(${usageDaily.requests}), 0)::text`,
  success: sql<string>`coalesce(sum(${usageDaily.success}), 0)::text`,
  failed: sql<string>`coalesce(sum(${usageDaily.failed}), 0)::text`,
  prompt_tokens: sql<string>`coalesce(sum(${usageDaily.promptTokens}), 0)::text`,
  // The prompt's buckets: uncached input, prompt-cache reads and writes (they sum to prompt_tokens).
  input_tokens: sql<string>`coalesce(sum(${usageDaily.promptTokens} - ${usageDaily.cacheReadTokens} - ${usageDaily.cacheWriteTokens}), 0)::text`,
  cache_read_tokens: sql<string>`coalesce(sum(${usageDaily.cacheReadTokens}), 0)::text`,
  cache_write_tokens: sql<string>`coalesce(sum(${usageDaily.cacheWriteTokens}), 0)::text`,
  completion_tokens: sql<string>`coalesce(sum(${usageDaily.completionTokens}), 0)::text`,
  total_tokens: sql<string>`coalesce(sum(${usageDaily.totalTokens}), 0)::text`,
  cost_usd: sql<string>`coalesce(sum(${usageDaily.costUsd}), 0)::numeric(24, 12)::text`,
  charge_usd: sql<string>`coalesce(sum(${usageDaily.chargeUsd}), 0)::numeric(24, 12)::text`,
}
export type StatementSums = { [K in keyof typeof sums]: string }

// "<price model>@<effective_from ISO>" for each price version applied in the group.
const priceVersions = sql<
  string[] | null
>`array_agg(distinct ${usageDaily.priceVersion}) filter (where ${usageDaily.priceVersion} <> '')`

export async function statementRows(db: Db, projectId: string, fromDay: string, toDay: string) {
  const rows = await db
    .select({
      model: usageDaily.model,
      provider: usageDaily.provider,
      ...sums,
      price_versions: priceVersions,
      // 1 on the totals row (model and provider rolled up), 0 on a group.
      is_total: sql<number>`grouping(${usageDaily.model}, ${usageDaily.provider})`,
    })
    .from(usageDaily)
    .where(and(eq(usageDaily.projectId, projectId), gte(usageDaily.day, fromDay), lt(usageDaily.day, toDay)))
    .groupBy(sql`grouping sets ((${usageDaily.model}, ${usageDaily.provider}), ())`)
    .orderBy(usageDaily.model, usageDaily.provider)
  const groups = rows.filter((row) => Number(row.is_total) === 0)
  const totals = rows.find((row) => Number(row.is_total) !== 0)!
  return { groups, totals }
}
