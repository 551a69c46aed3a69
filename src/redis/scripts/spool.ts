import { clientScript, type Redis } from '../client'
import { Sections } from '../sections'

// The usage spool's drain step, so a drain killed midway loses nothing and two overlapping drains
// never trim rows neither has written. ARGV: [1] how many rows at the head this drain handled (0 =
// none), [2] / [3] the first / last of them exactly as read, [4] how many rows to read next (0 =
// none), [5..] handled rows Postgres rejected, for the dead-letter list. The handled rows are
// trimmed (and the rejected ones dead-lettered) only if the head still holds exactly what this drain
// read; otherwise another drain trimmed them first and this one answers {0}. Then {1, '#'..row, …}
// with the next rows, each prefixed with '#' so the client's automatic JSON parsing leaves them as
// the exact strings stored.
const SPOOL_STEP = `
local n = tonumber(ARGV[1])
if n > 0 then
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[2] or redis.call('LINDEX', KEYS[1], n - 1) ~= ARGV[3] then
    return {0}
  end
  if #ARGV > 4 then redis.call('RPUSH', KEYS[2], unpack(ARGV, 5)) end
  redis.call('LTRIM', KEYS[1], n, -1)
end
local out = {1}
local batch = tonumber(ARGV[4])
if batch > 0 then
  for _, row in ipairs(redis.call('LRANGE', KEYS[1], 0, batch - 1)) do out[#out + 1] = '#' .. row end
end
return out
`

const run = clientScript(SPOOL_STEP)

// The rows at the head this drain handled: the first and last exactly as read, and those Postgres
// rejected (dead-lettered).
export type Handled = { count: number; first: string; last: string; rejected: string[] }

export type SpoolStep =
  // Another drain trimmed the handled rows first: it carries on, this one stops.
  | { kind: 'overtaken' }
  // The next rows (up to the number asked for), exactly as stored.
  | { kind: 'read'; rows: string[] }

export async function runSpoolStep(
  redis: Redis,
  lists: { spool: string; dead: string },
  step: { handled: Handled | null; read: number },
): Promise<SpoolStep> {
  const { handled, read } = step
  const call = new Sections().add(
    [lists.spool, lists.dead],
    [handled?.count ?? 0, handled?.first ?? '', handled?.last ?? '', read, ...(handled?.rejected ?? [])],
  )
  const reply = (await run(redis, call.keys, call.args)) as unknown[]
  if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1))
    throw new Error('Redis: unexpected spool step reply')
  if (reply[0] === 0) return { kind: 'overtaken' }
  return { kind: 'read', rows: reply.slice(1).map((row) => String(row).slice(1)) } // drop the '#' prefix
}
