import type { Target } from './targets'

// A conversation's pin: the provider and the pooled key (null: the provider's only key, from the
// environment or a secret reference) that served its last turn, whose prompt cache holds its prefix.
export type Pin = { providerId: string; keyId: string | null }

// Whether the pin held for a request: it served (`hit`), there was none (`new`), or it could not hold
// and another target or key served, which is now the pin (`moved`).
export type AffinityResult = 'hit' | 'new' | 'moved'

// No provider caches a prompt shorter than this (Anthropic's and OpenAI's minimum), so a shorter request
// has nothing to keep: it is routed as the strategy says and neither reads nor writes a pin.
export const MIN_CACHEABLE_TOKENS = 1024

export const encodePin = (t: Pick<Target, 'providerId' | 'keyId'>) => `${t.providerId}|${t.keyId ?? ''}`

export function decodePin(raw: unknown): Pin | null {
  if (typeof raw !== 'string') return null
  const bar = raw.indexOf('|')
  if (bar <= 0) return null
  return { providerId: raw.slice(0, bar), keyId: raw.slice(bar + 1) || null }
}

// The pinned provider's target with the pinned key, if that key can serve now: still in the pool (an
// invalid key is taken out of it) and not cooling down. (A disabled provider or mapping is no candidate,
// and an open breaker's target is not offered: the pin then cannot hold either.)
export function withPinnedKey(target: Target, pin: Pin, now: number): Target | null {
  if (target.providerId !== pin.providerId) return null
  if (pin.keyId === null) return target.keyId ? null : target
  const key = target.keyPool?.keys.find((k) => k.id === pin.keyId)
  if (!key || key.coolUntil > now) return null
  return target.keyId === key.id ? target : { ...target, apiKey: key.secret, keyId: key.id }
}

export function affinityResult(
  pin: Pin | null,
  served: Pick<Target, 'providerId' | 'keyId'>,
): AffinityResult {
  if (!pin) return 'new'
  return pin.providerId === served.providerId && pin.keyId === (served.keyId ?? null) ? 'hit' : 'moved'
}

// A conversation without a pin yet is routed by draws seeded with its identity: its turns choose the same
// target and pooled key in every isolate even before its first pin is written (an agent's tool loop can
// send the next turn within milliseconds), while conversations still spread by the strategy's weights.
export function seededRandom(conversationId: string): () => number {
  // mulberry32 over the identity's first 32 bits (a hex digest: already uniform).
  let state = Number.parseInt(conversationId.slice(0, 8), 16) >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

// The target with the pooled key the conversation's identity picks among the keys not cooling down
// (in key-id order, the same in every isolate); the target as it is without a pool.
export function seededKey(target: Target, conversationId: string, now: number): Target {
  const keys = (target.keyPool?.keys ?? []).filter((k) => k.coolUntil <= now)
  if (keys.length === 0) return target
  const sorted = [...keys].sort((a, b) => (a.id < b.id ? -1 : 1))
  const key = sorted[Number.parseInt(conversationId.slice(8, 16), 16) % sorted.length]!
  return key.id === target.keyId ? target : { ...target, apiKey: key.secret, keyId: key.id }
}

// The candidates in a fixed order (provider id, then upstream model) with their reads alongside: the
// catalog shuffles candidates per request, and a seeded draw must not depend on that order.
export function inFixedOrder<R>(targets: readonly Target[], reads: readonly R[]): [Target[], R[]] {
  const order = targets
    .map((t, i) => i)
    .sort((x, y) => {
      const a = targets[x]!
      const b = targets[y]!
      if (a.providerId !== b.providerId) return a.providerId < b.providerId ? -1 : 1
      return a.upstreamModel < b.upstreamModel ? -1 : a.upstreamModel > b.upstreamModel ? 1 : 0
    })
  return [order.map((i) => targets[i]!), order.map((i) => reads[i]!)]
}
