import { and, desc, eq, getTableColumns, sql } from 'drizzle-orm'
import { redemptionCodes } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'

export type CodeRow = typeof redemptionCodes.$inferSelect
export type NewCode = typeof redemptionCodes.$inferInsert
export type CodePageRow = CodeRow & { cursorAt: string }

export async function insertCodes(db: Db, rows: NewCode[], audit: AuditEntry): Promise<CodeRow[]> {
  const [created] = await db.batch([
    db.insert(redemptionCodes).values(rows).returning(),
    auditInsert(db, audit),
  ])
  return created
}

// Newest first, keyset-paginated on (created_at, id).
export async function listCodesPage(
  db: Db,
  limit: number,
  filter: { state?: string; projectId?: string },
  after?: { at: string; id: string },
): Promise<CodePageRow[]> {
  return db
    .select({
      ...getTableColumns(redemptionCodes),
      cursorAt: sql<string>`to_char(${redemptionCodes.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(redemptionCodes)
    .where(
      and(
        filter.state ? eq(redemptionCodes.state, filter.state) : undefined,
        filter.projectId ? eq(redemptionCodes.projectId, filter.projectId) : undefined,
        after &&
          sql`(${redemptionCodes.createdAt}, ${redemptionCodes.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`,
      ),
    )
    .orderBy(desc(redemptionCodes.createdAt), desc(redemptionCodes.id))
    .limit(limit)
}

export async function findCode(db: Db, id: string): Promise<CodeRow | undefined> {
  const rows = await db.select().from(redemptionCodes).where(eq(redemptionCodes.id, id)).limit(1)
  return rows[0]
}

// Only an active code can be revoked (and only then audited); undefined when it is not (any more).
export async function revokeCode(
  db: Db,
  id: string,
  at: Date,
  audit: AuditEntry,
): Promise<CodeRow | undefined> {
  const result = await db.execute<{ id: string }>(sql`
    WITH revoked AS (
      UPDATE redemption_codes SET state = 'revoked', updated_at = ${at.toISOString()}::timestamptz
      WHERE id = ${id}::uuid AND state = 'active' RETURNING id
    ), audit AS (
      INSERT INTO admin_audit (actor, action, target_type, target_id, before, after)
      SELECT ${audit.actor}, ${audit.action}, ${audit.targetType}, ${audit.targetId},
        ${JSON.stringify(audit.before)}::jsonb, ${JSON.stringify(audit.after)}::jsonb FROM revoked
    )
    SELECT id FROM revoked`)
  return result.rows[0] ? findCode(db, id) : undefined
}

export type Redeemed = { creditId: number; amountUsd: string; codeId: string; wasPrepaid: boolean }

// One statement, so one transaction: the code turns redeemed only if it is active, unexpired and open to
// this project (a conditional UPDATE, so of any number of concurrent redemptions exactly one matches
// the row), and only then the credit, the project turning prepaid (created if it has no row yet) and
// the audit entry are written. Every sub-statement sees the snapshot from before the statement, so
// `was_prepaid` is the project's state before this redemption.
export async function redeemCode(
  db: Db,
  r: { codeHash: string; projectId: string; keyId: string; actor: string },
): Promise<Redeemed | null> {
  const result = await db.execute<{
    credit_id: string
    amount_usd: string
    code_id: string
    was_prepaid: boolean
  }>(sql`
    WITH code AS (
      UPDATE redemption_codes SET state = 'redeemed', redeemed_project_id = ${r.projectId},
        redeemed_key_id = ${r.keyId}::uuid, redeemed_at = now(), updated_at = now()
      WHERE code_hash = ${r.codeHash} AND state = 'active' AND (expires_at IS NULL OR expires_at > now())
        AND (project_id IS NULL OR project_id = ${r.projectId})
      RETURNING id, amount_usd
    ), credit AS (
      INSERT INTO credits (project_id, amount_usd, kind, note, code_id, actor)
      SELECT ${r.projectId}, amount_usd, 'redemption', NULL, id, ${r.actor} FROM code
      RETURNING id, amount_usd, code_id
    ), project AS (
      INSERT INTO projects (id, name, prepaid_since) SELECT ${r.projectId}, ${r.projectId}, now() FROM code
      ON CONFLICT (id) DO UPDATE SET prepaid_since = coalesce(projects.prepaid_since, EXCLUDED.prepaid_since)
    ), audit AS (
      INSERT INTO admin_audit (actor, action, target_type, target_id, before, after)
      SELECT ${r.actor}, 'redemption_code.redeem', 'redemption_code', id::text, NULL,
        json_build_object('project_id', ${r.projectId}::text, 'amount_usd', amount_usd, 'api_key_id', ${r.keyId}::text)
      FROM code
    )
    SELECT credit.id::text AS credit_id, credit.amount_usd::text AS amount_usd, credit.code_id::text AS code_id,
      (SELECT prepaid_since IS NOT NULL FROM projects WHERE id = ${r.projectId}) IS TRUE AS was_prepaid
    FROM credit`)
  const row = result.rows[0]
  if (!row) return null
  return {
    creditId: Number(row.credit_id),
    amountUsd: row.amount_usd,
    codeId: row.code_id,
    wasPrepaid: row.was_prepaid,
  }
}
