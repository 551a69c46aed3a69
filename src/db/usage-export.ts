import { and, asc, eq, gt, gte, lt } from 'drizzle-orm'
import { usageLogs } from '../../drizzle/schema'
import type { Db } from './client'

export type UsageLogRow = typeof usageLogs.$inferSelect
export type ExportFilter = { from: Date; to: Date; projectId?: string; apiKeyId?: string }

// One page of an export, oldest first, keyset-paginated on id (no OFFSET: each page is an index seek).
export async function exportPage(
  db: Db,
  filter: ExportFilter,
  afterId: number,
  limit: number,
): Promise<UsageLogRow[]> {
  return db
    .select()
    .from(usageLogs)
    .where(
      and(
        gt(usageLogs.id, afterId),
        gte(usageLogs.createdAt, filter.from),
        lt(usageLogs.createdAt, filter.to),
        filter.projectId === undefined ? undefined : eq(usageLogs.projectId, filter.projectId),
        filter.apiKeyId === undefined ? undefined : eq(usageLogs.apiKeyId, filter.apiKeyId),
      ),
    )
    .orderBy(asc(usageLogs.id))
    .limit(limit)
}
