import { and, eq, getTableColumns, gte, lt, sql, type SQL } from 'drizzle-orm'
import { usageDaily, usageKeyDaily, usageLogs, usageProjectDaily } from '../../drizzle/schema'
import type { Db } from './client'

export type UsageGroup = 'day' | 'model' | 'provider' | 'api_key' | 'project'
export type UsageFilter = { apiKeyId?: string; projectId?: string; model?: string; provider?: string }
export type UsageLogFilter = UsageFilter & { status?: number | 'ok' | 'error'; requestId?: string }
// A row's place in the (created_at, id) order; created_at as Postgres' text, microseconds included.
export type UsageLogCursor = { at: string; id: number }
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
  // Exact decimal strings, 12 places: what the upstreams cost, what key holders were charged (× ratio).
  cost_usd: string
  charge_usd: string
  // cache_read_tokens / prompt_tokens (4 decimals), null without prompt tokens: how well prompts met
  // their provider's cache (docs/affinity.md).
  cache_read_share: number | null
}

// Three rollups, the smallest that can answer: usage_project_daily (no key) for every report that neither
// groups nor filters by key; usage_key_daily (key and day only) when the key is involved but the model
// and provider are not; usage_daily (key, model, provider, price) otherwise.
type Rollup = typeof usageDaily | typeof usageProjectDaily | typeof usageKeyDaily

function rollupFor(group: UsageGroup, filter: UsageFilter): Rollup {
  const byKey = group === 'api_key' || filter.apiKeyId !== undefined
  const byModel =
    group === 'model' || group === 'provider' || filter.model !== undefined || filter.provider !== undefined
  return !byKey ? usageProjectDaily : byModel ? usageDaily : usageKeyDaily
}

function groupColumn(t: Rollup, group: UsageGroup): SQL {
  if (group === 'day') return sql`to_char(${t.day}, 'YYYY-MM-DD')`
  if (group === 'model') return sql`${(t as typeof usageDaily).model}`
  if (group === 'provider') return sql`${(t as typeof usageDaily).provider}`
  if (group === 'project') return sql`${t.projectId}`
  return sql`${(t as typeof usageDaily).apiKeyId}::text`
}

// Sums as text: bigint and numeric sums stay exact through the driver, converted once in toSums.
function rollupSums(t: Rollup) {
  return {
    requests: sql<string>`coalesce(sum(${t.requests}), 0)::text`,
    success: sql<string>`coalesce(sum(${t.success}), 0)::text`,
    failed: sql<string>`coalesce(sum(${t.failed}), 0)::text`,
    prompt_tokens: sql<string>`coalesce(sum(${t.promptTokens}), 0)::text`,
    completion_tokens: sql<string>`coalesce(sum(${t.completionTokens}), 0)::text`,
    total_tokens: sql<string>`coalesce(sum(${t.totalTokens}), 0)::text`,
    cache_read_tokens: sql<string>`coalesce(sum(${t.cacheReadTokens}), 0)::text`,
    cache_write_tokens: sql<string>`coalesce(sum(${t.cacheWriteTokens}), 0)::text`,
    reasoning_tokens: sql<string>`coalesce(sum(${t.reasoningTokens}), 0)::text`,
    cost_usd: sql<string>`coalesce(sum(${t.costUsd}), 0)::numeric(24, 12)::text`,
    charge_usd: sql<string>`coalesce(sum(${t.chargeUsd}), 0)::numeric(24, 12)::text`,
  }
}

export const cacheReadShare = (cacheRead: number, prompt: number) =>
  prompt > 0 ? Math.round((cacheRead / prompt) * 10_000) / 10_000 : null

function toSums(row: Record<Exclude<keyof UsageSums, 'cache_read_share'>, string>): UsageSums {
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
    charge_usd: row.charge_usd,
    cache_read_share: cacheReadShare(Number(row.cache_read_tokens), Number(row.prompt_tokens)),
  }
}

function rollupWhere(t: Rollup, fromDay: string, toDay: string, filter: UsageFilter) {
  return and(
    gte(t.day, fromDay),
    lt(t.day, toDay),
    filter.apiKeyId === undefined ? undefined : eq((t as typeof usageDaily).apiKeyId, filter.apiKeyId),
    filter.projectId === undefined ? undefined : eq(t.projectId, filter.projectId),
    filter.model === undefined ? undefined : eq((t as typeof usageDaily).model, filter.model),
    filter.provider === undefined ? undefined : eq((t as typeof usageDaily).provider, filter.provider),
  )
}

// Grouped rows and the totals from a daily rollup, days [fromDay, toDay): the totals are one more
// grouping set of the same scan (a row whose grouping() is 1).
export async function usageReport(
  db: Db,
  group: UsageGroup,
  fromDay: string,
  toDay: string,
  filter: UsageFilter,
) {
  const t = rollupFor(group, filter)
  const key = groupColumn(t, group)
  const rows = await db
    .select({ key: sql<string>`${key}`, ...rollupSums(t), is_total: sql<number>`grouping(${key})` })
    .from(t as typeof usageDaily)
    .where(rollupWhere(t, fromDay, toDay, filter))
    .groupBy(sql`grouping sets ((${key}), ())`)
    .orderBy(key)
  const groups = rows.filter((row) => Number(row.is_total) === 0)
  const totals = rows.find((row) => Number(row.is_total) !== 0)!
  return { groups: groups.map((g) => ({ key: g.key, ...toSums(g) })), totals: toSums(totals) }
}

const cursorAt = sql<string>`to_char(${usageLogs.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`

// Rows strictly before (newest first) or after (oldest first) a cursor, in (created_at, id) order: the
// row comparison walks the (…, created_at, id) indexes and the window prunes the month partitions.
export function pastCursor(cursor: UsageLogCursor | undefined, direction: 'before' | 'after') {
  if (!cursor) return undefined
  return direction === 'before'
    ? sql`(${usageLogs.createdAt}, ${usageLogs.id}) < (${cursor.at}::timestamptz, ${cursor.id})`
    : sql`(${usageLogs.createdAt}, ${usageLogs.id}) > (${cursor.at}::timestamptz, ${cursor.id})`
}

const usageLogColumns = { ...getTableColumns(usageLogs), cursorAt }

// Raw rows for drill-down, newest first, keyset-paginated on (created_at, id) within the window.
export async function listUsageLogs(
  db: Db,
  from: Date,
  to: Date,
  filter: UsageLogFilter,
  limit: number,
  before?: UsageLogCursor,
) {
  const errorsOnly = filter.status === 'error' || (typeof filter.status === 'number' && filter.status >= 400)
  return db
    .select(usageLogColumns)
    .from(usageLogs)
    .where(
      and(
        gte(usageLogs.createdAt, from),
        lt(usageLogs.createdAt, to),
        pastCursor(before, 'before'),
        filter.requestId === undefined ? undefined : eq(usageLogs.requestId, filter.requestId),
        filter.apiKeyId === undefined ? undefined : eq(usageLogs.apiKeyId, filter.apiKeyId),
        filter.projectId === undefined ? undefined : eq(usageLogs.projectId, filter.projectId),
        filter.model === undefined ? undefined : eq(usageLogs.model, filter.model),
        // Spelled as the partial index's predicate, so errors (a few rows among many) are read from it.
        errorsOnly ? gte(usageLogs.status, 400) : undefined,
        filter.status === 'ok' ? lt(usageLogs.status, 400) : undefined,
        typeof filter.status === 'number' ? eq(usageLogs.status, filter.status) : undefined,
        // The rollup files a row without a provider under ''; the same filter finds it here.
        filter.provider === undefined
          ? undefined
          : sql`coalesce(${usageLogs.provider}, '') = ${filter.provider}`,
      ),
    )
    .orderBy(sql`${usageLogs.createdAt} desc, ${usageLogs.id} desc`)
    .limit(limit)
}
