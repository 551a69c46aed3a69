import { and, eq, gte, lt, sql } from 'drizzle-orm'
import { usageLogs } from '../../drizzle/schema'
import type { Db } from './client'
import { pastCursor, usageLogColumns, type UsageLogCursor } from './usage-report'

export type UsageLogRow = typeof usageLogs.$inferSelect & { cursorAt: string }
export type ExportFilter = { from: Date; to: Date; projectId?: string; apiKeyId?: string }

// One page of an export, oldest first, keyset-paginated on (created_at, id) inside the window: each page
// is an index seek into the months the window covers, so the last page of an old month costs what the
// first does.
export async function exportPage(
  db: Db,
  filter: ExportFilter,
  after: UsageLogCursor | undefined,
  limit: number,
): Promise<UsageLogRow[]> {
  return db
    .select(usageLogColumns)
    .from(usageLogs)
    .where(
      and(
        gte(usageLogs.createdAt, filter.from),
        lt(usageLogs.createdAt, filter.to),
        pastCursor(after, 'after'),
        filter.projectId === undefined ? undefined : eq(usageLogs.projectId, filter.projectId),
        filter.apiKeyId === undefined ? undefined : eq(usageLogs.apiKeyId, filter.apiKeyId),
      ),
    )
    .orderBy(sql`${usageLogs.createdAt}, ${usageLogs.id}`)
    .limit(limit)
}
