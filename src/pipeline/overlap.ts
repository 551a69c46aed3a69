import type { CircuitRead } from '../redis/scripts/guard'
import { inFixedOrder, seededKey, seededRandom, withPinnedKey, type Pin } from '../upstream/affinity'
import { orderTargets, strategyOf } from '../upstream/route-order'
import type { Target } from '../upstream/targets'

// Whether a request's first upstream attempt may start while the guard's Redis step is in flight
// (upstream/head-start.ts), decided from this isolate's own view; the guard still decides every limit,
// budget, balance and window exactly, and a refused request's head start is cancelled before anything
// reaches the client.
//
// GUARD_OVERLAP: `off` never; `on` always (when the view below expects the request to be admitted);
// `auto`, the default: only while this isolate's guard steps take FAR_MS or more, i.e. Redis is far from
// this edge location. With Redis near there is nothing to win, and a cancelled call is pure waste.
export type OverlapMode = 'auto' | 'on' | 'off'

const FAR_MS = 10
// After a key (or its project) is refused here, its requests wait for the guard for this long: a key at
// its limit would otherwise cost one cancelled upstream call per refused request.
const REFUSED_HOLD_MS = 60_000
const MAX_REMEMBERED = 10_000

let guardMs: number | null = null
const refusedAt = new Map<string, number>()
const lastRoute = new Map<string, CircuitRead['route']>()
// The target that served each conversation's last turn here: its pin in Redis, unless another isolate
// served a later turn.
const pins = new Map<string, Pin>()

// The guard step's wall time, as a moving average over this isolate's recent requests.
export function observeGuardMs(ms: number): void {
  guardMs = guardMs === null ? ms : guardMs * 0.8 + ms * 0.2
}

export function noteRefused(keyId: string, now: number): void {
  if (refusedAt.size >= MAX_REMEMBERED) refusedAt.clear()
  refusedAt.set(keyId, now)
}

// What the last guard step here said about each provider's breaker.
export function noteCircuits(targets: readonly Target[], reads: readonly CircuitRead[]): void {
  if (lastRoute.size >= MAX_REMEMBERED) lastRoute.clear()
  reads.forEach((read, i) => {
    const target = targets[i]
    if (target) lastRoute.set(target.providerId, read.route)
  })
}

export function notePin(conversationId: string, served: Target): void {
  if (pins.size >= MAX_REMEMBERED) pins.clear()
  pins.set(conversationId, { providerId: served.providerId, keyId: served.keyId ?? null })
}

const usable = (t: Target) => (lastRoute.get(t.providerId) ?? 'use') === 'use'

// The target to start early, or null: the conversation's pin as this isolate last saw it, else the target its
// identity draws, else the first candidate whose breaker this isolate last saw closed (or has not seen),
// for a key not refused here lately.
export function headStartTarget(
  mode: OverlapMode,
  keyId: string,
  candidates: readonly Target[],
  now: number,
  conversationId?: string,
): Target | null {
  if (mode === 'off') return null
  if (mode === 'auto' && (guardMs === null || guardMs < FAR_MS)) return null
  const refused = refusedAt.get(keyId)
  if (refused !== undefined && now - refused < REFUSED_HOLD_MS) return null
  const pin = conversationId === undefined ? undefined : pins.get(conversationId)
  const pinned = pin && candidates.find((t) => t.providerId === pin.providerId && usable(t))
  const held = pinned && withPinnedKey(pinned, pin, Date.now())
  if (held) return held
  // Not served here lately: the target and key the conversation's identity draws (upstream/affinity.ts),
  // where its pin points unless it had to move.
  if (conversationId !== undefined) {
    const [open] = inFixedOrder(candidates.filter(usable), [])
    const [drawn] = orderTargets(open, [], strategyOf(open), seededRandom(conversationId))
    return drawn ? seededKey(drawn, conversationId, Date.now()) : null
  }
  return candidates.find(usable) || null
}
