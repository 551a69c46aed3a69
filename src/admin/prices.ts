import { insertPrice, listPrices as selectPrices, type PriceRow } from '../db/admin-catalog'
import { GatewayError } from '../errors'
import { audit, commit, type Admin } from './context'
import { ModelName, type PricePut } from './schemas'
import { serializePrice } from './serialize'

// Prices are versioned: setting one inserts a version effective from a given instant (default now)
// and never edits an older one, so what past requests were charged stays as it was. The current
// version of a model is its newest one already in effect.
function currentOf(versions: PriceRow[], now: number): PriceRow | undefined {
  return versions
    .filter((v) => new Date(v.effectiveFrom).getTime() <= now)
    .sort((a, b) => new Date(b.effectiveFrom).getTime() - new Date(a.effectiveFrom).getTime())[0]
}

export async function listPrices(admin: Admin) {
  const rows = await selectPrices(admin.deps.db)
  const now = admin.deps.now()
  const byModel = new Map<string, PriceRow[]>()
  for (const row of rows) byModel.set(row.model, [...(byModel.get(row.model) ?? []), row])
  const current = new Set([...byModel.values()].map((versions) => currentOf(versions, now)))
  return { object: 'list' as const, data: rows.map((row) => serializePrice(row, current.has(row))) }
}

export async function putPrice(admin: Admin, model: string, body: PricePut) {
  const name = ModelName.safeParse(model)
  if (!name.success)
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `Invalid model name: ${name.error.issues[0]!.message}`,
      param: 'model',
    })
  const row: PriceRow = {
    id: crypto.randomUUID(),
    model: name.data,
    inputPerMillion: body.input_per_million,
    outputPerMillion: body.output_per_million,
    cacheReadPerMillion: body.cache_read_per_million ?? null,
    cacheWrite5mPerMillion: body.cache_write_5m_per_million ?? null,
    cacheWrite1hPerMillion: body.cache_write_1h_per_million ?? null,
    longContextThreshold: body.long_context_threshold ?? null,
    longInputPerMillion: body.long_input_per_million ?? null,
    longOutputPerMillion: body.long_output_per_million ?? null,
    effectiveFrom: body.effective_from ?? new Date(admin.deps.now()),
    createdAt: new Date(admin.deps.now()),
  }
  // Whether the version is current depends on the others, known only after the insert.
  const { current: _, ...version } = serializePrice(row, false)
  const entry = audit(admin, 'price.create', { type: 'price', id: row.model }, null, version)
  const refuse = () =>
    new GatewayError({
      code: 'conflict',
      message: `A price version for '${row.model}' already starts at that instant.`,
      param: 'effective_from',
    })
  const { created, versions } = await commit(admin, () => insertPrice(admin.deps.db, row, entry), refuse)
  return serializePrice(created, currentOf(versions, admin.deps.now())?.id === created.id)
}
