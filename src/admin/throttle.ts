import { Ratelimit } from '@upstash/ratelimit'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { keys } from '../redis/keys'

// Failed admin sign-ins per client IP: after MAX_FAILURES in a window, that IP is refused (even with
// the right token, or guessing would go on) until the window ends. Counted in Redis so every
// isolate sees the same count; no in-isolate cache of blocked IPs, and a slow or failing Redis
// never locks the operator out.
const MAX_FAILURES = 20
const WINDOW = '5 m'
const limiters = new WeakMap<Deps, Ratelimit>()

function limiter(deps: Deps): Ratelimit {
  let hit = limiters.get(deps)
  if (!hit) {
    hit = new Ratelimit({
      redis: deps.redis,
      limiter: Ratelimit.fixedWindow(MAX_FAILURES, WINDOW),
      prefix: keys.adminAuthFailures(),
      ephemeralCache: false,
      timeout: 1_000,
      analytics: false,
    })
    limiters.set(deps, hit)
  }
  return hit
}

// Milliseconds until the IP may try again, or 0 when it is not throttled.
export async function throttledFor(deps: Deps, ip: string): Promise<number> {
  try {
    const { remaining, reset } = await limiter(deps).getRemaining(ip)
    return remaining > 0 ? 0 : Math.max(1_000, reset - Date.now())
  } catch (error) {
    log('warn', 'admin sign-in throttle unavailable', { error: (error as Error).message })
    return 0
  }
}

export async function recordFailure(deps: Deps, ip: string): Promise<void> {
  try {
    await limiter(deps).limit(ip)
  } catch (error) {
    log('warn', 'admin sign-in failure not counted', { error: (error as Error).message })
  }
}
