import { and, eq, gte, lt, sql } from 'drizzle-orm'
import { usageProjectDaily } from '../../drizzle/schema'
import type { Db } from './client'

// A project's month from the project rollup (keyed by day, model, provider and price version), grouped by
// model and provider, with the totals as one more grouping set of the same scan: the work depends on how many
// keys, models and days the month had, never on how many requests.
const sums = {
  requests: sql<string>`coalesce(sum(${usageProjectDaily.requests}), 0)::text`,
  success: sql<string>`coalesce(sum(${usageProjectDaily.success}), 0)::text`,
  failed: sql<string>`coalesce(sum(${usageProjectDaily.failed}), 0)::text`,
  prompt_tokens: sql<string>`coalesce(sum(${usageProjectDaily.promptTokens}), 0)::text`,
  // The prompt's buckets: uncached input, prompt-cache reads and writes (they sum to prompt_tokens).
  input_tokens: sql<string>`coalesce(sum(${usageProjectDaily.promptTokens} - ${usageProjectDaily.cacheReadTokens} - ${usageProjectDaily.cacheWriteTokens}), 0)::text`,
  cache_read_tokens: sql<string>`coalesce(sum(${usageProjectDaily.cacheReadTokens}), 0)::text`,
  cache_write_tokens: sql<string>`coalesce(sum(${usageProjectDaily.cacheWriteTokens}), 0)::text`,
  completion_tokens: sql<string>`coalesce(sum(${usageProjectDaily.completionTokens}), 0)::text`,
  total_tokens: sql<string>`coalesce(sum(${usageProjectDaily.totalTokens}), 0)::text`,
  cost_usd: sql<string>`coalesce(sum(${usageProjectDaily.costUsd}), 0)::numeric(24, 12)::text`,
  charge_usd: sql<string>`coalesce(sum(${usageProjectDaily.chargeUsd}), 0)::numeric(24, 12)::text`,
}
export type StatementSums = { [K in keyof typeof sums]: string }

// "<price model>@<effective_from ISO>" for each price version applied in the group.
const priceVersions = sql<
  string[] | null
>`array_agg(distinct ${usageProjectDaily.priceVersion}) filter (where ${usageProjectDaily.priceVersion} <> '')`

export async function statementRows(db: Db, projectId: string, fromDay: string, toDay: string) {
  const rows = await db
    .select({
      model: usageProjectDaily.model,
      provider: usageProjectDaily.provider,
      ...sums,
      price_versions: priceVersions,
      // 1 on the totals row (model and provider rolled up), 0 on a group.
      is_total: sql<number>`grouping(${usageProjectDaily.model}, ${usageProjectDaily.provider})`,
    })
    .from(usageProjectDaily)
    .where(
      and(
        eq(usageProjectDaily.projectId, projectId),
        gte(usageProjectDaily.day, fromDay),
        lt(usageProjectDaily.day, toDay),
      ),
    )
    .groupBy(sql`grouping sets ((${usageProjectDaily.model}, ${usageProjectDaily.provider}), ())`)
    .orderBy(usageProjectDaily.model, usageProjectDaily.provider)
  const groups = rows.filter((row) => Number(row.is_total) === 0)
  const totals = rows.find((row) => Number(row.is_total) !== 0)!
  return { groups, totals }
}
