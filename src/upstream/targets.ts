import type { AppliedPrice, Catalog, MappingRow, ProviderRow } from '../db/catalog'
import { providerApiKey, providerBaseUrl, providerVar, type Config } from '../env'
import { capabilitiesOf, type Capabilities } from './providers/capabilities'
import { isProviderType, type ProviderType } from './providers/types'
import { takeKey, type KeyPool } from '../secrets/pool'
import { circuitSettings, type CircuitSettings } from './circuit'
import { addressAllowed } from '../lib/address'
import { log } from '../lib/log'

export type Target = {
  provider: string
  providerId: string
  type: ProviderType
  baseUrl: string
  apiKey: string | undefined
  // The stored key (provider_keys.id) apiKey came from, when it came from the provider's pool.
  keyId?: string | null
  // The pool keyId was taken from, so a refused key can be swapped for the next one (key-faults.ts).
  keyPool?: KeyPool
  timeoutMs: number
  maxRetries: number
  upstreamModel: string
  maxOutputTokens: number | null
  // Whether aggregator routing fields (provider, models, route, …) reach this upstream (see openai.ts).
  forwardRoutingFields?: boolean
  // What a request served by this target costs; set by the route resolution (see priceFor).
  price?: AppliedPrice
  priority: number
  weight: number
  strategy: string
  circuit: CircuitSettings
  capabilities: Capabilities
}

// Weighted order without replacement: repeatedly draw one mapping with probability weight/total.
export function weightedShuffle<T extends { weight: number }>(items: T[], random: () => number): T[] {
  const pool = [...items]
  const out: T[] = []
  while (pool.length > 0) {
    const total = pool.reduce((sum, m) => sum + Math.max(m.weight, 0), 0)
    let r = random() * total
    let index = pool.findIndex((m) => (r -= Math.max(m.weight, 0)) < 0)
    if (index < 0) index = pool.length - 1
    out.push(...pool.splice(index, 1))
  }
  return out
}

// Mappings in priority order (lower first), weighted choice among equal priorities, with disabled
// mappings and providers skipped, and providers of a type this build does not speak (never sent another
// type's wire format). Environment overrides (PROVIDER_<NAME>_*) win over the database.
export function pickTargets(
  catalog: Catalog,
  model: string,
  config: Config,
  random: () => number = Math.random,
): Target[] {
  const usable = (catalog.mappingsByModel.get(model) ?? []).filter((m) => {
    const provider = catalog.providers.get(m.providerId)
    return m.enabled && provider?.enabled && isProviderType(provider.type) && reachable(provider, config)
  })
  const byPriority = new Map<number, MappingRow[]>()
  for (const m of usable) byPriority.set(m.priority, [...(byPriority.get(m.priority) ?? []), m])
  const ordered = [...byPriority.keys()]
    .sort((a, b) => a - b)
    .flatMap((p) => weightedShuffle(byPriority.get(p) ?? [], random))
  // An Anthropic or Gemini provider without any key cannot serve anything: it is left out rather than
  // tried (an OpenAI-compatible upstream may legitimately need none, but not one whose stored keys
  // exist and cannot be opened: it is never called without the key it was given).
  return ordered
    .map((m) => toTarget(m, catalog, config))
    .filter((t) => t.apiKey || (t.type === 'openai' && !onlyUnreadableKeys(catalog, t.providerId)))
}

function onlyUnreadableKeys(catalog: Catalog, providerId: string): boolean {
  const pool = catalog.keyPools?.get(providerId)
  return pool !== undefined && pool.keys.length === 0 && (pool.unreadable ?? 0) > 0
}

// A base_url the admin API wrote while the deployment was local (or before a range was refused) is not
// called once it is not: checked once per catalog row and configuration. PROVIDER_<NAME>_BASE_URL
// overrides are the operator's own and are not checked.
const reachability = new WeakMap<ProviderRow, WeakMap<Config, boolean>>()

function reachable(provider: ProviderRow, config: Config): boolean {
  let byConfig = reachability.get(provider)
  if (!byConfig) reachability.set(provider, (byConfig = new WeakMap()))
  let ok = byConfig.get(config)
  if (ok === undefined) {
    ok =
      providerVar(config, provider.name, 'BASE_URL') !== undefined ||
      addressAllowed(provider.baseUrl, config.ALLOW_PRIVATE_UPSTREAMS)
    if (!ok)
      log('warn', 'provider base_url not allowed on this deployment; skipped', { provider: provider.name })
    byConfig.set(config, ok)
  }
  return ok
}

// The key precedence: PROVIDER_<NAME>_API_KEY, then the provider's stored keys (taking turns), then the
// secret api_key_ref names.
function upstreamKey(catalog: Catalog, provider: ProviderRow, config: Config) {
  const env = providerVar(config, provider.name, 'API_KEY')
  if (env) return { apiKey: env, keyId: null }
  const pool = catalog.keyPools?.get(provider.id)
  const stored = takeKey(pool, Date.now())
  if (stored) return { apiKey: stored.secret, keyId: stored.id, keyPool: pool }
  return { apiKey: providerApiKey(config, provider), keyId: null }
}

// What a target takes from its mapping, provider and the environment, kept per catalog (its rows are
// replaced on every reload) and configuration, so a request only adds its turn of the key pool.
const staticParts = new WeakMap<MappingRow, WeakMap<Config, Omit<Target, 'apiKey' | 'keyId' | 'keyPool'>>>()

function staticPart(mapping: MappingRow, provider: ProviderRow, config: Config) {
  let byConfig = staticParts.get(mapping)
  if (!byConfig) staticParts.set(mapping, (byConfig = new WeakMap()))
  let part = byConfig.get(config)
  if (part) return part
  const timeout = Number(providerVar(config, provider.name, 'TIMEOUT_MS'))
  part = {
    provider: provider.name,
    providerId: provider.id,
    type: provider.type as ProviderType,
    baseUrl: providerBaseUrl(config, provider),
    timeoutMs: Number.isInteger(timeout) && timeout > 0 ? timeout : provider.timeoutMs,
    maxRetries: provider.maxRetries,
    upstreamModel: mapping.upstreamModel,
    maxOutputTokens: mapping.maxOutputTokens,
    forwardRoutingFields: providerVar(config, provider.name, 'FORWARD_ROUTING_FIELDS') === 'true',
    priority: mapping.priority,
    weight: mapping.weight,
    strategy: mapping.strategy,
    circuit: circuitSettings(config, provider.name, provider.circuit),
    capabilities: capabilitiesOf(mapping.capabilities),
  }
  byConfig.set(config, part)
  return part
}

function toTarget(mapping: MappingRow, catalog: Catalog, config: Config): Target {
  const provider = catalog.providers.get(mapping.providerId) as ProviderRow
  return { ...staticPart(mapping, provider, config), ...upstreamKey(catalog, provider, config) }
}

export function hasMapping(catalog: Catalog, model: string): boolean {
  return (catalog.mappingsByModel.get(model)?.length ?? 0) > 0
}
