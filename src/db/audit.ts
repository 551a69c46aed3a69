import { desc, lt } from 'drizzle-orm'
import { adminAudit } from '../../drizzle/schema'
import type { Db } from './client'

export type AuditRow = typeof adminAudit.$inferSelect
export type AuditEntry = {
  actor: string
  action: string
  targetType: string
  targetId: string | null
  before: unknown
  after: unknown
}

// A query, not a promise: callers put it in the same db.batch as the write it records.
export function auditInsert(db: Db, entry: AuditEntry) {
  return db.insert(adminAudit).values(entry)
}

// Newest first; `beforeId` is the last id of the previous page.
export async function listAudit(db: Db, limit: number, beforeId?: number): Promise<AuditRow[]> {
  return db
    .select()
    .from(adminAudit)
    .where(beforeId === undefined ? undefined : lt(adminAudit.id, beforeId))
    .orderBy(desc(adminAudit.id))
    .limit(limit)
}
