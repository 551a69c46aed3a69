import type { WriteError } from '../db/admin-write'
import {
  deleteWebhook as removeWebhook,
  findWebhook,
  insertWebhook,
  listDeliveries,
  listWebhookRows,
  updateWebhook,
  type DeliveryRow,
  type WebhookChanges,
  type WebhookRow,
} from '../db/webhooks'
import { GatewayError } from '../errors'
import { KEY_HELP, keyringFor } from '../secrets/keyring'
import { sealFor, webhookSecret } from '../secrets/seal'
import { webhookUrlProblem } from '../webhooks/address'
import { audit, commit, toColumns, type Admin } from './context'
import { decodeCursor, notFound, page, rowId } from './query'
import type { WebhookCreate, WebhookPatch } from './schemas'

// Webhooks: where signed event notifications go. The secret is shown once, at creation (and when
// replaced), and stored sealed like a provider key; lists, reads and the audit log show only its last
// four characters.
const COLUMNS: Record<string, keyof WebhookRow> = {
  url: 'url',
  events: 'events',
  enabled: 'enabled',
}
const TARGET = 'webhook'

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString())

function serialize(row: WebhookRow) {
  return {
    id: row.id,
    object: 'webhook' as const,
    url: row.url,
    events: row.events,
    // Rows from before sealing hold the secret as given.
    secret_hint: `…${row.kekVersion === null ? row.secret.slice(-4) : row.secretHint}`,
    enabled: row.enabled,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  }
}

function serializeDelivery(row: DeliveryRow) {
  return {
    id: row.id,
    object: 'webhook_delivery' as const,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    last_status: row.lastStatus,
    last_error: row.lastError,
    next_attempt_at: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    delivered_at: iso(row.deliveredAt),
    created_at: iso(row.createdAt),
    body: JSON.parse(row.body) as unknown,
  }
}

function checkUrl(admin: Admin, url: string | undefined) {
  const problem = url === undefined ? null : webhookUrlProblem(url, admin.deps.config.ALLOW_PRIVATE_UPSTREAMS)
  if (problem)
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `Invalid value for 'url': ${problem}`,
      param: 'url',
    })
}

// The secret's columns: sealed under SECRETS_KEY, bound to this webhook's id. Without a usable
// SECRETS_KEY it cannot be stored: a 400 saying what to set.
async function sealedSecret(admin: Admin, webhookId: string, secret: string) {
  const ring = await keyringFor(admin.deps.config)
  if (!ring.current) {
    const why = ring.problem ?? `SECRETS_KEY is not set. ${KEY_HELP}`
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `Webhook secrets cannot be stored: ${why}`,
      param: 'secret',
    })
  }
  const sealed = await sealFor(ring.current, webhookSecret(webhookId), secret)
  return { secret: sealed.ciphertext, kekVersion: sealed.kekVersion, secretHint: secret.slice(-4) }
}

const refuse = (_e: WriteError) =>
  new GatewayError({ code: 'conflict', message: 'The webhook could not be written; retry.' })

async function mustFind(admin: Admin, id: string): Promise<WebhookRow> {
  const row = await findWebhook(admin.deps.db, rowId(id, 'webhook'))
  if (!row) throw notFound('webhook', id)
  return row
}

export async function listWebhooks(admin: Admin) {
  return { object: 'list' as const, data: (await listWebhookRows(admin.deps.db)).map(serialize) }
}

export async function createWebhook(admin: Admin, body: WebhookCreate) {
  checkUrl(admin, body.url)
  const now = new Date(admin.deps.now())
  const secret =
    body.secret ??
    `whsec_${[...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, '0')).join('')}`
  const id = crypto.randomUUID()
  const row: WebhookRow = {
    id,
    enabled: true,
    createdAt: now,
    updatedAt: now,
    ...(toColumns<WebhookRow>(body, COLUMNS) as Pick<WebhookRow, 'url' | 'events'>),
    ...(await sealedSecret(admin, id, secret)),
  }
  const entry = audit(admin, 'webhook.create', { type: TARGET, id: row.id }, null, serialize(row))
  const created = await commit(admin, () => insertWebhook(admin.deps.db, row, entry), refuse)
  return { ...serialize(created), secret }
}

export async function patchWebhook(admin: Admin, id: string, body: WebhookPatch) {
  checkUrl(admin, body.url)
  const current = await mustFind(admin, id)
  const changes: WebhookChanges = {
    ...toColumns<WebhookRow>(body, COLUMNS),
    ...(body.secret === undefined ? {} : await sealedSecret(admin, id, body.secret)),
    updatedAt: new Date(admin.deps.now()),
  }
  const entry = audit(
    admin,
    'webhook.update',
    { type: TARGET, id },
    serialize(current),
    serialize({ ...current, ...changes }),
  )
  const updated = await commit(admin, () => updateWebhook(admin.deps.db, id, changes, entry), refuse)
  if (!updated) throw notFound('webhook', id)
  return serialize(updated)
}

export async function deleteWebhook(admin: Admin, id: string) {
  const current = await mustFind(admin, id)
  const entry = audit(admin, 'webhook.delete', { type: TARGET, id }, serialize(current), null)
  if (!(await commit(admin, () => removeWebhook(admin.deps.db, id, entry), refuse)))
    throw notFound('webhook', id)
}

export async function webhookDeliveries(admin: Admin, id: string, query: { limit: number; cursor?: string }) {
  await mustFind(admin, id)
  const [beforeId] = query.cursor ? decodeCursor(query.cursor, [/^\d{1,18}$/]) : []
  const rows = await listDeliveries(
    admin.deps.db,
    id,
    query.limit + 1,
    beforeId ? Number(beforeId) : undefined,
  )
  return page(rows, query.limit, serializeDelivery, (row) => [String(row.id)])
}
