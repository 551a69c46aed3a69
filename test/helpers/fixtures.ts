import { eq, sql } from 'drizzle-orm'
import { apiKeys, modelMappings, prices, providers, usageLogs } from '../../drizzle/schema'
import { env } from 'cloudflare:workers'
import { readConfig } from '../../src/env'
import { keyPrefixOf, newRawKey, sha256Hex } from '../../src/lib/ids'
import { issueRawKey } from '../../src/lib/key-mac'
import { keys } from '../../src/redis/keys'
import { expect } from 'vitest'
import { eventually, gateway, mockUrl, testDb, testRedis, uid } from './gateway'

// Test data goes straight into Postgres (as an operator's admin write would) and bumps the config
// version, exactly what the admin API does after a write.
async function bump() {
  await testRedis().incr(keys.configVersion())
}

export type ProviderSpec = {
  type?: 'openai' | 'anthropic' | 'gemini'
  scenario?: string
  baseUrl?: string
  maxRetries?: number
  timeoutMs?: number
  apiKeyRef?: string | null
  enabled?: boolean
}

export async function createProvider(spec: ProviderSpec = {}) {
  const scenario = spec.scenario ?? `ok~${uid()}`
  const [row] = await testDb()
    .insert(providers)
    .values({
      name: `p-${uid()}`,
      type: spec.type ?? 'openai',
      baseUrl: spec.baseUrl ?? `${mockUrl()}/s/${scenario}/${spec.type === 'gemini' ? 'v1beta' : 'v1'}`,
      apiKeyRef: spec.apiKeyRef === undefined ? 'PROVIDER_TESTS_API_KEY' : spec.apiKeyRef,
      enabled: spec.enabled ?? true,
      timeoutMs: spec.timeoutMs ?? 5000,
      maxRetries: spec.maxRetries ?? 0,
    })
    .returning()
  await bump()
  return { ...row!, scenario }
}

// A model routed to the given providers in order (priority 1, 2, …), priced at the given USD per 1M tokens.
export async function createModel(
  providerIds: string[],
  options: {
    input?: string
    output?: string
    model?: string
    capabilities?: Record<string, unknown>
  } = {},
): Promise<string> {
  const model = options.model ?? `m-${uid()}`
  const db = testDb()
  await db.insert(modelMappings).values(
    providerIds.map((providerId, i) => ({
      model,
      providerId,
      upstreamModel: `up-${model}`,
      priority: i + 1,
      capabilities: options.capabilities ?? {},
    })),
  )
  await db.insert(prices).values({
    model,
    inputPerMillion: options.input ?? '1',
    outputPerMillion: options.output ?? '2',
    effectiveFrom: new Date('2020-01-01T00:00:00Z'),
  })
  await bump()
  return model
}

export type KeySpec = Partial<
  Pick<
    typeof apiKeys.$inferInsert,
    'rpmLimit' | 'tpmLimit' | 'dailyBudget' | 'monthlyBudget' | 'status' | 'expiresAt' | 'projectId'
  >
> & {
  models: string[]
  // A key in the format issued before keys carried a MAC (`lgw_` + 40 characters), flagged as such.
  legacy?: boolean
  // With `legacy`: a signed key flagged as possibly unsigned (a row older than the flag).
  signedFormat?: boolean
}

export async function createKey(spec: KeySpec): Promise<{ id: string; raw: string }> {
  const { models, legacy, signedFormat, ...rest } = spec
  const raw =
    legacy && !signedFormat
      ? newRawKey()
      : await issueRawKey(readConfig(env as unknown as Record<string, unknown>))
  const [row] = await testDb()
    .insert(apiKeys)
    .values({
      keyHash: await sha256Hex(raw),
      keyPrefix: keyPrefixOf(raw),
      name: `k-${uid()}`,
      allowedModels: models,
      legacy: legacy ?? false,
      ...rest,
    })
    .returning()
  await bump()
  if (legacy) await reloadCatalog()
  return { id: row!.id, raw }
}

// The gateway learns that a key in the unsigned format exists with its next catalog load (in production
// such rows only predate the flag, so nothing waits for this): a request under a signed key makes this
// isolate load it now.
async function reloadCatalog() {
  const { raw } = await createKey({ models: [] })
  const res = await gateway('/v1/models', { headers: { authorization: `Bearer ${raw}` } })
  if (res.status !== 200) throw new Error(`catalog not reloaded: ${res.status}`)
}

export async function updateKey(id: string, values: Partial<typeof apiKeys.$inferInsert>) {
  await testDb().update(apiKeys).set(values).where(eq(apiKeys.id, id))
  await bump()
}

export async function usageRows(apiKeyId: string) {
  return testDb().select().from(usageLogs).where(eq(usageLogs.apiKeyId, apiKeyId)).orderBy(usageLogs.id)
}

// The one usage row a key's single request left, once the after-response write has landed.
export async function onlyRow(apiKeyId: string) {
  return eventually(async () => {
    const rows = await usageRows(apiKeyId)
    expect(rows).toHaveLength(1)
    return rows[0]!
  })
}

export async function countRows(apiKeyId: string): Promise<number> {
  const [row] = await testDb()
    .select({ n: sql<number>`count(*)::int` })
    .from(usageLogs)
    .where(eq(usageLogs.apiKeyId, apiKeyId))
  return Number(row?.n ?? 0)
}

// A ready-to-call setup: one provider on the mock (with the given scenario), one model, one key.
export async function setup(
  options: { scenario?: string; key?: Omit<KeySpec, 'models'>; maxRetries?: number } = {},
) {
  const provider = await createProvider({ scenario: options.scenario, maxRetries: options.maxRetries })
  const model = await createModel([provider.id])
  const key = await createKey({ models: [model], ...options.key })
  return { provider, model, key }
}

// Remove every price version of a model (a catalog an operator left without a price).
export function testDbPrices() {
  return {
    async deleteFor(model: string) {
      await testDb().delete(prices).where(eq(prices.model, model))
      await bump()
    },
  }
}
