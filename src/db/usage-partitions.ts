import { sql } from 'drizzle-orm'
import type { Db } from './client'

// usage_logs is partitioned by UTC month: usage_logs_YYYY_MM holds [YYYY-MM-01, next month), and
// usage_logs_default whatever falls outside every month (nothing, while the months ahead exist).
const partitionName = (month: string) => `usage_logs_${month.replace('-', '_')}`
const MONTH_OF = /^usage_logs_(\d{4})_(\d{2})$/

// The months that have a partition, "YYYY-MM", oldest first.
export async function usagePartitionMonths(db: Db): Promise<string[]> {
  const { rows } = await db.execute<{ name: string }>(sql`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'usage_logs'::regclass`)
  return rows
    .map((row) => MONTH_OF.exec(row.name))
    .filter((m) => m !== null)
    .map((m) => `${m[1]}-${m[2]}`)
    .sort()
}

// Creates a month's partition in one transaction: rows that already sit in the default partition for
// that month move into it first (attaching refuses a month the default still holds rows of).
export async function createUsagePartition(db: Db, month: string, from: Date, to: Date): Promise<void> {
  const table = sql.identifier(partitionName(month))
  const [a, b] = [from.toISOString(), to.toISOString()]
  await db.batch([
    db.execute(sql`SET LOCAL lock_timeout = '2s'`),
    db.execute(sql`CREATE TABLE ${table} (LIKE usage_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`),
    db.execute(sql`WITH moved AS (DELETE FROM usage_logs_default WHERE created_at >= ${a} AND created_at < ${b}
      RETURNING *) INSERT INTO ${table} SELECT * FROM moved`),
    db.execute(
      sql`ALTER TABLE usage_logs ATTACH PARTITION ${table} FOR VALUES FROM (${sql.raw(`'${a}'`)}) TO (${sql.raw(`'${b}'`)})`,
    ),
  ])
}

// Retention: a whole month goes at once (no row-by-row DELETE, no VACUUM to get the space back), with
// the rollup's days before the cutoff and any stray default-partition rows.
export async function dropUsageBefore(db: Db, months: string[], cutoff: Date): Promise<void> {
  const at = cutoff.toISOString()
  await db.batch([
    db.execute(sql`SET LOCAL lock_timeout = '2s'`),
    ...months.map((month) => db.execute(sql`DROP TABLE IF EXISTS ${sql.identifier(partitionName(month))}`)),
    db.execute(sql`DELETE FROM usage_logs_default WHERE created_at < ${at}`),
    db.execute(sql`DELETE FROM usage_daily WHERE day < (${at}::timestamptz AT TIME ZONE 'UTC')::date`),
    db.execute(
      sql`DELETE FROM usage_project_daily WHERE day < (${at}::timestamptz AT TIME ZONE 'UTC')::date`,
    ),
    db.execute(sql`DELETE FROM usage_key_daily WHERE day < (${at}::timestamptz AT TIME ZONE 'UTC')::date`),
  ])
}
