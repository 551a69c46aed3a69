import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm'
import { usageDaily, usageLogs } from '../../drizzle/schema'
import type { Db } from './client'

export type UsageGroup = 'day' | 'model' | 'provider' | 'api_key' | 'project'
export type UsageFilter = { apiKeyId?: string; projectId?: string; model?: string; provider?: string }
export type UsageSums = {
  requests: number
  success: number
  failed: number
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  cache_read_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  // Exact decimal string, 12 places.
  cost_usd: string
}

const GROUP_COLUMNS: Record<UsageGroup, SQL> = {
  day: sql`to_char(${usageDaily.day}, 'YYYY-MM-DD')`,
  model: sql`${usageDaily.model}`,
  provider: sql`${usageDaily.provider}`,
  api_key: sql`${usageDaily.apiKeyId}::text`,
  project: sql`${usageDaily.projectId}`,
}

// Sums as text: bigint and numeric sums stay exact through the driver, converted once in toSums.
const sums = {
  requests: sql<string>`coalesce(sum(${usageDaily.requests}), 0)::text`,
  success: sql<string>`coalesce(sum(${usageDaily.success}), 0)::text`,
  failed: sql<string>`coalesce(sum(${usageDaily.failed}), 0)::text`,
  prompt_tokens: sql<string>`coalesce(sum(${usageDaily.promptTokens}), 0)::text`,
  completion_tokens: sql<string>`coalesce(sum(${usageDaily.completionTokens}), 0)::text`,
  total_tokens: sql<string>`coalesce(sum(${usageDaily.totalTokens}), 0)::text`,
  cache_read_tokens: sql<string>`coalesce(sum(${usageDaily.cacheReadTokens}), 0)::text`,
  cache_write_tokens: sql<string>`coalesce(sum(${usageDaily.cacheWriteTokens}), 0)::text`,
  reasoning_tokens: sql<string>`coalesce(sum(${usageDaily.reasoningTokens}), 0)::text`,
  cost_usd: sql<string>`coalesce(sum(${usageDaily.costUsd}), 0)::numeric(24, 12)::text`,
}

function toSums(row: Record<keyof UsageSums, string>): UsageSums {
  return {
    requests: Number(row.requests),
    success: Number(row.success),
    failed: Number(row.failed),
    prompt_tokens: Number(row.prompt_tokens),
    completion_tokens: Number(row.completion_tokens),
    total_tokens: Number(row.total_tokens),
    cache_read_tokens: Number(row.cache_read_tokens),
    cache_write_tokens: Number(row.cache_write_tokens),
    reasoning_tokens: Number(row.reasoning_tokens),
    cost_usd: row.cost_usd,
  }
}

function rollupWhere(fromDay: string, toDay: string, filter: UsageFilter) {
  return and(
    gte(usageDaily.day, fromDay),
    lt(usageDaily.day, toDay),
    filter.apiKeyId === undefined ? undefined : eq(usageDaily.apiKeyId, filter.apiKeyId),
    filter.projectId === undefined ? undefined : eq(usageDaily.projectId, filter.projectId),
    filter.model === undefined ? undefined : eq(usageDaily.model, filter.model),
    filter.provider === undefined ? undefined : eq(usageDaily.provider, filter.provider),
  )
}

// Grouped rows and the totals from the daily rollup, days [fromDay, toDay), in one round trip.
export async function usageReport(
  db: Db,
  group: UsageGroup,
  fromDay: string,
  toDay: string,
  filter: UsageFilter,
) {
  const where = rollupWhere(fromDay, toDay, filter)
  const key = GROUP_COLUMNS[group]
  const [groups, [totals]] = await db.batch([
    db
      .select({ key: sql<string>`${key}`, ...sums })
      .from(usageDaily)
      .where(where)
      .groupBy(key)
      .orderBy(key),
    db.select(sums).from(usageDaily).where(where),
  ])
  return { groups: groups.map((g) => ({ key: g.key, ...toSums(g) })), totals: toSums(totals!) }
}

// Raw rows for drill-down, newest first, keyset-paginated on id.
export async function listUsageLogs(
  db: Db,
  from: Date,
  to: Date,
  filter: UsageFilter & { status?: number | 'ok' | 'error' },
  limit: number,
  beforeId?: number,
) {
  return db
    .select()
    .from(usageLogs)
    .where(
      and(
        gte(usageLogs.createdAt, from),
        lt(usageLogs.createdAt, to),
        beforeId === undefined ? undefined : lt(usageLogs.id, beforeId),
        filter.apiKeyId === undefined ? undefined : eq(usageLogs.apiKeyId, filter.apiKeyId),
        filter.projectId === undefined ? undefined : eq(usageLogs.projectId, filter.projectId),
        filter.model === undefined ? undefined : eq(usageLogs.model, filter.model),
        filter.status === undefined
          ? undefined
          : filter.status === 'ok'
            ? lt(usageLogs.status, 400)
            : filter.status === 'error'
              ? gte(usageLogs.status, 400)
              : eq(usageLogs.status, filter.status),
        // The rollup files a row without a provider under ''; the same filter finds it here.
        filter.provider === undefined
          ? undefined
          : sql`coalesce(${usageLogs.provider}, '') = ${filter.provider}`,
      ),
    )
    .orderBy(desc(usageLogs.id))
    .limit(limit)
}
