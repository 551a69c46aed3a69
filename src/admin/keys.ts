import { findKeyById, insertKey, listKeysPage, updateKey, type KeyChanges } from '../db/admin-keys'
import type { KeyRow } from '../db/keys'
import { keysSpend, type Spend } from '../db/spend-report'
import { GatewayError } from '../errors'
import { keyPrefixOf, sha256Hex } from '../lib/ids'
import { issueRawKey } from '../lib/key-mac'
import { audit, commit, toColumns, type Admin } from './context'
import { decodeCursor, notFound, page, rowId } from './query'
import type { KeyCreate, KeyPatch } from './schemas'
import { serializeKey } from './serialize'

// Virtual API keys. Only the SHA-256 of a raw key is stored; the raw key is returned by create and
// rotate, once, and never appears in a list, a get or the audit log.
const COLUMNS: Record<string, keyof KeyRow> = {
  name: 'name',
  project_id: 'projectId',
  allowed_models: 'allowedModels',
  rpm_limit: 'rpmLimit',
  tpm_limit: 'tpmLimit',
  daily_budget: 'dailyBudget',
  monthly_budget: 'monthlyBudget',
  budget_alerts: 'budgetAlerts',
  windows: 'windows',
  status: 'status',
  expires_at: 'expiresAt',
}
const CURSOR = [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, /^[0-9a-f-]{36}$/i]
const TARGET = 'api_key'

// A key hash colliding is as likely as guessing a key; it would still be refused, not overwritten.
const refuse = () =>
  new GatewayError({ code: 'conflict', message: 'A key with the same hash already exists; retry.' })

async function mustFind(admin: Admin, id: string): Promise<KeyRow> {
  const row = await findKeyById(admin.deps.db, rowId(id, 'API key'))
  if (!row) throw notFound('API key', id)
  return row
}

// Listed keys carry what they spent today and this month (settled usage rows, UTC).
const withSpend = (spend: Map<string, Spend>) => (row: KeyRow) => {
  const s = spend.get(row.id)
  return { ...serializeKey(row), spend: { today_usd: s?.day ?? '0', month_usd: s?.month ?? '0' } }
}

async function spendOf(admin: Admin, ids: string[]) {
  const rows = await keysSpend(admin.deps.db, ids, admin.deps.now())
  return new Map(rows.map((r) => [r.keyId, r]))
}

export async function listKeys(admin: Admin, query: { limit: number; cursor?: string }) {
  const [at, id] = query.cursor ? decodeCursor(query.cursor, CURSOR) : []
  const rows = await listKeysPage(admin.deps.db, query.limit + 1, at && id ? { at, id } : undefined)
  const spend = await spendOf(
    admin,
    rows.slice(0, query.limit).map((r) => r.id),
  )
  return page(rows, query.limit, withSpend(spend), (row) => [row.cursorAt, row.id])
}

export async function getKey(admin: Admin, id: string) {
  return serializeKey(await mustFind(admin, id))
}

async function newSecret(admin: Admin) {
  const raw = await issueRawKey(admin.deps.config)
  return { raw, keyHash: await sha256Hex(raw), keyPrefix: keyPrefixOf(raw) }
}

export async function createKey(admin: Admin, body: KeyCreate) {
  const { raw, keyHash, keyPrefix } = await newSecret(admin)
  const now = new Date(admin.deps.now())
  const row: KeyRow = {
    id: crypto.randomUUID(),
    keyHash,
    keyPrefix,
    name: body.name,
    projectId: 'default',
    allowedModels: [],
    rpmLimit: null,
    tpmLimit: null,
    dailyBudget: null,
    monthlyBudget: null,
    budgetAlerts: null,
    windows: [],
    status: 'active',
    expiresAt: null,
    lastUsedAt: null,
    legacy: false,
    createdAt: now,
    updatedAt: now,
    ...toColumns<KeyRow>(body, COLUMNS),
  }
  const entry = audit(admin, 'api_key.create', { type: TARGET, id: row.id }, null, serializeKey(row))
  const created = await commit(admin, () => insertKey(admin.deps.db, row, entry), refuse)
  return { ...serializeKey(created), raw_key: raw }
}

async function change(admin: Admin, id: string, action: string, changes: KeyChanges) {
  const current = await mustFind(admin, id)
  const next = { ...current, ...changes, updatedAt: new Date(admin.deps.now()) }
  const entry = audit(admin, action, { type: TARGET, id }, serializeKey(current), serializeKey(next))
  const updated = await commit(
    admin,
    () => updateKey(admin.deps.db, id, { ...changes, updatedAt: next.updatedAt }, entry),
    refuse,
  )
  if (!updated) throw notFound('API key', id)
  return updated
}

export async function patchKey(admin: Admin, id: string, body: KeyPatch) {
  return serializeKey(await change(admin, id, 'api_key.update', toColumns<KeyRow>(body, COLUMNS)))
}

// Same id, new secret: the old raw key stops matching any hash the moment the row is updated.
export async function rotateKey(admin: Admin, id: string) {
  const { raw, keyHash, keyPrefix } = await newSecret(admin)
  return {
    ...serializeKey(await change(admin, id, 'api_key.rotate', { keyHash, keyPrefix, legacy: false })),
    raw_key: raw,
  }
}
