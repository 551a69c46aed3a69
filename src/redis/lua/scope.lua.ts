import { SCOPE_KEYS } from '../keys'
import { offsets } from '../sections'

// The limits of one scope (an API key or its project: keys.ts Scope) as Lua functions over the index of
// the scope's first key (k) and first argument (a), so the guard and finish scripts call each once per
// scope. A scope's keys are keys.ts SCOPE_KEYS, in that order. Limits of -1 mean "no limit". Money is
// integer pico-USD: counters change only through INCRBY with the exact decimal string (64-bit integers
// in Redis); Lua compares them as doubles, exact to a few pico-USD, far below a budget's 1e-6.
// Token log members are "<ticket>:<tokens>"; reservation members are reservationMember()
// ("<ticket>|<day>|<month>|<pico-USD>", redis/scripts/guard.ts) scored by their expiry, so a crashed
// isolate's hold lapses.

// The guard's arguments per scope: its limits.
export const SCOPE_LIMITS = ['rpmLimit', 'tpmLimit', 'daily', 'monthly'] as const
// The finish step's arguments per scope: what the guard held in it ('' = nothing), then its budget
// alerts' budgets (-1 none), fractions ("0.5,0.8,1") and the budget window the guard refused ('' none).
export const SCOPE_SETTLE = [
  'heldTokens',
  'reservation',
  'dailyBudget',
  'monthlyBudget',
  'fractions',
  'refused',
] as const
// The finish step's keys per scope: SCOPE_KEYS, then the day's and the month's alert hashes.
const SETTLE_KEY_COUNT = SCOPE_KEYS.length + 2

export const SCOPE_LUA = `
local SK, SCOPE_KEY_COUNT = ${offsets(SCOPE_KEYS)}, ${SCOPE_KEYS.length}
local SL, SCOPE_LIMIT_COUNT = ${offsets(SCOPE_LIMITS)}, ${SCOPE_LIMITS.length}
local SS, SCOPE_SETTLE_COUNT = ${offsets(SCOPE_SETTLE)}, ${SCOPE_SETTLE.length}
local ALERT_DAY, ALERT_MONTH, SETTLE_KEY_COUNT = ${SCOPE_KEYS.length}, ${SCOPE_KEYS.length + 1}, ${SETTLE_KEY_COUNT}
local WINDOW = 60000
local function loggedTokens(member) return tonumber(string.match(member, ':(%d+)$')) end

-- The scope's sliding RPM and TPM windows (trimmed; nothing counted yet) and, when one is full, the
-- refusal {by, limit, remaining, retryMs}.
local function checkRates(k, a, now, tokens)
  local w = {rpmLimit = tonumber(ARGV[a + SL.rpmLimit]), tpmLimit = tonumber(ARGV[a + SL.tpmLimit]),
    rpmUsed = 0, rpmReset = WINDOW, tpmUsed = 0, tpmReset = WINDOW}
  local rpm, tpm, total = KEYS[k + SK.rpm], KEYS[k + SK.tpm], KEYS[k + SK.tpmTotal]
  if w.rpmLimit >= 0 then
    redis.call('ZREMRANGEBYSCORE', rpm, '-inf', now - WINDOW)
    w.rpmUsed = redis.call('ZCARD', rpm)
    if w.rpmUsed > 0 then
      local oldest = redis.call('ZRANGE', rpm, 0, 0, 'WITHSCORES')
      w.rpmReset = tonumber(oldest[2]) + WINDOW - now
    end
  end
  if w.tpmLimit >= 0 then
    -- The window's total has a key of its own, so a decision only reads the entries that just expired,
    -- not the whole log; if the total was lost (eviction), it is summed from the log once.
    local sum = redis.call('GET', total)
    local expired = redis.call('ZRANGEBYSCORE', tpm, '-inf', now - WINDOW)
    redis.call('ZREMRANGEBYSCORE', tpm, '-inf', now - WINDOW)
    local used = 0
    if redis.call('ZCARD', tpm) == 0 then
      used = 0
    elseif sum then
      used = tonumber(sum)
      for _, m in ipairs(expired) do used = used - loggedTokens(m) end
    else
      for _, m in ipairs(redis.call('ZRANGE', tpm, 0, -1)) do used = used + loggedTokens(m) end
    end
    w.tpmUsed = math.max(used, 0)
    redis.call('SET', total, w.tpmUsed, 'PX', WINDOW)
    local oldest = redis.call('ZRANGE', tpm, 0, 0, 'WITHSCORES')
    if #oldest > 0 then w.tpmReset = tonumber(oldest[2]) + WINDOW - now end
  end
  if w.rpmLimit >= 0 and w.rpmUsed >= w.rpmLimit then return w, {'rpm', w.rpmLimit, 0, w.rpmReset} end
  if w.tpmLimit >= 0 and w.tpmUsed + tokens > w.tpmLimit then
    local need, freed, wait = w.tpmUsed + tokens - w.tpmLimit, 0, WINDOW
    local entries = redis.call('ZRANGE', tpm, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      freed = freed + loggedTokens(entries[i])
      if freed >= need then wait = tonumber(entries[i + 1]) + WINDOW - now break end
    end
    return w, {'tpm', w.tpmLimit, math.max(w.tpmLimit - w.tpmUsed, 0), wait}
  end
  return w, nil
end

-- The scope's day and month budgets against settled spend plus live reservations: nil (fits),
-- {'rebuild'} (a spend counter is missing: rebuild it from usage_logs) or {'budget', limit, left, window}.
local function checkBudget(k, a, now, cost, day, month)
  local daily, monthly = tonumber(ARGV[a + SL.daily]), tonumber(ARGV[a + SL.monthly])
  if daily < 0 and monthly < 0 then return nil end
  local daySpent, monthSpent = redis.call('GET', KEYS[k + SK.spendDay]), redis.call('GET', KEYS[k + SK.spendMonth])
  if (daily >= 0 and not daySpent) or (monthly >= 0 and not monthSpent) then return {'rebuild'} end
  local resv = KEYS[k + SK.reservations]
  redis.call('ZREMRANGEBYSCORE', resv, '-inf', now)
  local dayHeld, monthHeld = 0, 0
  for _, m in ipairs(redis.call('ZRANGE', resv, 0, -1)) do
    local d, mo, amount = string.match(m, '|(%d+)|(%d+)|(%d+)$')
    if d == day then dayHeld = dayHeld + tonumber(amount) end
    if mo == month then monthHeld = monthHeld + tonumber(amount) end
  end
  if daily >= 0 then
    local spent = tonumber(daySpent)
    if spent >= daily or spent + dayHeld + cost > daily then
      return {'budget', daily, math.max(daily - spent - dayHeld, 0), 'daily'}
    end
  end
  if monthly >= 0 then
    local spent = tonumber(monthSpent)
    if spent >= monthly or spent + monthHeld + cost > monthly then
      return {'budget', monthly, math.max(monthly - spent - monthHeld, 0), 'monthly'}
    end
  end
  return nil
end

-- Counts an admitted request in the scope's windows and reserves its cost under a budget (member as
-- sent: tostring() of a large Lua number would use an exponent).
local function commitScope(k, a, now, ticket, tokens, member, ttl)
  if tonumber(ARGV[a + SL.rpmLimit]) >= 0 then
    redis.call('ZADD', KEYS[k + SK.rpm], now, ticket)
    redis.call('PEXPIRE', KEYS[k + SK.rpm], WINDOW)
  end
  if tonumber(ARGV[a + SL.tpmLimit]) >= 0 then
    redis.call('ZADD', KEYS[k + SK.tpm], now, ticket .. ':' .. tokens)
    redis.call('PEXPIRE', KEYS[k + SK.tpm], WINDOW)
    redis.call('INCRBY', KEYS[k + SK.tpmTotal], tokens)
    redis.call('PEXPIRE', KEYS[k + SK.tpmTotal], WINDOW)
  end
  if tonumber(ARGV[a + SL.daily]) >= 0 or tonumber(ARGV[a + SL.monthly]) >= 0 then
    redis.call('ZADD', KEYS[k + SK.reservations], now + ttl, member)
    redis.call('PEXPIRE', KEYS[k + SK.reservations], ttl)
  end
end

-- Settles the scope's share of a hold with the real numbers: the token log entry and its running total
-- get the real count, the reservation goes, the spend counters get the real cost (only where they
-- exist: a missing counter is rebuilt from Postgres on the next decision).
local function settleScope(k, a, ticket, actualTokens, cost)
  local held, reservation = ARGV[a + SS.heldTokens], ARGV[a + SS.reservation]
  if held ~= '' then
    local tpm, member = KEYS[k + SK.tpm], ticket .. ':' .. held
    local score = redis.call('ZSCORE', tpm, member)
    if score then
      redis.call('ZREM', tpm, member)
      if tonumber(actualTokens) > 0 then redis.call('ZADD', tpm, score, ticket .. ':' .. actualTokens) end
      if redis.call('EXISTS', KEYS[k + SK.tpmTotal]) == 1 then
        redis.call('INCRBY', KEYS[k + SK.tpmTotal], tonumber(actualTokens) - tonumber(held))
      end
    end
  end
  if reservation ~= '' then redis.call('ZREM', KEYS[k + SK.reservations], reservation) end
  if cost ~= '0' then
    if redis.call('EXISTS', KEYS[k + SK.spendDay]) == 1 then redis.call('INCRBY', KEYS[k + SK.spendDay], cost) end
    if redis.call('EXISTS', KEYS[k + SK.spendMonth]) == 1 then redis.call('INCRBY', KEYS[k + SK.spendMonth], cost) end
  end
end
`
