import { and, eq, gte, lt, sql } from 'drizzle-orm'
import { usageLogs } from '../../drizzle/schema'
import type { Db } from './client'

// A project's month from the raw usage rows (the rollup has no price versions), grouped by model and
// provider in Postgres: the answer is small however busy the month was.
const sums = {
  requests: sql<string>`count(*)::text`,
  success: sql<string>`count(*) filter (where ${usageLogs.status} between 200 and 399)::text`,
  failed: sql<string>`count(*) filter (where ${usageLogs.status} not between 200 and 399)::text`,
  prompt_tokens: sql<string>`coalesce(sum(${usageLogs.promptTokens}), 0)::text`,
  // The prompt's buckets: uncached input, prompt-cache reads and writes (they sum to prompt_tokens).
  input_tokens: sql<string>`coalesce(sum(${usageLogs.promptTokens} - ${usageLogs.cacheReadTokens} - ${usageLogs.cacheWrite5mTokens} - ${usageLogs.cacheWrite1hTokens}), 0)::text`,
  cache_read_tokens: sql<string>`coalesce(sum(${usageLogs.cacheReadTokens}), 0)::text`,
  cache_write_tokens: sql<string>`coalesce(sum(${usageLogs.cacheWrite5mTokens} + ${usageLogs.cacheWrite1hTokens}), 0)::text`,
  completion_tokens: sql<string>`coalesce(sum(${usageLogs.completionTokens}), 0)::text`,
  total_tokens: sql<string>`coalesce(sum(${usageLogs.totalTokens}), 0)::text`,
  cost_usd: sql<string>`coalesce(sum(${usageLogs.costUsd}), 0)::numeric(24, 12)::text`,
}
export type StatementSums = { [K in keyof typeof sums]: string }

// "<price model>@<effective_from ISO>" for each price version applied in the group.
const priceVersions = sql<
  string[] | null
>`array_agg(distinct ${usageLogs.priceModel} || '@' || to_char(${usageLogs.priceEffectiveFrom} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) filter (where ${usageLogs.priceModel} is not null)`

export async function statementRows(db: Db, projectId: string, from: Date, to: Date) {
  const where = and(
    eq(usageLogs.projectId, projectId),
    gte(usageLogs.createdAt, from),
    lt(usageLogs.createdAt, to),
  )
  const provider = sql<string>`coalesce(${usageLogs.provider}, '')`
  const [groups, [totals]] = await db.batch([
    db
      .select({ model: usageLogs.model, provider, ...sums, price_versions: priceVersions })
      .from(usageLogs)
      .where(where)
      .groupBy(usageLogs.model, provider)
      .orderBy(usageLogs.model, provider),
    db.select(sums).from(usageLogs).where(where),
  ])
  return { groups, totals: totals! }
}
