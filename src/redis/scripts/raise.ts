import { clientScript, type Redis } from '../client'

// Raises spend counters to at least what Postgres says, never lowers them: a counter above the truth
// holds costs already settled in Redis whose usage rows are not committed yet. KEYS[i] is a counter,
// ARGV[2i-1] its value from Postgres (integer pico-USD), ARGV[2i] its TTL in seconds. Returns how
// many counters were raised (a missing counter counts).
const RAISE_COUNTERS = `
local raised = 0
for i, key in ipairs(KEYS) do
  local current = tonumber(redis.call('GET', key))
  if not current or current < tonumber(ARGV[2 * i - 1]) then
    redis.call('SET', key, ARGV[2 * i - 1], 'EX', ARGV[2 * i])
    raised = raised + 1
  end
end
return raised
`

const run = clientScript(RAISE_COUNTERS)

export type CounterFloor = { key: string; pico: bigint; ttlSeconds: number }

// Returns how many counters were raised.
export async function runRaiseCounters(redis: Redis, floors: CounterFloor[]): Promise<number> {
  const reply = await run(
    redis,
    floors.map((f) => f.key),
    floors.flatMap((f) => [String(f.pico), String(f.ttlSeconds)]),
  )
  return Number(reply)
}
