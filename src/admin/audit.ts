import { listAudit } from '../db/audit'
import type { Admin } from './context'
import { decodeCursor, page } from './query'
import { serializeAudit } from './serialize'

// The audit log, newest first. Entries hold serialized objects, which never include secrets or hashes.
export async function auditLog(admin: Admin, query: { limit: number; cursor?: string }) {
  const [beforeId] = query.cursor ? decodeCursor(query.cursor, [/^\d{1,18}$/]) : []
  const rows = await listAudit(admin.deps.db, query.limit + 1, beforeId ? Number(beforeId) : undefined)
  return page(rows, query.limit, serializeAudit, (row) => [String(row.id)])
}
