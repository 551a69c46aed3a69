// A rolling window's buckets (src/billing/windows.ts reads them for /v1/me).
export const BUCKETS = 60

// The relay's economy in the guard's and the finish step's own atomic step: rolling windows (per key or
// project and period, one HASH of time buckets: src/billing/windows.ts) and a prepaid project's balance (HASH
// credit/cid/spent: redis/scripts/balance.ts, with its in-flight reservations in a ZSET scored by expiry, so
// a crashed isolate's hold lapses). Money is integer pico-USD written with HINCRBY as the exact decimal
// string; Lua compares as doubles (exact to the pico below $9,000, a few pico above).
//
// Guard, per window: KEYS[k] its buckets; ARGV[a..a+3] (WINDOW_CHECK). Balance: KEYS[k] the balance,
// KEYS[k+1] its reservations. Finish, per window: KEYS[k]; ARGV[a..a+1] (WINDOW_SETTLE). Balance: KEYS[k],
// KEYS[k+1]; ARGV[a..a+3] (BALANCE_SETTLE).
export const WINDOW_CHECK = ['bucketMs', 'limitPico', 'limitRequests', 'index'] as const
// The bucket field the guard reserved in ('c<n>') and real charge − reservation.
export const WINDOW_SETTLE = ['field', 'delta'] as const
// The reservation member ('' none), the real charge, the balance.low threshold (-1 none), '1' when the guard
// refused this request for the balance.
export const BALANCE_SETTLE = ['member', 'charge', 'alertPico', 'refused'] as const

export const ECONOMY_LUA = `
local BUCKETS = ${BUCKETS}

-- What a window counts now (its buckets older than BUCKETS are dropped) and, when this request does not
-- fit, {'window', index, 'usd'|'requests', limit, used, retryMs} (retryMs -1: it can never fit).
local function checkWindow(k, a, now, cost)
  local key, size = KEYS[k], tonumber(ARGV[a])
  local limitUsd, limitRequests = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local current = math.floor(now / size)
  local usd, requests, stale, byBucket, order = 0, 0, {}, {}, {}
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do
    local n, v = tonumber(string.sub(flat[i], 2)), tonumber(flat[i + 1])
    if n < current - BUCKETS then
      stale[#stale + 1] = flat[i]
    else
      if not byBucket[n] then byBucket[n] = {c = 0, r = 0}; order[#order + 1] = n end
      if string.sub(flat[i], 1, 1) == 'c' then byBucket[n].c = v; usd = usd + v
      else byBucket[n].r = v; requests = requests + v end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  local over, limit, used, need
  if limitRequests >= 0 and requests + 1 > limitRequests then
    over, limit, used, need = 'requests', limitRequests, requests, requests + 1 - limitRequests
  elseif limitUsd >= 0 and usd + cost > limitUsd then
    over, limit, used, need = 'usd', limitUsd, usd, usd + cost - limitUsd
  else
    return nil
  end
  if (over == 'requests' and limit < 1) or (over == 'usd' and cost > limit) then
    return {'window', tonumber(ARGV[a + 3]), over, limit, used, -1}
  end
  table.sort(order)
  local freed, wait = 0, -1
  for _, n in ipairs(order) do
    freed = freed + (over == 'usd' and byBucket[n].c or byBucket[n].r)
    if freed >= need then wait = (n + BUCKETS + 1) * size - now break end
  end
  return {'window', tonumber(ARGV[a + 3]), over, limit, used, math.max(wait, 0)}
end

-- Counts an admitted request in the window's current bucket: one request and its reservation.
local function commitWindow(k, a, now, costText)
  local key, size = KEYS[k], tonumber(ARGV[a])
  local n = math.floor(now / size)
  if costText ~= '0' then redis.call('HINCRBY', key, 'c' .. n, costText) end
  redis.call('HINCRBY', key, 'r' .. n, 1)
  redis.call('PEXPIRE', key, (BUCKETS + 2) * size)
end

-- The real charge replaces the reservation in the bucket the guard counted it in.
local function settleWindow(k, a)
  if ARGV[a + 1] ~= '0' and redis.call('EXISTS', KEYS[k]) == 1 then
    redis.call('HINCRBY', KEYS[k], ARGV[a], ARGV[a + 1])
  end
end

-- A prepaid balance against this request's reservation: nil (it fits), {'rebuild'} (Redis lost the balance:
-- rebuild it from Postgres) or {'balance', leftPico}.
local function checkBalance(k, now, cost)
  local state = redis.call('HMGET', KEYS[k], 'credit', 'spent')
  if not state[1] or not state[2] then return {'rebuild'} end
  redis.call('ZREMRANGEBYSCORE', KEYS[k + 1], '-inf', now)
  local held = 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[k + 1], 0, -1)) do
    held = held + tonumber(string.match(m, '|(%d+)$'))
  end
  local left = tonumber(state[1]) - tonumber(state[2]) - held
  if cost > left then return {'balance', math.max(left, 0)} end
  return nil
end

local function commitBalance(k, now, member, ttl)
  redis.call('ZADD', KEYS[k + 1], now + ttl, member)
  redis.call('PEXPIRE', KEYS[k + 1], ttl)
end

-- Releases the reservation and takes the real charge (only from a balance that exists: a lost one is
-- rebuilt from Postgres, where this charge's usage row lands). Returns the balance events it decided,
-- each once per credit count ('cid': a top-up re-arms them): {'low'|'exhausted', leftPico, cid}.
local function settleBalance(k, a, events)
  local bal, member, charge = KEYS[k], ARGV[a], ARGV[a + 1]
  if member ~= '' then redis.call('ZREM', KEYS[k + 1], member) end
  if redis.call('EXISTS', bal) == 0 then return end
  if charge ~= '0' then redis.call('HINCRBY', bal, 'spent', charge) end
  local state = redis.call('HMGET', bal, 'credit', 'spent', 'cid', 'lcid', 'xcid')
  if not state[1] or not state[2] then return end
  local left, cid = tonumber(state[1]) - tonumber(state[2]), state[3] or '0'
  local alert = tonumber(ARGV[a + 2])
  if alert >= 0 and left < alert and left + tonumber(charge) >= alert and state[4] ~= cid then
    redis.call('HSET', bal, 'lcid', cid)
    events[#events + 1] = {'low', math.max(left, 0), cid}
  end
  if (ARGV[a + 3] == '1' or left <= 0) and state[5] ~= cid then
    redis.call('HSET', bal, 'xcid', cid)
    events[#events + 1] = {'exhausted', math.max(left, 0), cid}
  end
end
`
