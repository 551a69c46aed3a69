import { asc, desc, eq, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { modelMappings, prices, providers } from '../../drizzle/schema'
import { auditInsert, type AuditEntry } from './audit'
import type { Db } from './client'
import type { MappingRow, ProviderRow } from './catalog'

// Providers, model mappings and prices as the admin API reads and writes them. Every write goes in
// one batch with its audit row.
export type PriceRow = typeof prices.$inferSelect
export type MappingWithProvider = { mapping: MappingRow; providerName: string | null }
type NewProvider = Omit<typeof providers.$inferInsert, 'number'> & { id: string }
type NewMapping = typeof modelMappings.$inferInsert & { id: string }
type ProviderChanges = Partial<Omit<typeof providers.$inferInsert, 'id' | 'number' | 'createdAt'>>
type MappingChanges = Partial<Omit<typeof modelMappings.$inferInsert, 'id' | 'createdAt'>>

export async function listProviders(db: Db): Promise<ProviderRow[]> {
  return db.select().from(providers).orderBy(asc(providers.name))
}

// A provider named the way an operator may name it: its id, its number or its unique name.
export type ProviderRef = { id: string } | { number: number } | { name: string }

export async function findProviderByRef(db: Db, ref: ProviderRef): Promise<ProviderRow | undefined> {
  const where =
    'id' in ref
      ? eq(providers.id, ref.id)
      : 'number' in ref
        ? eq(providers.number, ref.number)
        : eq(providers.name, ref.name)
  return (await db.select().from(providers).where(where).limit(1))[0]
}

// `extra`: writes that belong to the same change (its stored keys), in the same batch.
export async function insertProvider(
  db: Db,
  row: NewProvider,
  audit: AuditEntry,
  extra: BatchItem<'pg'>[] = [],
): Promise<ProviderRow> {
  const [[created]] = await db.batch([
    db.insert(providers).values(row).returning(),
    auditInsert(db, audit),
    ...extra,
  ])
  return created!
}

export async function updateProvider(
  db: Db,
  id: string,
  changes: ProviderChanges,
  audit: AuditEntry,
  extra: BatchItem<'pg'>[] = [],
) {
  const [[updated]] = await db.batch([
    db.update(providers).set(changes).where(eq(providers.id, id)).returning(),
    auditInsert(db, audit),
    ...extra,
  ])
  return updated
}

const mappingColumns = { mapping: modelMappings, providerName: providers.name }

function selectMappings(db: Db, where?: SQL) {
  return db
    .select(mappingColumns)
    .from(modelMappings)
    .leftJoin(providers, eq(providers.id, modelMappings.providerId))
    .where(where)
    .orderBy(asc(modelMappings.model), asc(modelMappings.priority), asc(providers.name))
}

export async function listMappings(db: Db, model?: string): Promise<MappingWithProvider[]> {
  return selectMappings(db, model === undefined ? undefined : eq(modelMappings.model, model))
}

export async function findMapping(db: Db, id: string): Promise<MappingWithProvider | undefined> {
  return (await selectMappings(db, eq(modelMappings.id, id)))[0]
}

export async function insertMapping(db: Db, row: NewMapping, audit: AuditEntry): Promise<MappingRow> {
  const [[created]] = await db.batch([
    db.insert(modelMappings).values(row).returning(),
    auditInsert(db, audit),
  ])
  return created!
}

export async function updateMapping(db: Db, id: string, changes: MappingChanges, audit: AuditEntry) {
  const [[updated]] = await db.batch([
    db.update(modelMappings).set(changes).where(eq(modelMappings.id, id)).returning(),
    auditInsert(db, audit),
  ])
  return updated
}

export async function deleteMapping(db: Db, id: string, audit: AuditEntry): Promise<boolean> {
  const [deleted] = await db.batch([
    db.delete(modelMappings).where(eq(modelMappings.id, id)).returning({ id: modelMappings.id }),
    auditInsert(db, audit),
  ])
  return deleted.length > 0
}

export async function listPrices(db: Db, model?: string): Promise<PriceRow[]> {
  return db
    .select()
    .from(prices)
    .where(model === undefined ? undefined : eq(prices.model, model))
    .orderBy(asc(prices.model), desc(prices.effectiveFrom))
}

// A new version never touches older ones (past usage keeps the cost it was charged). Returns the
// model's versions after the insert, read in the same transaction.
export async function insertPrice(db: Db, row: typeof prices.$inferInsert, audit: AuditEntry) {
  const [[created], , versions] = await db.batch([
    db.insert(prices).values(row).returning(),
    auditInsert(db, audit),
    db.select().from(prices).where(eq(prices.model, row.model)).orderBy(desc(prices.effectiveFrom)),
  ])
  return { created: created!, versions }
}
