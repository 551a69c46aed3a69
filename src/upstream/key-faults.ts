import { setAside, takeKey } from '../secrets/pool'
import type { Result } from '../lib/result'
import type { AttemptError } from './attempt'
import type { Target } from './targets'

// What an upstream said about one of a provider's stored keys: a 401, or a 403 whose body blames the key,
// means the key is no good (invalid until an operator re-enables it); a 429 with Retry-After cools that
// key alone for that long. Other 403s (a moderation refusal, an unsupported region) say nothing about
// the key and must not knock a pool out.
export type KeyEvent = {
  providerId: string
  provider: string
  keyId: string
  hint: string
  kind: 'invalid' | 'cooling'
  status: number
  untilMs: number
}

const KEY_BLAMED =
  /invalid[_ ]?api[_ ]?key|incorrect api key|authentication_error|api key not valid|api_key_invalid|invalid x-api-key/i

function refusal(error: AttemptError, now: number): Pick<KeyEvent, 'kind' | 'status' | 'untilMs'> | null {
  if (error.reason !== 'upstream_status') return null
  if (error.status === 401 || (error.status === 403 && KEY_BLAMED.test(error.body)))
    return { kind: 'invalid', status: error.status, untilMs: Infinity }
  if (error.status === 429 && error.retryAfterMs)
    return { kind: 'cooling', status: 429, untilMs: now + error.retryAfterMs }
  return null
}

// A stored key's refusal says nothing about its provider's health (the circuit breaker does not count
// it): the pool sets that key aside instead.
export function refusedStoredKey(target: Target, result: Result<unknown, AttemptError>): boolean {
  return Boolean(target.keyId && !result.ok && refusal(result.error, Date.now()))
}

// Sets the refused key aside in this isolate at once and returns the same target with the provider's
// next key not yet tried by this request, or null (the caller then treats the error as before).
// The event is recorded after the response (usage/key-events.ts).
export function rekey(
  target: Target,
  error: AttemptError,
  tried: Set<string>,
  events: KeyEvent[],
): Target | null {
  const pool = target.keyPool
  const now = Date.now()
  const seen = target.keyId && pool ? refusal(error, now) : null
  if (!seen || !pool || !target.keyId) return null
  const hint = pool.keys.find((k) => k.id === target.keyId)?.hint ?? ''
  events.push({
    providerId: target.providerId,
    provider: target.provider,
    keyId: target.keyId,
    hint,
    ...seen,
  })
  setAside(pool, target.keyId, seen.untilMs)
  tried.add(target.keyId)
  const next = takeKey(pool, now, tried)
  return next ? { ...target, apiKey: next.secret, keyId: next.id } : null
}

// Stored keys that some isolate saw cooled by a 429 (shared through the guard's read of the breakers):
// set aside in this isolate's pool too, and the target moved to a key that is not cooling, if any.
export function coolSharedKeys(
  target: Target,
  cooling: { keyId: string; untilMs: number }[] | undefined,
  now: number,
): Target {
  const pool = target.keyPool
  if (!cooling?.length || !pool) return target
  for (const { keyId, untilMs } of cooling) setAside(pool, keyId, untilMs)
  if (!target.keyId || !cooling.some((c) => c.keyId === target.keyId)) return target
  const next = takeKey(pool, now)
  return next && next.id !== target.keyId ? { ...target, apiKey: next.secret, keyId: next.id } : target
}
