// Project limits (issue 14), as Lua functions the GUARD and FINISH scripts include: the same decisions as
// the key's (sliding RPM/TPM windows, day/month spend counters in integer pico-USD with reservations),
// on the project's own Redis keys, so every key of a project draws on one shared allowance inside the
// same atomic step as the key's own checks.
//
// Project KEYS, from index k: [k] request log, [k+1] token log, [k+2] token log total, [k+3] day spend,
// [k+4] month spend, [k+5] reservations (the same shapes as the key's, see keys.ts).
// GUARD ARGV, from index a: [a] rpm limit, [a+1] tpm limit, [a+2] daily, [a+3] monthly budget (pico-USD);
// -1 means "no limit".

// Returns nil when the project admits the request (nothing written but window housekeeping), else the
// refusal: {'rpm'|'tpm', <key's four rate-limit numbers>, retryMs, 'project', limit, remaining},
// {'budget', <key's four>, 'daily'|'monthly', limitPico, retryMs, leftPico, 'project'} or
// {'rebuild', 'project'} when a spend counter is missing.
export const PROJECT_GUARD = `
local function projectGuard(k, a, now, tokens, cost, day, month, toDay, toMonth, keyState)
  local window = 60000
  local rpmLimit, tpmLimit = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local daily, monthly = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local ks1, ks2, ks3, ks4 = keyState[1], keyState[2], keyState[3], keyState[4]
  if rpmLimit >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - window)
    if redis.call('ZCARD', KEYS[k]) >= rpmLimit then
      local oldest, wait = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES'), window
      if #oldest > 0 then wait = tonumber(oldest[2]) + window - now end
      return {'rpm', ks1, ks2, ks3, ks4, wait, 'project', rpmLimit, 0}
    end
  end
  if tpmLimit >= 0 then
    local total = redis.call('GET', KEYS[k + 2])
    local expired = redis.call('ZRANGEBYSCORE', KEYS[k + 1], '-inf', now - window)
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 1], '-inf', now - window)
    local used = 0
    if redis.call('ZCARD', KEYS[k + 1]) == 0 then
      used = 0
    elseif total then
      used = tonumber(total)
      for _, m in ipairs(expired) do used = used - tonumber(string.match(m, ':(%d+)$')) end
    else
      for _, m in ipairs(redis.call('ZRANGE', KEYS[k + 1], 0, -1)) do used = used + tonumber(string.match(m, ':(%d+)$')) end
    end
    used = math.max(used, 0)
    redis.call('SET', KEYS[k + 2], used, 'PX', window)
    if used + tokens > tpmLimit then
      local need, freed, wait = used + tokens - tpmLimit, 0, window
      local entries = redis.call('ZRANGE', KEYS[k + 1], 0, -1, 'WITHSCORES')
      for i = 1, #entries, 2 do
        freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
        if freed >= need then wait = tonumber(entries[i + 1]) + window - now break end
      end
      return {'tpm', ks1, ks2, ks3, ks4, wait, 'project', tpmLimit, math.max(tpmLimit - used, 0)}
    end
  end
  if daily >= 0 or monthly >= 0 then
    local daySpent, monthSpent = redis.call('GET', KEYS[k + 3]), redis.call('GET', KEYS[k + 4])
    if (daily >= 0 and not daySpent) or (monthly >= 0 and not monthSpent) then return {'rebuild', 'project'} end
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 5], '-inf', now)
    local dayHeld, monthHeld = 0, 0
    for _, m in ipairs(redis.call('ZRANGE', KEYS[k + 5], 0, -1)) do
      local d, mo, amount = string.match(m, '|(%d+)|(%d+)|(%d+)$')
      if d == day then dayHeld = dayHeld + tonumber(amount) end
      if mo == month then monthHeld = monthHeld + tonumber(amount) end
    end
    if daily >= 0 then
      local spent = tonumber(daySpent)
      if spent >= daily or spent + dayHeld + cost > daily then
        return {'budget', ks1, ks2, ks3, ks4, 'daily', daily, toDay, math.max(daily - spent - dayHeld, 0), 'project'}
      end
    end
    if monthly >= 0 then
      local spent = tonumber(monthSpent)
      if spent >= monthly or spent + monthHeld + cost > monthly then
        return {'budget', ks1, ks2, ks3, ks4, 'monthly', monthly, toMonth, math.max(monthly - spent - monthHeld, 0), 'project'}
      end
    end
  end
  return nil
end

-- The admitted request's share of the project's windows and its budget reservation (costText as sent:
-- tostring() of a large Lua number would use an exponent).
local function projectCommit(k, a, now, ticket, tokens, costText, ttl, day, month)
  local window = 60000
  if tonumber(ARGV[a]) >= 0 then
    redis.call('ZADD', KEYS[k], now, ticket)
    redis.call('PEXPIRE', KEYS[k], window)
  end
  if tonumber(ARGV[a + 1]) >= 0 then
    redis.call('ZADD', KEYS[k + 1], now, ticket .. ':' .. tokens)
    redis.call('PEXPIRE', KEYS[k + 1], window)
    redis.call('INCRBY', KEYS[k + 2], tokens)
    redis.call('PEXPIRE', KEYS[k + 2], window)
  end
  if tonumber(ARGV[a + 2]) >= 0 or tonumber(ARGV[a + 3]) >= 0 then
    redis.call('ZADD', KEYS[k + 5], now + ttl, ticket .. '|' .. day .. '|' .. month .. '|' .. costText)
    redis.call('PEXPIRE', KEYS[k + 5], ttl)
  end
end
`

// FINISH: settles the project's share of a hold like the key's. KEYS from k: [k] token log, [k+1] its
// total, [k+2] day spend, [k+3] month spend, [k+4] reservations. held: the tokens the guard put in the
// project's token log ('' for none); reservation: the member to drop ('' for none). Spend counters get
// the real cost where they exist (a missing one is rebuilt from Postgres on the next decision).
export const PROJECT_SETTLE = `
local function projectSettle(k, ticket, held, actualTokens, reservation, cost)
  if held ~= '' then
    local member = ticket .. ':' .. held
    local score = redis.call('ZSCORE', KEYS[k], member)
    if score then
      redis.call('ZREM', KEYS[k], member)
      if tonumber(actualTokens) > 0 then redis.call('ZADD', KEYS[k], score, ticket .. ':' .. actualTokens) end
      if redis.call('EXISTS', KEYS[k + 1]) == 1 then
        redis.call('INCRBY', KEYS[k + 1], tonumber(actualTokens) - tonumber(held))
      end
    end
  end
  if reservation ~= '' then redis.call('ZREM', KEYS[k + 4], reservation) end
  if cost ~= '0' then
    if redis.call('EXISTS', KEYS[k + 2]) == 1 then redis.call('INCRBY', KEYS[k + 2], cost) end
    if redis.call('EXISTS', KEYS[k + 3]) == 1 then redis.call('INCRBY', KEYS[k + 3], cost) end
  end
end
`
