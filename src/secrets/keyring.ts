import type { Config } from '../env'

// The key-encryption keys (KEKs) that seal stored provider keys: SECRETS_KEY seals, SECRETS_KEY_PREVIOUS
// (during a rotation) still opens. Each is 32 random bytes, base64. A KEK's version is a fingerprint of
// the key itself, so operators never number keys and a ciphertext names exactly the key that opens it.
export type Kek = { version: string; key: CryptoKey }
export type Keyring = {
  current: Kek | null
  previous: Kek | null
  // Why a configured key cannot be used (malformed), for /healthz?deep=1 and the admin API's 400.
  problem: string | null
}

export const KEY_HELP =
  'Set SECRETS_KEY to 32 random bytes, base64 (e.g. `openssl rand -base64 32 | wrangler secret put SECRETS_KEY`).'

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function decodeKey(name: string, value: string): Uint8Array<ArrayBuffer> | string {
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = fromBase64(value.trim())
  } catch {
    return `${name} is not valid base64. ${KEY_HELP}`
  }
  if (bytes.length !== 32) return `${name} must decode to 32 bytes, not ${bytes.length}. ${KEY_HELP}`
  return bytes
}

async function importKek(bytes: Uint8Array<ArrayBuffer>): Promise<Kek> {
  const label = new TextEncoder().encode('nexusai kek version:')
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([...label, ...bytes])))
  const version = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('')
  const key = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt'])
  return { version, key }
}

async function buildKeyring(config: Config): Promise<Keyring> {
  const ring: Keyring = { current: null, previous: null, problem: null }
  for (const [slot, name] of [
    ['current', 'SECRETS_KEY'],
    ['previous', 'SECRETS_KEY_PREVIOUS'],
  ] as const) {
    const value = config.vars[name]
    if (!value) continue
    const decoded = decodeKey(name, value)
    if (typeof decoded === 'string') ring.problem ??= decoded
    else ring[slot] = await importKek(decoded)
  }
  return ring
}

const cache = new WeakMap<Config, Promise<Keyring>>()

// Imported once per config object (i.e. per isolate in production).
export function keyringFor(config: Config): Promise<Keyring> {
  let ring = cache.get(config)
  if (!ring) {
    ring = buildKeyring(config)
    cache.set(config, ring)
  }
  return ring
}
