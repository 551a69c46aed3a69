import {
  deleteMapping as removeMapping,
  findMapping,
  findProviderByRef,
  insertMapping,
  listMappings as selectMappings,
  updateMapping,
} from '../db/admin-catalog'
import type { WriteError } from '../db/admin-write'
import type { MappingRow } from '../db/catalog'
import { GatewayError } from '../errors'
import { audit, commit, toColumns, type Admin } from './context'
import { notFound, providerRef, rowId } from './query'
import type { MappingCreate, MappingPatch } from './schemas'
import { serializeMapping } from './serialize'

// Model mappings: a public model name routed to a provider's upstream model.
const COLUMNS: Record<string, keyof MappingRow> = {
  model: 'model',
  provider_id: 'providerId',
  upstream_model: 'upstreamModel',
  priority: 'priority',
  weight: 'weight',
  strategy: 'strategy',
  enabled: 'enabled',
  max_output_tokens: 'maxOutputTokens',
  capabilities: 'capabilities',
}
const TARGET = 'model_mapping'

const unknownProvider = (ref: string) =>
  new GatewayError({
    code: 'invalid_request_error',
    message: `No provider with id, number or name '${ref}'.`,
    param: 'provider_id',
  })

function refuse(providerId: string) {
  return (error: WriteError) =>
    error.reason === 'duplicate'
      ? new GatewayError({
          code: 'conflict',
          message: 'This model is already mapped to this provider.',
          param: 'provider_id',
        })
      : unknownProvider(providerId)
}

// provider_id in a body may be the provider's id, number or name; rows always hold the id.
async function resolveProvider(admin: Admin, ref: string): Promise<{ id: string; name: string }> {
  const provider = await findProviderByRef(admin.deps.db, providerRef(ref))
  if (!provider) throw unknownProvider(ref)
  return provider
}

export async function listMappings(admin: Admin, model?: string) {
  const rows = await selectMappings(admin.deps.db, model)
  return { object: 'list' as const, data: rows.map((r) => serializeMapping(r.mapping, r.providerName)) }
}

export async function createMapping(admin: Admin, body: MappingCreate) {
  const { id: providerId, name } = await resolveProvider(admin, body.provider_id)
  const now = new Date(admin.deps.now())
  const row: MappingRow = {
    id: crypto.randomUUID(),
    model: body.model,
    upstreamModel: body.model,
    priority: 1,
    weight: 1,
    strategy: 'priority',
    enabled: true,
    maxOutputTokens: null,
    capabilities: {},
    createdAt: now,
    updatedAt: now,
    ...toColumns<MappingRow>(body, COLUMNS),
    providerId,
  }
  const entry = audit(
    admin,
    'model_mapping.create',
    { type: TARGET, id: row.id },
    null,
    serializeMapping(row, name),
  )
  const created = await commit(admin, () => insertMapping(admin.deps.db, row, entry), refuse(row.providerId))
  return serializeMapping(created, name)
}

async function mustFind(admin: Admin, id: string) {
  const found = await findMapping(admin.deps.db, rowId(id, 'model mapping'))
  if (!found) throw notFound('model mapping', id)
  return found
}

export async function patchMapping(admin: Admin, id: string, body: MappingPatch) {
  const current = await mustFind(admin, id)
  const provider = body.provider_id ? await resolveProvider(admin, body.provider_id) : undefined
  const name = provider ? provider.name : current.providerName
  const changes = {
    ...toColumns<MappingRow>(body, COLUMNS),
    ...(provider && { providerId: provider.id }),
    updatedAt: new Date(admin.deps.now()),
  }
  const next = { ...current.mapping, ...changes }
  const before = serializeMapping(current.mapping, current.providerName)
  const entry = audit(
    admin,
    'model_mapping.update',
    { type: TARGET, id },
    before,
    serializeMapping(next, name),
  )
  const updated = await commit(
    admin,
    () => updateMapping(admin.deps.db, id, changes, entry),
    refuse(next.providerId),
  )
  if (!updated) throw notFound('model mapping', id)
  return serializeMapping(updated, name)
}

export async function deleteMapping(admin: Admin, id: string): Promise<void> {
  const current = await mustFind(admin, id)
  const before = serializeMapping(current.mapping, current.providerName)
  const entry = audit(admin, 'model_mapping.delete', { type: TARGET, id }, before, null)
  const deleted = await commit(
    admin,
    () => removeMapping(admin.deps.db, id, entry),
    refuse(current.mapping.providerId),
  )
  if (!deleted) throw notFound('model mapping', id)
}
