import { and, eq, getTableColumns } from 'drizzle-orm'
import { apiKeys, projects } from '../../drizzle/schema'
import type { Db } from './client'
import type { ProjectRow } from './projects'

export type KeyRow = typeof apiKeys.$inferSelect
// What the hot path caches per key: the key and its project's limits, loaded together (one query), so
// the project rides along under the same config version as the key (a project write bumps it too).
// `project` is null when no projects row exists for the key's project_id (then no project limits apply).
export type KeyRecord = KeyRow & { project: ProjectRow | null }

export async function findKeyByHash(db: Db, keyHash: string): Promise<KeyRecord | undefined> {
  const rows = await db
    .select({ key: getTableColumns(apiKeys), project: getTableColumns(projects) })
    .from(apiKeys)
    .leftJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(eq(apiKeys.keyHash, keyHash))
    .limit(1)
  const row = rows[0]
  return row && { ...row.key, project: row.project }
}

// A key flagged as possibly unsigned was just presented signed.
export async function markKeySigned(db: Db, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ legacy: false })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.legacy, true)))
}
