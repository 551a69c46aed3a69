import { findProviderByRef } from '../db/admin-catalog'
import { deleteProviderKey, keyWrites, listProviderKeys, setProviderKeyState } from '../db/provider-keys'
import { audit, commit, type Admin } from './context'
import { keyAudit, sealKeys, viewsOf } from './provider-keys'
import { notFound, providerRef, rowId } from './query'
import type { ProviderKeyAdd, ProviderKeyPatch } from './schemas'

// One stored key at a time: add to a provider's pool, disable/re-enable, remove. Each write bumps the
// config version, so every isolate routes with the new pool on its next request. `ref` is the
// provider's id, number or name.
const refuse = () => notFound('provider', '')

async function providerIdOf(admin: Admin, ref: string): Promise<string> {
  const row = await findProviderByRef(admin.deps.db, providerRef(ref))
  if (!row) throw notFound('provider', ref)
  return row.id
}

async function viewOf(admin: Admin, providerId: string, keyId: string) {
  const view = (await viewsOf(admin, [providerId])).get(providerId)?.find((k) => k.id === keyId)
  if (!view) throw notFound('provider key', keyId)
  return view
}

export async function addStoredKey(admin: Admin, ref: string, body: ProviderKeyAdd) {
  const providerId = await providerIdOf(admin, ref)
  const [row] = await sealKeys(admin, providerId, [body.api_key], 'api_key')
  const writes = keyWrites(admin.deps.db, providerId, [row!], [keyAudit(admin, 'added', providerId, row!)])
  await commit(admin, () => admin.deps.db.batch(writes as never), refuse)
  return viewOf(admin, providerId, row!.id)
}

export async function patchStoredKey(admin: Admin, ref: string, keyId: string, body: ProviderKeyPatch) {
  const providerId = await providerIdOf(admin, ref)
  await viewOf(admin, providerId, rowId(keyId, 'provider key'))
  const entry = audit(admin, 'provider.api_key_state', { type: 'provider', id: providerId }, null, {
    key_id: keyId,
    state: body.state,
  })
  const row = await commit(
    admin,
    () => setProviderKeyState(admin.deps.db, providerId, keyId, body.state, entry),
    refuse,
  )
  if (!row) throw notFound('provider key', keyId)
  return viewOf(admin, providerId, keyId)
}

export async function removeStoredKey(admin: Admin, ref: string, keyId: string) {
  const providerId = await providerIdOf(admin, ref)
  rowId(keyId, 'provider key')
  const key = (await listProviderKeys(admin.deps.db, [providerId])).find((k) => k.id === keyId)
  if (!key) throw notFound('provider key', keyId)
  const entry = keyAudit(admin, 'removed', providerId, key)
  const removed = await commit(
    admin,
    () => deleteProviderKey(admin.deps.db, providerId, keyId, entry),
    refuse,
  )
  if (!removed) throw notFound('provider key', keyId)
}
