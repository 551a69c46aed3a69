import type { CircuitRead } from '../redis/scripts/guard'
import { withPinnedKey, type Pin } from './affinity'
import { weightedShuffle, type Target } from './targets'

// How a model's mapping set orders its targets: `priority` (lower first, weighted choice among equals),
// `weighted` (weights only, across priorities) or `latency` (fastest recent successes first).
export const STRATEGIES = ['priority', 'weighted', 'latency'] as const
export type Strategy = (typeof STRATEGIES)[number]

const isStrategy = (s: string): s is Strategy => (STRATEGIES as readonly string[]).includes(s)

// A mapping set's strategy: the first target (in priority order) that names one other than 'priority'.
export function strategyOf(targets: Target[]): Strategy {
  const named = targets.find((t) => t.strategy !== 'priority' && isStrategy(t.strategy))?.strategy
  return named && isStrategy(named) ? named : 'priority'
}

// A share of the weight kept however unhealthy a provider looks, so it still gets traffic to recover on.
const MIN_HEALTH = 0.05

// Orders the targets by the strategy, with each weight scaled by its provider's recent success ratio,
// then moves the providers whose breaker is open (or that are cooling down after a 429) to the end.
// Breakers only reorder: when every provider is skipped they are all still tried, in order.
// A conversation's pin goes first, with its key, whatever the strategy, when it can serve (affinity.ts).
export function orderTargets(
  targets: Target[],
  reads: CircuitRead[],
  strategy: Strategy,
  random: () => number = Math.random,
  pin: Pin | null = null,
  now = Date.now(),
): Target[] {
  const items = targets.map((target, i) => {
    const read = reads[i]
    const permille = read?.successPermille ?? null
    const health = permille === null ? 1 : Math.max(permille / 1000, MIN_HEALTH)
    const latencyMs = read?.latencyMs ?? -1
    return { target, skip: read?.route === 'skip', latencyMs, weight: Math.max(target.weight, 0) * health }
  })
  let ordered: typeof items
  if (strategy === 'latency') {
    ordered = [...items].sort((a, b) => Math.max(a.latencyMs, 0) - Math.max(b.latencyMs, 0))
  } else if (strategy === 'weighted') {
    ordered = weightedShuffle(items, random)
  } else {
    const priorities = [...new Set(items.map((i) => i.target.priority))].sort((a, b) => a - b)
    ordered = priorities.flatMap((p) =>
      weightedShuffle(
        items.filter((i) => i.target.priority === p),
        random,
      ),
    )
  }
  const usable = ordered.filter((i) => !i.skip).map((i) => i.target)
  const skipped = ordered.filter((i) => i.skip).map((i) => i.target)
  const at = pin ? usable.findIndex((t) => t.providerId === pin.providerId) : -1
  const pinned = at >= 0 && pin ? withPinnedKey(usable[at]!, pin, now) : null
  if (pinned) return [pinned, ...usable.filter((_, i) => i !== at), ...skipped]
  return [...usable, ...skipped]
}
