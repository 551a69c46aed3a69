import type { ProviderKeyRow } from '../db/provider-keys'
import { log } from '../lib/log'
import type { Keyring } from './keyring'
import { open } from './seal'

// A provider's usable stored keys, opened once per catalog load (i.e. per config version) and kept in
// the isolate. Requests take turns over the keys; a key the upstream refused is set aside here at once
// (this isolate skips it from the next attempt on) and recorded after the response (src/secrets/faults.ts).
export type PoolKey = { id: string; hint: string; secret: string; coolUntil: number }
// `unreadable`: active stored keys no configured SECRETS_KEY opens (a wrong or lost key); with none
// readable, the provider has no stored key to send and is not called with none (src/upstream/targets.ts).
export type KeyPool = { keys: PoolKey[]; turn: number; unreadable?: number }
export type KeyPools = Map<string, KeyPool>

export async function openPools(
  ring: Keyring,
  rows: ProviderKeyRow[],
  previous: KeyPools | undefined,
): Promise<KeyPools> {
  const cooling = new Map<string, number>()
  for (const pool of previous?.values() ?? []) for (const k of pool.keys) cooling.set(k.id, k.coolUntil)
  const pools: KeyPools = new Map()
  const opened = await Promise.all(
    rows.map(async (row) => ({
      row,
      secret: row.state === 'active' ? await open(ring, row.providerId, row) : null,
    })),
  )
  const poolOf = (providerId: string) => {
    const pool = pools.get(providerId) ?? { keys: [], turn: 0, unreadable: 0 }
    pools.set(providerId, pool)
    return pool
  }
  for (const { row, secret } of opened) {
    if (row.state !== 'active') continue
    if (secret === null) {
      poolOf(row.providerId).unreadable! += 1
      log('warn', 'stored provider key unreadable; skipped', {
        provider_id: row.providerId,
        key_id: row.id,
        hint: row.hint,
        kek_version: row.kekVersion,
      })
      continue
    }
    poolOf(row.providerId).keys.push({
      id: row.id,
      hint: row.hint,
      secret,
      coolUntil: cooling.get(row.id) ?? 0,
    })
  }
  return pools
}

// The next key in turn that is not cooling down; when every key is cooling, the one that recovers first
// (the upstream then decides, and the fallback moves on if it refuses again).
export function takeKey(
  pool: KeyPool | undefined,
  now: number,
  skip: ReadonlySet<string> = new Set(),
): PoolKey | null {
  const candidates = pool?.keys.filter((k) => !skip.has(k.id)) ?? []
  if (!pool || candidates.length === 0) return null
  for (let i = 0; i < candidates.length; i++) {
    const key = candidates[(pool.turn + i) % candidates.length]!
    if (key.coolUntil <= now) {
      pool.turn = (pool.turn + i + 1) % candidates.length
      return key
    }
  }
  return candidates.reduce((a, b) => (b.coolUntil < a.coolUntil ? b : a))
}

// Out of this isolate's rotation at once: for good (invalid) or until `until` (cooling).
export function setAside(pool: KeyPool | undefined, keyId: string, until: number): void {
  if (!pool) return
  if (until === Infinity) pool.keys = pool.keys.filter((k) => k.id !== keyId)
  else for (const k of pool.keys) if (k.id === keyId) k.coolUntil = Math.max(k.coolUntil, until)
}
