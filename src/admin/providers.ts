import {
  findProviderByRef,
  insertProvider,
  listProviders as selectProviders,
  updateProvider,
} from '../db/admin-catalog'
import type { WriteError } from '../db/admin-write'
import type { ProviderRow } from '../db/catalog'
import { providerEnvName, type Config } from '../env'
import { GatewayError } from '../errors'
import { readHealth, withHealth } from './circuits'
import { audit, commit, toColumns, type Admin } from './context'
import { replaceKeys, requestedKeys, viewsOf } from './provider-keys'
import { notFound, providerRef } from './query'
import type { ProviderCreate, ProviderPatch } from './schemas'
import { serializeProvider } from './serialize'
import { checkUpstreamAddress } from './upstream-address'

// Upstream providers. Their upstream key comes from PROVIDER_<NAME>_API_KEY, the stored keys (sealed,
// write-only: api_key / api_keys) or the Worker secret api_key_ref names; responses say which
// (api_key_source) and show stored keys only by hint.
const COLUMNS: Record<string, keyof ProviderRow> = {
  name: 'name',
  type: 'type',
  base_url: 'baseUrl',
  api_key_ref: 'apiKeyRef',
  enabled: 'enabled',
  timeout_ms: 'timeoutMs',
  max_retries: 'maxRetries',
  circuit: 'circuit',
}
const TARGET = 'provider'

function refuse(error: WriteError): GatewayError {
  if (error.reason === 'duplicate')
    return new GatewayError({
      code: 'conflict',
      message: 'A provider with this name already exists.',
      param: 'name',
    })
  return new GatewayError({ code: 'conflict', message: 'The provider is referenced by other rows.' })
}

// PROVIDER_<NAME>_* overrides are found by the upper-cased name with non-alphanumerics as "_", so
// `openai_main` or `OPENAI.MAIN` would silently take `openai-main`'s key and base URL.
async function refuseEnvCollision(admin: Admin, name: string, id: string) {
  const envName = providerEnvName(name)
  const other = (await selectProviders(admin.deps.db)).find(
    (p) => p.id !== id && providerEnvName(p.name) === envName,
  )
  if (other)
    throw new GatewayError({
      code: 'conflict',
      message: `The name '${name}' uses the same environment variables (PROVIDER_${envName}_*) as the provider '${other.name}'; choose another name.`,
      param: 'name',
    })
}

// The provider as its audit entries record it: stored keys have entries of their own (added/removed,
// with their hint), so the key source is left out rather than shown without them.
function auditView(row: Parameters<typeof serializeProvider>[0], config: Config) {
  const {
    has_api_key: _has,
    api_key_source: _source,
    stored_keys: _keys,
    ...rest
  } = serializeProvider(row, config)
  return rest
}

export async function listProviders(admin: Admin) {
  const rows = await selectProviders(admin.deps.db)
  const [health, keys] = await Promise.all([readHealth(admin.deps, rows), viewsOf(admin)])
  return {
    object: 'list' as const,
    data: rows.map((row, i) => ({
      ...serializeProvider(row, admin.deps.config, keys.get(row.id)),
      health: health[i],
    })),
  }
}

export async function createProvider(admin: Admin, body: ProviderCreate) {
  const now = new Date(admin.deps.now())
  const row: Omit<ProviderRow, 'number'> = {
    id: crypto.randomUUID(),
    name: body.name,
    type: 'openai',
    baseUrl: body.base_url,
    apiKeyRef: null,
    enabled: true,
    timeoutMs: 30_000,
    maxRetries: 1,
    circuit: {},
    createdAt: now,
    updatedAt: now,
    ...toColumns<ProviderRow>(body, COLUMNS),
  }
  const { config, db } = admin.deps
  checkUpstreamAddress(row.baseUrl, config.ALLOW_PRIVATE_UPSTREAMS)
  await refuseEnvCollision(admin, row.name, row.id)
  const requested = requestedKeys(body)
  const keyBatch = requested ? await replaceKeys(admin, row.id, requested.secrets, requested.param) : []
  const entry = audit(admin, 'provider.create', { type: TARGET, id: row.id }, null, auditView(row, config))
  return withHealth(admin, await commit(admin, () => insertProvider(db, row, entry, keyBatch), refuse))
}

// `ref` is the provider's id, number or name.
export async function patchProvider(admin: Admin, ref: string, body: ProviderPatch) {
  const { config, db } = admin.deps
  const current = await findProviderByRef(db, providerRef(ref))
  if (!current) throw notFound('provider', ref)
  const id = current.id
  if (body.base_url !== undefined) checkUpstreamAddress(body.base_url, config.ALLOW_PRIVATE_UPSTREAMS)
  if (body.name !== undefined) await refuseEnvCollision(admin, body.name, id)
  const changes = { ...toColumns<ProviderRow>(body, COLUMNS), updatedAt: new Date(admin.deps.now()) }
  const requested = requestedKeys(body)
  const keyBatch = requested ? await replaceKeys(admin, id, requested.secrets, requested.param) : []
  const before = auditView(current, config)
  const entry = audit(
    admin,
    'provider.update',
    { type: TARGET, id },
    before,
    auditView({ ...current, ...changes }, config),
  )
  const updated = await commit(admin, () => updateProvider(db, id, changes, entry, keyBatch), refuse)
  if (!updated) throw notFound('provider', ref)
  return withHealth(admin, updated)
}
