import { and, desc, eq, lt, sql } from 'drizzle-orm'
import { credits, projects, usageDaily, usageLogs } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'

export type CreditRow = typeof credits.$inferSelect
export type NewCredit = Pick<CreditRow, 'projectId' | 'amountUsd' | 'kind' | 'note' | 'actor'>

// The credit, its audit row and the project turning prepaid (at its first credit) in one batch.
export async function insertCredit(db: Db, credit: NewCredit, audit: AuditEntry): Promise<CreditRow> {
  const [[created]] = await db.batch([
    db.insert(credits).values(credit).returning(),
    db
      .update(projects)
      .set({ prepaidSince: sql`coalesce(${projects.prepaidSince}, now())` })
      .where(eq(projects.id, credit.projectId)),
    auditInsert(db, audit),
  ])
  return created!
}

// Newest first; `beforeId` is the last id of the previous page.
export async function listCreditsPage(
  db: Db,
  projectId: string,
  limit: number,
  beforeId?: number,
): Promise<CreditRow[]> {
  return db
    .select()
    .from(credits)
    .where(
      and(eq(credits.projectId, projectId), beforeId === undefined ? undefined : lt(credits.id, beforeId)),
    )
    .orderBy(desc(credits.id))
    .limit(limit)
}

// Σ credits and how many rows make it: the ledger is append-only, so a larger count is a later view.
export async function creditTotals(db: Db, projectId: string): Promise<{ usd: string; count: number }> {
  const [row] = await db
    .select({
      usd: sql<string>`coalesce(sum(${credits.amountUsd}), 0)::numeric(24, 12)::text`,
      count: sql<number>`count(*)::int`,
    })
    .from(credits)
    .where(eq(credits.projectId, projectId))
  return { usd: row?.usd ?? '0', count: Number(row?.count ?? 0) }
}

// Σ charge_usd of the project's usage rows since `since`: whole UTC days after it from the daily rollup,
// the rest of its own day from the rows.
export async function chargesSince(db: Db, projectId: string, since: Date): Promise<string> {
  const at = since.toISOString()
  const [row] = await db
    .execute<{ usd: string }>(
      sql`
    SELECT (
      coalesce((SELECT sum(${usageDaily.chargeUsd}) FROM ${usageDaily} WHERE ${usageDaily.projectId} = ${projectId}
        AND ${usageDaily.day} > (${at}::timestamptz AT TIME ZONE 'UTC')::date), 0)
      + coalesce((SELECT sum(${usageLogs.chargeUsd}) FROM ${usageLogs} WHERE ${usageLogs.projectId} = ${projectId}
        AND ${usageLogs.createdAt} >= ${at}::timestamptz
        AND ${usageLogs.createdAt} < ((${at}::timestamptz AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'), 0)
    )::numeric(24, 12)::text AS usd`,
    )
    .then((r) => r.rows)
  return row?.usd ?? '0'
}

// Every prepaid project, for the cron's balance reconciliation.
export async function prepaidProjects(db: Db): Promise<{ id: string; prepaidSince: Date }[]> {
  const rows = await db
    .select({ id: projects.id, prepaidSince: projects.prepaidSince })
    .from(projects)
    .where(sql`${projects.prepaidSince} is not null`)
  return rows.map((r) => ({ id: r.id, prepaidSince: r.prepaidSince! }))
}
