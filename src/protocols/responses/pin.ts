import type { Deps } from '../../deps'
import { keys } from '../../redis/keys'

// A response lives in the upstream organisation that created it (store defaults to true), so every
// follow-up — previous_response_id, GET, DELETE — must go to that provider, and only for the key that
// created it. Kept as long as OpenAI keeps stored responses.
const PIN_TTL_SECONDS = 30 * 24 * 3600

export type Pin = { keyId: string; model: string; provider: string }

export async function pinResponse(deps: Deps, responseId: string, pin: Pin): Promise<void> {
  await deps.redis.set(keys.response(responseId), JSON.stringify(pin), { ex: PIN_TTL_SECONDS })
}

// The pin of a response this key created, or null (unknown, expired, or another key's).
export async function pinnedTo(deps: Deps, responseId: string, keyId: string): Promise<Pin | null> {
  return pinOf(await deps.redis.get<Pin | string>(keys.response(responseId)), keyId)
}

// A stored pin (its JSON text, or the object the Redis client already parsed) if it is this key's.
export function pinOf(raw: Pin | string | null | undefined, keyId: string): Pin | null {
  const pin = typeof raw === 'string' ? (JSON.parse(raw) as Pin) : raw
  return pin && pin.keyId === keyId ? pin : null
}

export async function unpin(deps: Deps, responseId: string): Promise<void> {
  await deps.redis.del(keys.response(responseId))
}
