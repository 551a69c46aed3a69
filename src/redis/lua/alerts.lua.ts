// Budget alerts (issue 14), a Lua function the FINISH script calls once per scope (scope.lua.ts layout),
// after the scope's spend counters got the request's cost: which thresholds this request made the
// scope's day and month spend reach. Each crossing is recorded in a per-period HASH with HSETNX, so it is
// announced exactly once per threshold per UTC day/month however many isolates settle at the same moment.
// A budget the guard refused this request for counts as exhausted (reservations keep spend just under a
// budget, so it may never reach 100 %). Appends {scope index, window, fraction or 'exhausted', spent
// pico-USD} per new crossing to `out`.
export const BUDGET_ALERTS = `
local function alertScope(k, a, index, out)
  local windows = {'daily', 'monthly'}
  local counters = {KEYS[k + SK.spendDay], KEYS[k + SK.spendMonth]}
  local hashes = {KEYS[k + ALERT_DAY], KEYS[k + ALERT_MONTH]}
  local budgets = {tonumber(ARGV[a + SS.dailyBudget]), tonumber(ARGV[a + SS.monthlyBudget])}
  local ttls = {172800, 3024000}
  local fractions, refused = ARGV[a + SS.fractions], ARGV[a + SS.refused]
  for i = 1, 2 do
    local budget = budgets[i]
    local spentText = budget > 0 and redis.call('GET', counters[i])
    if spentText then
      local spent, hash = tonumber(spentText), hashes[i]
      for f in string.gmatch(fractions, '[^,]+') do
        if spent >= tonumber(f) * budget and redis.call('HSETNX', hash, f, 1) == 1 then
          out[#out + 1] = {index, windows[i], f, spentText}
        end
      end
      local exhausted = spent >= budget or refused == windows[i]
      if exhausted and redis.call('HSETNX', hash, 'exhausted', 1) == 1 then
        out[#out + 1] = {index, windows[i], 'exhausted', spentText}
      end
      redis.call('EXPIRE', hash, ttls[i])
    end
  end
end
`
