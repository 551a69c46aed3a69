import { listProviderKeys, resealProviderKeys } from '../db/provider-keys'
import { GatewayError } from '../errors'
import { listWebhookRows, resealWebhookSecret } from '../db/webhooks'
import { KEY_HELP, keyringFor, type Kek, type Keyring } from '../secrets/keyring'
import { open, openFor, seal, sealFor, webhookSecret } from '../secrets/seal'
import { audit, commit, type Admin } from './context'

// Webhook secrets not sealed under the current key: those sealed under another one opened and sealed
// again, those from before sealing (no kek_version) sealed for the first time.
async function webhookSecrets(admin: Admin, kek: Kek, ring: Keyring) {
  const rows = await listWebhookRows(admin.deps.db)
  const updates = []
  const unreadable = []
  let current = 0
  for (const row of rows) {
    if (row.kekVersion === kek.version) {
      current++
      continue
    }
    const owner = webhookSecret(row.id)
    const secret =
      row.kekVersion === null
        ? row.secret
        : await openFor(ring, owner, { ciphertext: row.secret, kekVersion: row.kekVersion })
    if (secret === null) {
      unreadable.push({ id: row.id, url: row.url, hint: row.secretHint, kek_version: row.kekVersion })
      continue
    }
    const sealed = await sealFor(kek, owner, secret)
    updates.push({ id: row.id, from: row.secret, ...sealed, hint: secret.slice(-4) })
  }
  return { updates, unreadable, current }
}

// POST /admin/secrets/rotate: every stored key not sealed under the current SECRETS_KEY is opened (with
// SECRETS_KEY_PREVIOUS, typically) and sealed again under SECRETS_KEY. Keys no configured key opens
// are left as they are and listed, so an operator can re-enter them.
export async function rotateSecrets(admin: Admin) {
  const ring = await keyringFor(admin.deps.config)
  const kek = ring.current
  if (!kek) {
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `Nothing to rotate to: ${ring.problem ?? `SECRETS_KEY is not set. ${KEY_HELP}`}`,
    })
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
  const hooks = await webhookSecrets(admin, kek, ring)
  const result = {
    object: 'secrets_rotation' as const,
    kek_version: kek.version,
    resealed: updates.length,
    already_current: rows.length - updates.length - unreadable.length,
    unreadable,
    webhook_secrets: {
      resealed: hooks.updates.length,
      already_current: hooks.current,
      unreadable: hooks.unreadable,
    },
  }
  if (updates.length > 0 || hooks.updates.length > 0) {
    const entry = audit(admin, 'secrets.rotate', { type: 'secrets', id: null }, null, {
      kek_version: kek.version,
      resealed: updates.length,
      webhook_secrets_resealed: hooks.updates.length,
    })
    const db = admin.deps.db
    await commit(
      admin,
      () =>
        resealProviderKeys(
          db,
          updates,
          entry,
          hooks.updates.map((u) => resealWebhookSecret(db, u)),
        ),
      () => {
        throw new GatewayError({
          code: 'conflict',
          message: 'Stored keys changed during the rotation; retry.',
        })
      },
    )
  }
  return result
}
