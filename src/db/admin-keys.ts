import { desc, eq, getTableColumns, sql } from 'drizzle-orm'
import { apiKeys } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'
import type { KeyRow } from './keys'
import { ensureProject } from './projects'

export type NewKeyRow = typeof apiKeys.$inferInsert & { id: string }
export type KeyChanges = Partial<Omit<typeof apiKeys.$inferInsert, 'id' | 'createdAt'>>
// The exact created_at (microseconds, UTC) travels in the page cursor; a JS Date would round it.
export type KeyPageRow = KeyRow & { cursorAt: string }

export async function findKeyById(db: Db, id: string): Promise<KeyRow | undefined> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1)
  return rows[0]
}

// Newest first, keyset-paginated on (created_at, id).
export async function listKeysPage(
  db: Db,
  limit: number,
  after?: { at: string; id: string },
): Promise<KeyPageRow[]> {
  return db
    .select({
      ...getTableColumns(apiKeys),
      cursorAt: sql<string>`to_char(${apiKeys.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(apiKeys)
    .where(
      after && sql`(${apiKeys.createdAt}, ${apiKeys.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`,
    )
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(limit)
}

// The write and its audit row in one batch (one transaction over Neon's HTTP API), with the key's
// project created (without limits) if it does not exist yet.
export async function insertKey(db: Db, row: NewKeyRow, audit: AuditEntry): Promise<KeyRow> {
  const [[created]] = await db.batch([
    db.insert(apiKeys).values(row).returning(),
    ensureProject(db, row.projectId ?? 'default'),
    auditInsert(db, audit),
  ])
  return created!
}

export async function updateKey(
  db: Db,
  id: string,
  changes: KeyChanges,
  audit: AuditEntry,
): Promise<KeyRow | undefined> {
  const write = db.update(apiKeys).set(changes).where(eq(apiKeys.id, id)).returning()
  const [[updated]] = changes.projectId
    ? await db.batch([write, ensureProject(db, changes.projectId), auditInsert(db, audit)])
    : await db.batch([write, auditInsert(db, audit)])
  return updated
}
