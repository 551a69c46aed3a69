import { describe, expect, it } from 'vitest'
import { readConfig } from '../../src/env'
import { fromBase64, keyringFor, toBase64 } from '../../src/secrets/keyring'
import { hintOf, open, seal } from '../../src/secrets/seal'

const base = {
  DATABASE_URL: 'postgres://u:p@h/db',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: 't',
  ADMIN_TOKEN: 'a',
}
const A = 'WMx6pezBxfEL8+jmBuVHB1jcP7UTKNG+yuMZ0tbRXGU='
const B = 'tffPf7e5IzQCXGR96r9D/Y1cDIlQASI7jOUn6HalOwE='
const ring = (vars: Record<string, string>) => keyringFor(readConfig({ ...base, ...vars }))

describe('sealing provider keys', () => {
  it('opens under the same provider only (the provider id is the additional data)', async () => {
    const r = await ring({ SECRETS_KEY: A })
    const sealed = await seal(r.current!, 'provider-1', 'sk-secret-value-1234')
    expect(sealed.ciphertext).not.toContain('sk-secret')
    expect(await open(r, 'provider-1', sealed)).toBe('sk-secret-value-1234')
    expect(await open(r, 'provider-2', sealed)).toBeNull()
  })

  it('records the sealing key, which the previous slot still opens and an unrelated key does not', async () => {
    const sealed = await seal((await ring({ SECRETS_KEY: A })).current!, 'p', 'sk-secret-value-1234')
    const rotating = await ring({ SECRETS_KEY: B, SECRETS_KEY_PREVIOUS: A })
    expect(sealed.kekVersion).toBe(rotating.previous!.version)
    expect(sealed.kekVersion).not.toBe(rotating.current!.version)
    expect(await open(rotating, 'p', sealed)).toBe('sk-secret-value-1234')
    expect(await open(await ring({ SECRETS_KEY: B }), 'p', sealed)).toBeNull()
    // A tampered ciphertext under the right key version does not open either.
    const bytes = fromBase64(sealed.ciphertext)
    bytes[bytes.length - 1]! ^= 1
    expect(await open(rotating, 'p', { ...sealed, ciphertext: toBase64(bytes) })).toBeNull()
  })

  it('says what is wrong with a malformed SECRETS_KEY', async () => {
    expect((await ring({ SECRETS_KEY: 'c2hvcnQ=' })).problem).toMatch(
      /SECRETS_KEY must decode to 32 bytes, not 5/,
    )
    expect((await ring({ SECRETS_KEY: '***' })).problem).toMatch(/SECRETS_KEY is not valid base64/)
    expect((await ring({ SECRETS_KEY_PREVIOUS: '***' })).problem).toMatch(/SECRETS_KEY_PREVIOUS/)
    expect((await ring({})).problem).toBeNull()
  })

  it('hints with the last 4 characters, and nothing for keys too short to hide', () => {
    expect(hintOf('sk-abcdefghijklmnop')).toBe('mnop')
    expect(hintOf('short')).toBe('')
  })
})
