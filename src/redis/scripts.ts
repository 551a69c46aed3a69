import { CIRCUIT_READ, CIRCUIT_RECORD } from './circuit-lua'
import type { Redis } from './client'
import { BUDGET_ALERTS } from './alerts-lua'
import { PROJECT_GUARD, PROJECT_SETTLE } from './project-lua'
import { hotScript } from './hot-script'

// One client-side script object per Redis client and script: it hashes the script (SHA-1 for EVALSHA)
// once, not on every call.
function scriptFor<T>(text: string) {
  const byClient = new WeakMap<Redis, ReturnType<Redis['createScript']>>()
  return (redis: Redis) => {
    let script = byClient.get(redis)
    if (!script) byClient.set(redis, (script = redis.createScript<T>(text)))
    return script as ReturnType<typeof redis.createScript<T>>
  }
}

// Decides RPM, TPM, daily and monthly budget for one request in one atomic step, and commits all of
// them only when every check passes (a refused request consumes nothing). Returns:
//   {'stale', version}  the caller's cached key/config predates an admin write: reload and retry
//   {'rebuild'}         a spend counter is missing: rebuild it from usage_logs and retry
//   {'ok',  rpmRemaining, rpmResetMs, tpmRemaining, tpmResetMs}           admitted (this request counted)
//   {'rpm', rpmRemaining, rpmResetMs, tpmRemaining, tpmResetMs, retryMs}  refused by the request limit
//   {'tpm', rpmRemaining, rpmResetMs, tpmRemaining, tpmResetMs, retryMs}  refused by the token limit
//   {'budget', rpmRemaining, rpmResetMs, tpmRemaining, tpmResetMs, 'daily'|'monthly', limitPico,
//    retryMs, leftPico}                                                   refused by a budget
// Every refusal carries both rate-limit states, so its x-ratelimit-* headers are complete. An admitted
// request also gets its candidate providers' circuits (KEYS[8] metrics, KEYS[15..] circuits, ARGV[19..]).
// The key's project (KEYS[9..14], ARGV[15..18], see project-lua.ts) is checked after the key's rate
// limits and before its budget; a project refusal ends in 'project' (and 'rebuild' then names it).
// Limits of -1 mean "no limit". Token log members are "<ticket>:<tokens>"; reservation members are
// "<ticket>|<day>|<month>|<pico-USD>" scored by their expiry, so a crashed isolate's hold lapses.
// Money is integer pico-USD: counters change only through INCRBY with the exact decimal string (64-bit
// integers in Redis); Lua compares them as doubles, exact to a few pico-USD, far below a budget's 1e-6.
const GUARD = `${CIRCUIT_READ}${PROJECT_GUARD}
local version = redis.call('GET', KEYS[1]) or '0'
if version ~= ARGV[1] then return {'stale', version} end
local now, window = tonumber(ARGV[2]), 60000
local ticket = ARGV[3]
local rpmLimit, tpmLimit, tokens = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local daily, monthly, cost, ttl = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])

local rpmUsed, rpmReset = 0, window
if rpmLimit >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  rpmUsed = redis.call('ZCARD', KEYS[2])
  if rpmUsed > 0 then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    rpmReset = tonumber(oldest[2]) + window - now
  end
end

local tpmUsed, tpmReset = 0, window
if tpmLimit >= 0 then
  -- The window's total lives in KEYS[7], so a decision only reads the entries that just expired, not the
  -- whole log; if the total was lost (eviction), it is summed from the log once.
  local total = redis.call('GET', KEYS[7])
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  if redis.call('ZCARD', KEYS[3]) == 0 then
    tpmUsed = 0
  elseif total then
    tpmUsed = tonumber(total)
    for _, m in ipairs(expired) do tpmUsed = tpmUsed - tonumber(string.match(m, ':(%d+)$')) end
  else
    for _, m in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do tpmUsed = tpmUsed + tonumber(string.match(m, ':(%d+)$')) end
  end
  tpmUsed = math.max(tpmUsed, 0)
  redis.call('SET', KEYS[7], tpmUsed, 'PX', window)
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if #oldest > 0 then tpmReset = tonumber(oldest[2]) + window - now end
end

local rpmLeft, tpmLeft = math.max(rpmLimit - rpmUsed, 0), math.max(tpmLimit - tpmUsed, 0)
if rpmLimit >= 0 and rpmUsed >= rpmLimit then return {'rpm', 0, rpmReset, tpmLeft, tpmReset, rpmReset} end
if tpmLimit >= 0 and tpmUsed + tokens > tpmLimit then
  local need, freed, wait = tpmUsed + tokens - tpmLimit, 0, window
  local entries = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
    if freed >= need then wait = tonumber(entries[i + 1]) + window - now break end
  end
  return {'tpm', rpmLeft, rpmReset, tpmLeft, tpmReset, wait}
end

-- Project limits (project-lua.ts).
local projectRefusal = projectGuard(9, 15, now, tokens, cost, ARGV[11], ARGV[12], tonumber(ARGV[13]), tonumber(ARGV[14]), {rpmLeft, rpmReset, tpmLeft, tpmReset})
if projectRefusal then return projectRefusal end

if daily >= 0 or monthly >= 0 then
  local daySpent, monthSpent = redis.call('GET', KEYS[4]), redis.call('GET', KEYS[5])
  if (daily >= 0 and not daySpent) or (monthly >= 0 and not monthSpent) then return {'rebuild'} end
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  local dayHeld, monthHeld = 0, 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do
    local d, mo, amount = string.match(m, '|(%d+)|(%d+)|(%d+)$')
    if d == ARGV[11] then dayHeld = dayHeld + tonumber(amount) end
    if mo == ARGV[12] then monthHeld = monthHeld + tonumber(amount) end
  end
  if daily >= 0 then
    local spent = tonumber(daySpent)
    if spent >= daily or spent + dayHeld + cost > daily then
      return {'budget', rpmLeft, rpmReset, tpmLeft, tpmReset, 'daily', daily, tonumber(ARGV[13]), math.max(daily - spent - dayHeld, 0)}
    end
  end
  if monthly >= 0 then
    local spent = tonumber(monthSpent)
    if spent >= monthly or spent + monthHeld + cost > monthly then
      return {'budget', rpmLeft, rpmReset, tpmLeft, tpmReset, 'monthly', monthly, tonumber(ARGV[14]), math.max(monthly - spent - monthHeld, 0)}
    end
  end
  -- The amount as sent: tostring() of a large Lua number would use an exponent.
  redis.call('ZADD', KEYS[6], now + ttl, ticket .. '|' .. ARGV[11] .. '|' .. ARGV[12] .. '|' .. ARGV[9])
  redis.call('PEXPIRE', KEYS[6], ttl)
end

if rpmLimit >= 0 then
  redis.call('ZADD', KEYS[2], now, ticket)
  redis.call('PEXPIRE', KEYS[2], window)
end
if tpmLimit >= 0 then
  redis.call('ZADD', KEYS[3], now, ticket .. ':' .. tokens)
  redis.call('PEXPIRE', KEYS[3], window)
  redis.call('INCRBY', KEYS[7], tokens)
  redis.call('PEXPIRE', KEYS[7], window)
end
-- Project windows and reservation (project-lua.ts).
projectCommit(9, 15, now, ticket, tokens, ARGV[9], ttl, ARGV[11], ARGV[12])
return {'ok', rpmLimit - rpmUsed - 1, rpmReset, tpmLimit - tpmUsed - tokens, tpmReset, circuitRead(15, 19, KEYS[8], now)}
`

// Everything after the response, for a batch of requests in one step (docs/performance.md). KEYS[1] is
// the metrics hash, ARGV[1] the number of requests, ARGV[2] the clock; then per request five keys (its
// token log, day and month spend counters, reservations, token log total) and its circuit hashes, and
// the arguments: ticket, held tokens ('' = no TPM hold), real tokens, reservation member ('' = none),
// real cost in pico-USD, then n and n × 8 outcome arguments that move the circuits. A hold (when there
// is one) is settled: the token log and its running total get the real count, the reservation goes, the
// spend counters get the real cost (only where they exist: a missing counter is rebuilt from Postgres).
// After the last request: the batch's metric increments (field, amount, …). Returns each request's
// circuit transitions (outcome index, new state, …). Each request's project share is settled by
// projectSettle (project-lua.ts): after the key's five keys come the project's five (token log, its
// total, day and month spend, reservations), after its five arguments the project's held tokens and
// reservation member ('' = none). Then come budgetAlerts' (alerts-lua.ts) four alert hashes and seven
// arguments (four budgets, two fraction lists, the budget refusal). Returns {each request's circuit
// transitions, each request's budget alerts}.
const FINISH = `${CIRCUIT_RECORD}${PROJECT_SETTLE}${BUDGET_ALERTS}
local now, requests = tonumber(ARGV[2]), tonumber(ARGV[1])
local k, a, all, alerts = 2, 3, {}, {}
for r = 1, requests do
  local ticket, held, actual, reservation, cost = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  if ticket ~= '' then
    if held ~= '' then
      local member = ticket .. ':' .. held
      local score = redis.call('ZSCORE', KEYS[k], member)
      if score then
        redis.call('ZREM', KEYS[k], member)
        if tonumber(actual) > 0 then redis.call('ZADD', KEYS[k], score, ticket .. ':' .. actual) end
        if redis.call('EXISTS', KEYS[k + 4]) == 1 then
          redis.call('INCRBY', KEYS[k + 4], tonumber(actual) - tonumber(held))
        end
      end
    end
    if reservation ~= '' then redis.call('ZREM', KEYS[k + 3], reservation) end
    if cost ~= '0' then
      if redis.call('EXISTS', KEYS[k + 1]) == 1 then redis.call('INCRBY', KEYS[k + 1], cost) end
      if redis.call('EXISTS', KEYS[k + 2]) == 1 then redis.call('INCRBY', KEYS[k + 2], cost) end
    end
    -- Project share (project-lua.ts).
    projectSettle(k + 5, ticket, ARGV[a + 5], actual, ARGV[a + 6], cost)
  end
  -- Budget alerts (alerts-lua.ts).
  alerts[r] = budgetAlerts(k + 10, a + 7, {KEYS[k + 1], KEYS[k + 2], KEYS[k + 7], KEYS[k + 8]}, ARGV[a + 13])
  local outcomes = tonumber(ARGV[a + 14])
  all[r] = circuitRecord(k + 14, a + 15, outcomes, KEYS[1], now)
  k, a = k + 14 + outcomes, a + 15 + outcomes * 8
end
for i = a, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {all, alerts}
`

export type GuardReply =
  | ['stale', string]
  | ['rebuild', 'project'?]
  | ['ok', number, number, number, number, CircuitRead[]]
  | ['rpm' | 'tpm', number, number, number, number, number, 'project'?, number?, number?]
  | ['budget', number, number, number, number, 'daily' | 'monthly', number, number, number, 'project'?]

// Per candidate provider: route (0 use, 1 probe, 2 skip), success ratio in ‰ and latency in ms (-1 unknown),
// and 1 when this read moved its breaker from open to half-open.
export type CircuitRead = [route: 0 | 1 | 2, successPermille: number, latencyMs: number, moved?: 0 | 1]

export const guardScript = hotScript(GUARD)

export const finishScript = hotScript(FINISH)

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

export type SpoolStepReply = [0] | [1, ...string[]]

export const spoolStepScript = scriptFor<SpoolStepReply>(SPOOL_STEP)

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

export const raiseCountersScript = scriptFor<number>(RAISE_COUNTERS)
