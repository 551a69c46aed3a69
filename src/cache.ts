import { loadCatalog, type Catalog } from './db/catalog'
import { findKeyByHash, type KeyRecord } from './db/keys'
import type { Deps } from './deps'
import { keys } from './redis/keys'
import { keyringFor } from './secrets/keyring'
import { openPools } from './secrets/pool'

// In-isolate caches of key records and the routing catalog. Each entry remembers the config version
// (a Redis counter bumped by every admin write) it was loaded under; the guard script compares that
// version atomically with its decision, so a stale entry is caught on the very next request.
const KEY_TTL_MS = 60_000
const CATALOG_TTL_MS = 60_000
const MAX_KEYS = 10_000

type Entry<T> = { value: T; version: string; loadedAt: number }

const keyCache = new Map<string, Entry<KeyRecord | null>>()
// The catalog holds upstream keys opened with the SECRETS_KEY(s) of one config; it is only reused
// under the same ones (one config per isolate in production; tests switch).
let catalogCache: (Entry<Catalog> & { sealedWith: string }) | null = null
const sealedWith = (deps: Deps) => `${deps.config.vars.SECRETS_KEY}|${deps.config.vars.SECRETS_KEY_PREVIOUS}`

export async function configVersion(deps: Deps): Promise<string> {
  return String((await deps.redis.get<string | number>(keys.configVersion())) ?? '0')
}

function fresh<T>(entry: Entry<T> | null | undefined, ttl: number, version?: string): entry is Entry<T> {
  if (!entry || Date.now() - entry.loadedAt > ttl) return false
  return version === undefined || entry.version === version
}

export async function getKey(
  deps: Deps,
  keyHash: string,
  version?: string,
): Promise<Entry<KeyRecord | null>> {
  const hit = keyCache.get(keyHash)
  if (fresh(hit, KEY_TTL_MS, version)) {
    // Least recently used goes first: a hit moves to the end, so a flood of unknown keys evicts
    // itself rather than the keys in use.
    keyCache.delete(keyHash)
    keyCache.set(keyHash, hit)
    return hit
  }
  const loadedVersion = version ?? (await configVersion(deps))
  const entry = {
    value: (await findKeyByHash(deps.db, keyHash)) ?? null,
    version: loadedVersion,
    loadedAt: Date.now(),
  }
  if (keyCache.size >= MAX_KEYS) keyCache.delete(keyCache.keys().next().value as string)
  keyCache.set(keyHash, entry)
  return entry
}

export async function getCatalog(deps: Deps, version?: string): Promise<Entry<Catalog>> {
  if (fresh(catalogCache, CATALOG_TTL_MS, version) && catalogCache.sealedWith === sealedWith(deps))
    return catalogCache
  const loadedVersion = version ?? (await configVersion(deps))
  const catalog = await loadCatalog(deps.db)
  // Opened once per load, not per request; cooldowns carry over to the new pools.
  catalog.keyPools = await openPools(
    await keyringFor(deps.config),
    catalog.sealedKeys ?? [],
    catalogCache?.value.keyPools,
  )
  catalogCache = {
    value: catalog,
    version: loadedVersion,
    loadedAt: Date.now(),
    sealedWith: sealedWith(deps),
  }
  return catalogCache
}

// Whether a key in the unsigned format may still exist, from the catalog (loaded if this isolate has no
// fresh one; rows cannot become unsigned again, so a fresh "none" stays true whatever the version).
export async function legacyKeysMayExist(deps: Deps): Promise<boolean> {
  return (await getCatalog(deps)).value.legacyKeys
}

export async function bumpConfigVersion(deps: Deps): Promise<void> {
  await deps.redis.incr(keys.configVersion())
}
