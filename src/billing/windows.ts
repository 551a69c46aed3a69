import type { WindowPeriod } from '../../drizzle/schema'
import { BUCKETS } from '../redis/lua/economy.lua'

// Rolling windows: a limit on what a key (or all keys of a project) may spend and/or how many requests it
// may make over the last `period`, sliding. Each window is one Redis HASH of BUCKETS time buckets
// (`c<n>`: charge in pico-USD, `r<n>`: requests, bucket n = floor(ms / bucket length)), so its memory is
// bounded whatever the traffic. A decision counts the current bucket and the BUCKETS before it, i.e. the
// last period plus at most one bucket (1/60 of the period): never more than the limit in any period.
// Bucket n ages out at (n + BUCKETS + 1) × bucket length, which is what Retry-After reports.
const PERIOD_MS: Record<WindowPeriod, number> = {
  '5h': 5 * 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
}

export const bucketMs = (period: WindowPeriod) => PERIOD_MS[period] / BUCKETS

export type WindowUse = {
  usedPico: bigint
  usedRequests: number
  // When the oldest bucket still counted ages out (null: nothing counted).
  resetsAt: number | null
}

// What a window's buckets count at `now`.
export function windowUse(fields: string[], period: WindowPeriod, now: number): WindowUse {
  const size = bucketMs(period)
  const current = Math.floor(now / size)
  let usedPico = 0n
  let usedRequests = 0
  let oldest: number | null = null
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!
    const n = Number(name.slice(1))
    if (!(n >= current - BUCKETS) || n > current) continue
    const value = fields[i + 1]!
    if (value === '0') continue
    if (name[0] === 'c') usedPico += BigInt(value)
    else if (name[0] === 'r') usedRequests += Number(value)
    else continue
    if (oldest === null || n < oldest) oldest = n
  }
  return { usedPico, usedRequests, resetsAt: oldest === null ? null : (oldest + BUCKETS + 1) * size }
}
