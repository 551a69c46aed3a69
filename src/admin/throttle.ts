import type { Deps } from '../deps'
import { log } from '../lib/log'
import { keys } from '../redis/keys'
import { countFailure, type FixedWindow } from '../redis/scripts/fixed-window'

// Failed admin sign-ins per client IP: after 20 wrong tokens in 5 minutes, that IP's wrong
// tokens get 429 until the window ends (the right token is never refused). Counted in Redis so every
// isolate sees the same count; no in-isolate cache of blocked IPs, and a slow or failing Redis
// never locks the operator out.
const SIGN_IN_FAILURES: FixedWindow = { prefix: keys.adminAuthFailures(), max: 20, windowMs: 5 * 60_000 }

// Counts one failed sign-in; returns the milliseconds until the IP may try again when it is over the
// limit, else 0.
export async function recordFailure(deps: Deps, ip: string): Promise<number> {
  try {
    const { success, reset } = await countFailure(deps.redis, SIGN_IN_FAILURES, ip, Date.now())
    return success ? 0 : Math.max(1_000, reset - Date.now())
  } catch (error) {
    log('warn', 'admin sign-in failure not counted', { error: (error as Error).message })
    return 0
  }
}
