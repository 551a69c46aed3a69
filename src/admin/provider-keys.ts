import type { ProviderRow } from '../db/catalog'
import { keyWrites, listProviderKeys, type NewProviderKey, type ProviderKeyRow } from '../db/provider-keys'
import { providerApiKey, providerVar, type Config } from '../env'
import { GatewayError } from '../errors'
import { KEY_HELP, keyringFor } from '../secrets/keyring'
import { hintOf, open, seal } from '../secrets/seal'
import { audit, type Admin } from './context'

// Stored upstream keys as the admin API shows them: an id, the last 4 characters and a state, never
// the key. `unreadable`: no configured SECRETS_KEY opens it (routing skips it).
export type KeyView = {
  id: string
  object: 'provider_key'
  hint: string
  state: 'active' | 'disabled' | 'invalid' | 'unreadable'
  last_used_at: string | null
  created_at: string
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString())

async function keyViews(config: Config, rows: ProviderKeyRow[]): Promise<Map<string, KeyView[]>> {
  const ring = await keyringFor(config)
  const views = new Map<string, KeyView[]>()
  for (const row of rows) {
    const readable = (await open(ring, row.providerId, row)) !== null
    const view: KeyView = {
      id: row.id,
      object: 'provider_key',
      hint: row.hint,
      state: readable ? (row.state as KeyView['state']) : 'unreadable',
      last_used_at: iso(row.lastUsedAt),
      created_at: iso(row.createdAt)!,
    }
    views.set(row.providerId, [...(views.get(row.providerId) ?? []), view])
  }
  return views
}

export async function viewsOf(admin: Admin, providerIds?: string[]) {
  return keyViews(admin.deps.config, await listProviderKeys(admin.deps.db, providerIds))
}

// Where routing takes this provider's key from, in the order it looks.
export function apiKeySource(row: Pick<ProviderRow, 'name' | 'apiKeyRef'>, config: Config, keys: KeyView[]) {
  if (providerVar(config, row.name, 'API_KEY')) return 'env' as const
  if (keys.some((k) => k.state === 'active')) return 'stored' as const
  if (providerApiKey(config, row)) return 'ref' as const
  return 'none' as const
}

// Seals keys for one provider under the current SECRETS_KEY; without a usable one, a 400 that says
// what to set.
export async function sealKeys(
  admin: Admin,
  providerId: string,
  secrets: string[],
  param: string,
): Promise<NewProviderKey[]> {
  const ring = await keyringFor(admin.deps.config)
  const kek = ring.current
  if (!kek) {
    const why = ring.problem ?? `SECRETS_KEY is not set. ${KEY_HELP}`
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `Provider keys cannot be stored: ${why}`,
      param,
    })
  }
  const now = new Date(admin.deps.now())
  return Promise.all(
    [...new Set(secrets)].map(async (secret) => ({
      id: crypto.randomUUID(),
      providerId,
      ...(await seal(kek, providerId, secret)),
      hint: hintOf(secret),
      state: 'active',
      createdAt: now,
      updatedAt: now,
    })),
  )
}

export function keyAudit(
  admin: Admin,
  action: 'added' | 'removed',
  providerId: string,
  key: { id: string; hint: string },
) {
  const detail = { key_id: key.id, hint: key.hint }
  return audit(
    admin,
    `provider.api_key_${action}`,
    { type: 'provider', id: providerId },
    action === 'removed' ? detail : null,
    action === 'added' ? detail : null,
  )
}

// The batch items that give a provider exactly `secrets` as its stored keys (PATCH api_key/api_keys,
// POST with keys), each added and removed key audited with its hint.
export async function replaceKeys(admin: Admin, providerId: string, secrets: string[], param: string) {
  const rows = secrets.length ? await sealKeys(admin, providerId, secrets, param) : []
  const removed = await listProviderKeys(admin.deps.db, [providerId])
  const entries = [
    ...removed.map((k) => keyAudit(admin, 'removed', providerId, k)),
    ...rows.map((k) => keyAudit(admin, 'added', providerId, k)),
  ]
  return keyWrites(admin.deps.db, providerId, rows, entries, true)
}

// The body's api_key/api_keys as a list of keys, or undefined when neither is present.
export function requestedKeys(body: { api_key?: string | null; api_keys?: string[] }) {
  if (body.api_keys !== undefined) return { secrets: body.api_keys, param: 'api_keys' }
  if (body.api_key !== undefined)
    return { secrets: body.api_key === null ? [] : [body.api_key], param: 'api_key' }
  return undefined
}
