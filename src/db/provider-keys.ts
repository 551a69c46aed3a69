import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { providerKeys } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'

// Stored (sealed) upstream keys. Writes go in one batch with their audit rows.
export type ProviderKeyRow = typeof providerKeys.$inferSelect
export type NewProviderKey = typeof providerKeys.$inferInsert & { id: string }
export type KeyState = 'active' | 'disabled' | 'invalid'

export async function listProviderKeys(db: Db, providerIds?: string[]): Promise<ProviderKeyRow[]> {
  if (providerIds?.length === 0) return []
  return db
    .select()
    .from(providerKeys)
    .where(providerIds ? inArray(providerKeys.providerId, providerIds) : undefined)
    .orderBy(asc(providerKeys.createdAt), asc(providerKeys.id))
}

// The writes that add keys to a provider's pool (with `replace`, after removing its other keys) and
// audit them, for a db.batch of their own or of the provider's insert/update.
export function keyWrites(
  db: Db,
  providerId: string,
  rows: NewProviderKey[],
  entries: AuditEntry[],
  replace = false,
): BatchItem<'pg'>[] {
  return [
    ...(replace ? [db.delete(providerKeys).where(eq(providerKeys.providerId, providerId))] : []),
    ...(rows.length ? [db.insert(providerKeys).values(rows)] : []),
    ...entries.map((entry) => auditInsert(db, entry)),
  ]
}

export async function setProviderKeyState(
  db: Db,
  providerId: string,
  keyId: string,
  state: KeyState,
  entry: AuditEntry,
): Promise<ProviderKeyRow | undefined> {
  const [[row]] = await db.batch([
    db
      .update(providerKeys)
      .set({ state, updatedAt: sql`now()` })
      .where(and(eq(providerKeys.id, keyId), eq(providerKeys.providerId, providerId)))
      .returning(),
    auditInsert(db, entry),
  ])
  return row
}

export async function deleteProviderKey(
  db: Db,
  providerId: string,
  keyId: string,
  entry: AuditEntry,
): Promise<boolean> {
  const [deleted] = await db.batch([
    db
      .delete(providerKeys)
      .where(and(eq(providerKeys.id, keyId), eq(providerKeys.providerId, providerId)))
      .returning({ id: providerKeys.id }),
    auditInsert(db, entry),
  ])
  return deleted.length > 0
}

// The gateway's own write when an upstream refuses a key: only an active key becomes invalid (an
// operator's disable or removal in the meantime stands), and only that change is audited.
export async function markProviderKeyInvalid(db: Db, keyId: string, entry: AuditEntry): Promise<void> {
  await db.execute(sql`
    WITH changed AS (
      UPDATE provider_keys SET state = 'invalid', updated_at = now()
      WHERE id = ${keyId} AND state = 'active' RETURNING id
    )
    INSERT INTO admin_audit (actor, action, target_type, target_id, before, after)
    SELECT ${entry.actor}, ${entry.action}, ${entry.targetType}, ${entry.targetId},
      ${JSON.stringify(entry.before)}::jsonb, ${JSON.stringify(entry.after)}::jsonb
    FROM changed`)
}

// Re-sealed ciphertexts, each written only if the row still holds what was read (a concurrent write wins).
export async function resealProviderKeys(
  db: Db,
  updates: { id: string; from: string; ciphertext: string; kekVersion: string }[],
  entry: AuditEntry,
  // Other secrets re-sealed in the same batch (webhook secrets).
  more: unknown[] = [],
): Promise<void> {
  await db.batch([
    ...(more as never[]),
    ...updates.map((u) =>
      db
        .update(providerKeys)
        .set({ ciphertext: u.ciphertext, kekVersion: u.kekVersion })
        .where(and(eq(providerKeys.id, u.id), eq(providerKeys.ciphertext, u.from))),
    ),
    auditInsert(db, entry),
  ] as never)
}
