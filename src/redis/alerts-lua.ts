// Budget alerts (issue 14), a Lua function the FINISH script includes: after the spend counters got the
// request's cost, decide which thresholds this request made the key's and the project's spend reach.
// Each crossing is recorded in a per-period HASH with HSETNX, so it is announced exactly once per
// threshold per UTC day/month however many isolates settle at the same moment.
//
// KEYS[k..k+3]: alert hashes for the key's day, key's month, project's day, project's month.
// counters: the four matching spend counters (pico-USD). ARGV[a..a+3]: the four budgets in pico-USD (-1
// none); ARGV[a+4] / ARGV[a+5]: the key's / the project's fractions, comma-separated ("0.5,0.8,1").
// refused: '' or "<key|project>|<daily|monthly>" when the guard refused this request for that budget,
// which counts as exhausted (reservations keep spend just under a budget, so it may never reach 100 %).
// Returns "<scope>|<window>|<fraction or 'exhausted'>|<spent pico>" per new crossing.
export const BUDGET_ALERTS = `
local function budgetAlerts(k, a, counters, refused)
  local out = {}
  local scopes = {'key', 'key', 'project', 'project'}
  local windows = {'daily', 'monthly', 'daily', 'monthly'}
  local ttls = {172800, 3024000, 172800, 3024000}
  for i = 1, 4 do
    local budget = tonumber(ARGV[a + i - 1])
    local spentText = budget > 0 and redis.call('GET', counters[i])
    if spentText then
      local spent, hash = tonumber(spentText), KEYS[k + i - 1]
      local fractions = i <= 2 and ARGV[a + 4] or ARGV[a + 5]
      for f in string.gmatch(fractions, '[^,]+') do
        if spent >= tonumber(f) * budget and redis.call('HSETNX', hash, f, 1) == 1 then
          out[#out + 1] = scopes[i] .. '|' .. windows[i] .. '|' .. f .. '|' .. spentText
        end
      end
      local exhausted = spent >= budget or refused == scopes[i] .. '|' .. windows[i]
      if exhausted and redis.call('HSETNX', hash, 'exhausted', 1) == 1 then
        out[#out + 1] = scopes[i] .. '|' .. windows[i] .. '|exhausted|' .. spentText
      end
      redis.call('EXPIRE', hash, ttls[i])
    end
  end
  return out
end
`
