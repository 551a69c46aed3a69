import { and, asc, desc, eq, inArray, lt, lte, sql } from 'drizzle-orm'
import { webhookDeliveries, webhooks } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'

export type WebhookRow = typeof webhooks.$inferSelect
export type DeliveryRow = typeof webhookDeliveries.$inferSelect
export type NewDelivery = typeof webhookDeliveries.$inferInsert
export type WebhookChanges = Partial<Omit<typeof webhooks.$inferInsert, 'id' | 'createdAt'>>

export const listWebhookRows = (db: Db) => db.select().from(webhooks).orderBy(asc(webhooks.createdAt))

export async function findWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  return (await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1))[0]
}

export async function insertWebhook(db: Db, row: WebhookRow, audit: AuditEntry): Promise<WebhookRow> {
  const [[created]] = await db.batch([db.insert(webhooks).values(row).returning(), auditInsert(db, audit)])
  return created!
}

export async function updateWebhook(db: Db, id: string, changes: WebhookChanges, audit: AuditEntry) {
  const [[updated]] = await db.batch([
    db.update(webhooks).set(changes).where(eq(webhooks.id, id)).returning(),
    auditInsert(db, audit),
  ])
  return updated as WebhookRow | undefined
}

export async function deleteWebhook(db: Db, id: string, audit: AuditEntry): Promise<boolean> {
  const [deleted] = await db.batch([
    db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }),
    auditInsert(db, audit),
  ])
  return deleted.length > 0
}

// Enabled webhooks subscribed to any of the given event types.
export async function subscribers(db: Db, types: string[]): Promise<WebhookRow[]> {
  return db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.enabled, true), sql`${webhooks.events} && ${sql.param(types)}::text[]`))
}

// New deliveries only: an event already recorded for a webhook is skipped (the unique index).
export async function insertDeliveries(db: Db, rows: NewDelivery[]): Promise<DeliveryRow[]> {
  if (rows.length === 0) return []
  return db.insert(webhookDeliveries).values(rows).onConflictDoNothing().returning()
}

// Claims up to `limit` due deliveries for one sender: their next attempt moves to `leaseUntil`, so an
// overlapping cron run does not send them too.
export async function claimDue(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<DeliveryRow[]> {
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit)
    .for('update', { skipLocked: true })
  return db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: leaseUntil })
    .where(inArray(webhookDeliveries.id, due))
    .returning()
}

export async function webhooksById(db: Db, ids: string[]): Promise<Map<string, WebhookRow>> {
  if (ids.length === 0) return new Map()
  const rows = await db.select().from(webhooks).where(inArray(webhooks.id, ids))
  return new Map(rows.map((r) => [r.id, r]))
}

export async function recordAttempt(db: Db, id: number, changes: Partial<NewDelivery>): Promise<void> {
  await db.update(webhookDeliveries).set(changes).where(eq(webhookDeliveries.id, id))
}

// Newest first, keyset-paginated on id.
export async function listDeliveries(db: Db, webhookId: string, limit: number, beforeId?: number) {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        beforeId === undefined ? undefined : lt(webhookDeliveries.id, beforeId),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit)
}

// A webhook secret sealed again (or for the first time), unless the row changed meanwhile.
export function resealWebhookSecret(
  db: Db,
  u: { id: string; from: string; ciphertext: string; kekVersion: string; hint: string },
) {
  return db
    .update(webhooks)
    .set({ secret: u.ciphertext, kekVersion: u.kekVersion, secretHint: u.hint })
    .where(and(eq(webhooks.id, u.id), eq(webhooks.secret, u.from)))
}
