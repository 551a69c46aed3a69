import { eq } from 'drizzle-orm'
import { apiKeys } from '../../drizzle/schema'
import type { Db } from './client'

export type KeyRow = typeof apiKeys.$inferSelect

export async function findKeyByHash(db: Db, keyHash: string): Promise<KeyRow | undefined> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash)).limit(1)
  return rows[0]
}
