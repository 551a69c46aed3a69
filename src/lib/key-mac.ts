import type { Config } from '../env'
import { timingSafeEqual } from './compare'
import { newRawKey } from './ids'

// Virtual keys carry a MAC of their random part: `lgw_` + 40 random base62 characters + 11 characters
// of HMAC-SHA256 (64 bits) under a server secret. A forged key is refused before any store call.
// Keys issued before the MAC (`lgw_` + 40) keep working through the lookup.
// The secret is KEY_MAC_SECRET, or (unset) one derived from ADMIN_TOKEN with HKDF; changing whichever
// one is in use invalidates every key signed under it (rotate them through the admin API).
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
const MAC_CHARS = 11
const SIGNED = /^lgw_([0-9A-Za-z]{40})([0-9A-Za-z]{11})$/
const LEGACY = /^lgw_[0-9A-Za-z]{40}$/

export type KeyShape = 'signed' | 'legacy' | 'forged' | 'malformed'

const macKeys = new WeakMap<Config, Promise<CryptoKey>>()

function macKey(config: Config): Promise<CryptoKey> {
  let key = macKeys.get(config)
  if (!key) {
    key = importMacKey(config)
    macKeys.set(config, key)
  }
  return key
}

async function importMacKey(config: Config): Promise<CryptoKey> {
  const hmac = { name: 'HMAC', hash: 'SHA-256' } as const
  const bytes = (s: string) => new TextEncoder().encode(s)
  if (config.KEY_MAC_SECRET)
    return crypto.subtle.importKey('raw', bytes(config.KEY_MAC_SECRET), hmac, false, ['sign'])
  const base = await crypto.subtle.importKey('raw', bytes(config.ADMIN_TOKEN), 'HKDF', false, ['deriveKey'])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: bytes('nexusai'), info: bytes('virtual-key-mac-v1') },
    base,
    { ...hmac, length: 256 },
    false,
    ['sign'],
  )
}

async function mac(config: Config, random: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.sign('HMAC', await macKey(config), new TextEncoder().encode(random)),
  )
  let n = 0n
  for (const b of digest.subarray(0, 8)) n = (n << 8n) | BigInt(b)
  let out = ''
  for (let i = 0; i < MAC_CHARS; i++) {
    out = ALPHABET[Number(n % 62n)]! + out
    n /= 62n
  }
  return out
}

export async function issueRawKey(config: Config): Promise<string> {
  const raw = newRawKey()
  return `${raw}${await mac(config, raw.slice(4))}`
}

export const isLegacyShape = (token: string) => LEGACY.test(token)

export async function keyShape(config: Config, token: string): Promise<KeyShape> {
  if (LEGACY.test(token)) return 'legacy'
  const signed = SIGNED.exec(token)
  if (!signed) return 'malformed'
  return timingSafeEqual(await mac(config, signed[1]!), signed[2]!) ? 'signed' : 'forged'
}
