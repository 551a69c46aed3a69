import type { Config } from '../../env'
import { hotScript, runHotScript } from '../hot-script'

// The buckets of several rolling windows (src/billing/windows.ts) in one call, for /v1/me.
const READ_WINDOWS = `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
`
const readScript = hotScript(READ_WINDOWS)

// Each window's fields and values, flat, as stored (strings: the client's JSON parsing would round
// integers above 2^53).
export async function readWindowBuckets(config: Config, windowKeys: string[]): Promise<string[][]> {
  if (windowKeys.length === 0) return []
  const reply = await runHotScript(config, readScript, windowKeys, [])
  if (!Array.isArray(reply)) throw new Error('Redis: unexpected window reply')
  return reply.map((fields) => (Array.isArray(fields) ? fields.map(String) : []))
}
