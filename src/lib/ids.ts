const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

// Uniform base62: bytes ≥ 248 (= 4 × 62) are dropped so that `b % 62` has no bias.
function randomString(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < 248 && out.length < length) out += ALPHABET[b % 62]
    }
  }
  return out
}

export function newRequestId(): string {
  return `req_${randomString(24)}`
}

// A raw virtual key: `lgw_` + 40 base62 chars (~238 bits). Only its SHA-256 is stored.
export function newRawKey(): string {
  return `lgw_${randomString(40)}`
}

export function keyPrefixOf(rawKey: string): string {
  return rawKey.slice(0, 12)
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

// A redemption code: `nxr_` + 24 base62 chars (~143 bits, so guessing one is hopeless even unthrottled).
// Only its SHA-256 is stored.
export function newRedemptionCode(): string {
  return `nxr_${randomString(24)}`
}
