import { Ratelimit } from '@upstash/ratelimit'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { keys } from '../redis/keys'

// Failed admin sign-ins per client IP: after MAX_FAILURES wrong tokens in a window, that IP's wrong
// tokens get 429 until the window ends (the right token is never refused). Counted in Redis so every
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

// Counts one failed sign-in; returns the milliseconds until the IP may try again when it is over the
// limit, else 0.
export async function recordFailure(deps: Deps, ip: string): Promise<number> {
  try {
    const { success, reset } = await limiter(deps).limit(ip)
    return success ? 0 : Math.max(1_000, reset - Date.now())
  } catch (error) {
    log('warn', 'admin sign-in failure not counted', { error: (error as Error).message })
    return 0
  }
}
