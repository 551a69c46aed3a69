import { eq } from 'drizzle-orm'
import { apiKeys, modelMappings, prices, providerKeys, providers } from '../../drizzle/schema'
import { usdToMicros, type Price } from '../lib/money'
import type { KeyPool } from '../secrets/pool'
import type { Db } from './client'
import type { ProviderKeyRow } from './provider-keys'

export type ProviderRow = typeof providers.$inferSelect
export type MappingRow = typeof modelMappings.$inferSelect
export type PriceVersion = Price & { effectiveFrom: number }

// Everything routing and pricing need, in one HTTP round trip (a batch of four small selects).
export type Catalog = {
  providers: Map<string, ProviderRow>
  mappingsByModel: Map<string, MappingRow[]>
  // Newest first.
  pricesByModel: Map<string, PriceVersion[]>
  // Active stored keys, still sealed; cache.ts opens them into keyPools (by provider id) once per load.
  sealedKeys?: ProviderKeyRow[]
  keyPools?: Map<string, KeyPool>
  // Whether any virtual key may be in the unsigned format (src/lib/key-mac.ts); while none is, that
  // format is refused without a lookup.
  legacyKeys: boolean
}

export async function loadCatalog(db: Db): Promise<Catalog> {
  const [providerRows, mappingRows, priceRows, sealedKeys, legacyKeys] = await db.batch([
    db.select().from(providers),
    db.select().from(modelMappings),
    db.select().from(prices),
    db.select().from(providerKeys).where(eq(providerKeys.state, 'active')),
    db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.legacy, true)).limit(1),
  ])
  const mappingsByModel = new Map<string, MappingRow[]>()
  for (const m of mappingRows) mappingsByModel.set(m.model, [...(mappingsByModel.get(m.model) ?? []), m])
  const pricesByModel = new Map<string, PriceVersion[]>()
  for (const p of priceRows) {
    const optional = (usd: string | null) => (usd === null ? null : usdToMicros(usd))
    const version = {
      inputMicrosPerMillion: usdToMicros(p.inputPerMillion),
      outputMicrosPerMillion: usdToMicros(p.outputPerMillion),
      cacheReadMicrosPerMillion: optional(p.cacheReadPerMillion),
      cacheWrite5mMicrosPerMillion: optional(p.cacheWrite5mPerMillion),
      cacheWrite1hMicrosPerMillion: optional(p.cacheWrite1hPerMillion),
      longContextThreshold: p.longContextThreshold,
      longInputMicrosPerMillion: optional(p.longInputPerMillion),
      longOutputMicrosPerMillion: optional(p.longOutputPerMillion),
      effectiveFrom: new Date(p.effectiveFrom).getTime(),
    }
    pricesByModel.set(p.model, [...(pricesByModel.get(p.model) ?? []), version])
  }
  for (const list of pricesByModel.values()) list.sort((a, b) => b.effectiveFrom - a.effectiveFrom)
  return {
    providers: new Map(providerRows.map((p) => [p.id, p])),
    mappingsByModel,
    pricesByModel,
    sealedKeys,
    legacyKeys: legacyKeys.length > 0,
  }
}

// A price as applied to one request: which model's price it is and which version.
export type AppliedPrice = Price & { model: string; effectiveFrom: number }

// What a request served by `upstreamModel` for the public `model` costs: the public model's own price
// (an operator can price an alias), else the serving upstream model's.
export function priceFor(
  catalog: Catalog,
  model: string,
  upstreamModel: string,
  at: number,
): AppliedPrice | undefined {
  for (const name of [model, upstreamModel]) {
    const version = catalog.pricesByModel.get(name)?.find((p) => p.effectiveFrom <= at)
    if (version) return { ...version, model: name }
  }
  return undefined
}
