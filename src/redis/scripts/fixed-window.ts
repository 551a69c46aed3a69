import { clientScript, type Redis } from '../client'

// A fixed-window failure counter (admin sign-ins per IP, wrong redemption codes per key): the count of
// the current window lives in "<prefix>:<identifier>:<window number>" and expires with its window.
// KEYS[1] is that key, ARGV[1] the window in milliseconds; returns the count after this failure.
const COUNT_FAILURE = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`

const run = clientScript(COUNT_FAILURE)

export type FixedWindow = { prefix: string; max: number; windowMs: number }

// Where the current window stands: its key and when it ends (epoch milliseconds).
function windowOf(limit: FixedWindow, identifier: string, now: number) {
  const number = Math.floor(now / limit.windowMs)
  return { key: `${limit.prefix}:${identifier}:${number}`, reset: (number + 1) * limit.windowMs }
}

// Counts one failure; returns whether the identifier is still within its limit and when the window ends.
export async function countFailure(
  redis: Redis,
  limit: FixedWindow,
  identifier: string,
  now: number,
): Promise<{ success: boolean; reset: number }> {
  const { key, reset } = windowOf(limit, identifier, now)
  const count = Number(await run(redis, [key], [String(limit.windowMs)]))
  return { success: count <= limit.max, reset }
}

// How many more failures the current window allows, and when it ends.
export async function failuresLeft(
  redis: Redis,
  limit: FixedWindow,
  identifier: string,
  now: number,
): Promise<{ remaining: number; reset: number }> {
  const { key, reset } = windowOf(limit, identifier, now)
  const count = Number((await redis.get<number | string>(key)) ?? 0)
  return { remaining: Math.max(0, limit.max - count), reset }
}
