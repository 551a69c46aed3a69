import { listProviderKeys, resealProviderKeys } from '../db/provider-keys'
import { OpenAIError } from '../errors'
import { KEY_HELP, keyringFor } from '../secrets/keyring'
import { open, seal } from '../secrets/seal'
import { audit, commit, type Admin } from './context'

// POST /admin/secrets/rotate: every stored key not sealed under the current SECRETS_KEY is opened (with
// SECRETS_KEY_PREVIOUS, typically) and sealed again under SECRETS_KEY. Keys no configured key opens
// are left as they are and listed, so an operator can re-enter them.
export async function rotateSecrets(admin: Admin) {
  const ring = await keyringFor(admin.deps.config)
  const kek = ring.current
  if (!kek) {
    throw new OpenAIError(
      'invalid_request_error',
      `Nothing to rotate to: ${ring.problem ?? `SECRETS_KEY is not set. ${KEY_HELP}`}`,
    )
  }
  const rows = await listProviderKeys(admin.deps.db)
  const updates: Parameters<typeof resealProviderKeys>[1] = []
  const unreadable = []
  for (const row of rows) {
    if (row.kekVersion === kek.version) continue
    const secret = await open(ring, row.providerId, row)
    if (secret === null) {
      unreadable.push({
        id: row.id,
        provider_id: row.providerId,
        hint: row.hint,
        kek_version: row.kekVersion,
      })
      continue
    }
    updates.push({ id: row.id, from: row.ciphertext, ...(await seal(kek, row.providerId, secret)) })
  }
  const result = {
    object: 'secrets_rotation' as const,
    kek_version: kek.version,
    resealed: updates.length,
    already_current: rows.length - updates.length - unreadable.length,
    unreadable,
  }
  if (updates.length > 0) {
    const entry = audit(admin, 'secrets.rotate', { type: 'secrets', id: null }, null, {
      kek_version: kek.version,
      resealed: updates.length,
    })
    await commit(
      admin,
      () => resealProviderKeys(admin.deps.db, updates, entry),
      () => {
        throw new OpenAIError('conflict', 'Stored keys changed during the rotation; retry.')
      },
    )
  }
  return result
}
