import { asc, eq, sql } from 'drizzle-orm'
import { projects } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'

export type ProjectRow = typeof projects.$inferSelect
export type ProjectChanges = Partial<Omit<typeof projects.$inferInsert, 'id' | 'createdAt'>>

export async function listProjectRows(db: Db): Promise<ProjectRow[]> {
  return db.select().from(projects).orderBy(asc(projects.id))
}

export async function findProject(db: Db, id: string): Promise<ProjectRow | undefined> {
  const rows = await db.select().from(projects).where(eq(projects.id, id)).limit(1)
  return rows[0]
}

// A query for the same batch as a key write: the key's project exists afterwards, without limits
// when it is new (an existing project is left as it is).
export function ensureProject(db: Db, id: string) {
  return db.insert(projects).values({ id, name: id }).onConflictDoNothing({ target: projects.id })
}

export async function insertProject(db: Db, row: ProjectRow, audit: AuditEntry): Promise<ProjectRow> {
  const [[created]] = await db.batch([db.insert(projects).values(row).returning(), auditInsert(db, audit)])
  return created!
}

export async function updateProject(
  db: Db,
  id: string,
  changes: ProjectChanges,
  audit: AuditEntry,
): Promise<ProjectRow | undefined> {
  const [[updated]] = await db.batch([
    db.update(projects).set(changes).where(eq(projects.id, id)).returning(),
    auditInsert(db, audit),
  ])
  return updated
}

// Every project with a budget, for the cron's counter reconciliation.
export async function budgetedProjectIds(db: Db): Promise<string[]> {
  const rows = await db
    .select({ id: projects.id })
    .from(projects)
    .where(sql`${projects.dailyBudget} is not null or ${projects.monthlyBudget} is not null`)
  return rows.map((r) => r.id)
}
