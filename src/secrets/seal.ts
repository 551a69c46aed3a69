import { fromBase64, toBase64, type Kek, type Keyring } from './keyring'

// AES-256-GCM with a fresh 96-bit IV per seal. What the secret belongs to (a provider's id, a webhook's)
// is the additional authenticated data: a ciphertext copied onto another row does not open.
export type Sealed = { ciphertext: string; kekVersion: string }

const IV_BYTES = 12
const providerKey = (providerId: string) => `nexusai provider key:${providerId}`
export const webhookSecret = (webhookId: string) => `nexusai webhook secret:${webhookId}`

export const seal = (kek: Kek, providerId: string, secret: string) =>
  sealFor(kek, providerKey(providerId), secret)

export const open = (ring: Keyring, providerId: string, sealed: Sealed) =>
  openFor(ring, providerKey(providerId), sealed)

export async function sealFor(kek: Kek, owner: string, secret: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(owner) },
    kek.key,
    new TextEncoder().encode(secret),
  )
  const out = new Uint8Array(IV_BYTES + sealed.byteLength)
  out.set(iv)
  out.set(new Uint8Array(sealed), IV_BYTES)
  return { ciphertext: toBase64(out), kekVersion: kek.version }
}

// The secret, or null when no configured KEK opens it (sealed under a key no longer configured, tampered
// with, or moved to another row).
export async function openFor(ring: Keyring, owner: string, sealed: Sealed): Promise<string | null> {
  const kek = [ring.current, ring.previous].find((k) => k?.version === sealed.kekVersion)
  if (!kek) return null
  try {
    const bytes = fromBase64(sealed.ciphertext)
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.slice(0, IV_BYTES), additionalData: new TextEncoder().encode(owner) },
      kek.key,
      bytes.slice(IV_BYTES),
    )
    return new TextDecoder().decode(plain)
  } catch {
    return null
  }
}

// The last 4 characters, all an operator needs to recognise a key; shorter keys show nothing.
export function hintOf(secret: string): string {
  return secret.length >= 12 ? secret.slice(-4) : ''
}
