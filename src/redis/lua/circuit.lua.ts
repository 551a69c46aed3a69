// Circuit breakers as Lua functions spliced into the guard and finish scripts, so reading and writing
// them costs no round trip of its own. One hash per provider (keys.circuit):
//   st  0 closed · 1 half-open · 2 open       f   consecutive provider faults
//   ou  open until (ms)                        pu  half-open probe lease until (ms)
//   cu  429 cooldown until (ms)                ws, wo, wf  failure-ratio window: start, successes, faults
//   sr  success ratio (EWMA)                   lat latency of successes in ms (EWMA)   lt  last transition (ms)
//   fk, fm  the virtual key of the current fault streak's first fault; 1 once another key faulted too
//   wk, wm  the same for the failure-ratio window's faults
//   x:<virtual key>  until (ms): that key alone skips the provider (its own faults met the rule)
//   kc  stored provider keys cooling after a 429, shared by every isolate: "<key id>=<until ms>;…"
// Transitions also move the metrics hash: the state gauge and the transitions counter.
// The breaker states by their number in the hash's `st` field.
export const CIRCUIT_STATES = ['closed', 'half_open', 'open'] as const
export type CircuitState = (typeof CIRCUIT_STATES)[number]

const ALPHA = 0.2
const TTL_MS = 7 * 86_400_000

const COMMON = `
local function circuitMove(key, metrics, label, to, now, openUntil)
  redis.call('HSET', key, 'st', to, 'ou', openUntil, 'pu', 0, 'lt', now)
  local name = ({[0] = 'closed', [1] = 'half_open', [2] = 'open'})[to]
  redis.call('HINCRBY', metrics, 'nexusai_circuit_transitions_total\\t' .. label .. ',to="' .. name .. '"\\t', 1)
  redis.call('HSET', metrics, 'nexusai_provider_circuit_state\\t' .. label .. '\\t', to)
end
`

// KEYS[first..first + count - 1] are the candidates' circuit hashes, ARGV[from + 3i .. from + 3i + 2]
// the i-th one's probe lease (ms), metric label and the requesting virtual key. Returns one
// {route, successPermille, latencyMs, moved, coolingKeys} per candidate: route 0 = use, 1 = use as this
// request's half-open probe, 2 = skip (open, cooling down, open for this virtual key alone, or someone
// else is probing); moved = 1 when this read moved the breaker from open to half-open; coolingKeys the
// kc field as stored. Whoever finds an open breaker past its cooldown with no live lease takes the
// lease, so exactly one request probes; a probe that never reports back loses its lease when it expires.
export const CIRCUIT_READ = `${COMMON}
local function circuitRead(first, from, count, metrics, now)
  local out = {}
  for i = first, first + count - 1 do
    local j = from + (i - first) * 3
    local h = redis.call('HMGET', KEYS[i], 'st', 'ou', 'pu', 'cu', 'sr', 'lat', 'x:' .. ARGV[j + 2], 'kc')
    local st = tonumber(h[1]) or 0
    local route, moved = 0, 0
    if (tonumber(h[4]) or 0) > now or (tonumber(h[7]) or 0) > now then
      route = 2
    elseif st ~= 0 then
      if (st == 2 and (tonumber(h[2]) or 0) > now) or (tonumber(h[3]) or 0) > now then
        route = 2
      else
        route = 1
        if st == 2 then
          circuitMove(KEYS[i], metrics, ARGV[j + 1], 1, now, 0)
          moved = 1
        end
        redis.call('HSET', KEYS[i], 'pu', now + tonumber(ARGV[j]))
      end
    end
    local sr, lat = tonumber(h[5]), tonumber(h[6])
    out[#out + 1] = {route, sr and math.floor(sr * 1000 + 0.5) or -1, lat and math.floor(lat + 0.5) or -1, moved,
      h[8] or ''}
  end
  return out
end
`

// A stored provider key's shared 429 cooldown: the kc list without expired entries, this key's until
// raised to `untilMs`, at most 100 entries (those ending soonest go first).
const KEY_COOL = `
local function coolStoredKey(key, id, untilMs, now)
  local entries = {}
  for entry in string.gmatch(redis.call('HGET', key, 'kc') or '', '[^;]+') do
    local k, u = string.match(entry, '^(.-)=(%d+)$')
    u = tonumber(u)
    if k == id then
      untilMs = math.max(untilMs, u)
    elseif k and u > now then
      entries[#entries + 1] = {k, u}
    end
  end
  entries[#entries + 1] = {id, untilMs}
  table.sort(entries, function(x, y) return x[2] > y[2] end)
  local out = {}
  for n = 1, math.min(#entries, 100) do out[n] = entries[n][1] .. '=' .. string.format('%d', entries[n][2]) end
  redis.call('HSET', key, 'kc', table.concat(out, ';'))
end
`

// The arguments of one outcome in the finish script (redis/scripts/finish.ts OUTCOME).
export const OUTCOME_ARGS = 10

// Applies one request's attempt outcomes in order. KEYS[first + i] is the i-th outcome's circuit hash,
// ARGV[from + 10i ..] its kind ('ok' | 'fault' | 'cool' | 'keycool'), latency ms, Retry-After ms, then the
// provider's threshold, window ms, failure ratio (%), cooldown ms, metric label, the virtual key that made
// the request and (keycool) the stored provider key that the upstream cooled. A breaker opens after
// `threshold` consecutive faults, or when faults reach the ratio of a window with at least `threshold`
// outcomes — but only when the faults came from more than one virtual key: one key alone that meets the
// rule opens the breaker for itself only (x:<key>), so no single key can take a provider away from every
// other. A fault while half-open reopens it, any success closes it (and a key's own opening).
// Returns {i, to, …} per transition.
export const CIRCUIT_RECORD = `${COMMON}${KEY_COOL}
local function circuitRecord(first, from, count, metrics, now)
  local moves = {}
  for i = 0, count - 1 do
    local key, a = KEYS[first + i], from + i * ${OUTCOME_ARGS}
    local kind, by = ARGV[a], ARGV[a + 8]
    if kind == 'cool' then
      local cu = tonumber(redis.call('HGET', key, 'cu')) or 0
      redis.call('HSET', key, 'cu', math.max(cu, now + tonumber(ARGV[a + 2])))
    elseif kind == 'keycool' then
      coolStoredKey(key, ARGV[a + 9], now + tonumber(ARGV[a + 2]), now)
    else
      local h = redis.call('HMGET', key, 'st', 'f', 'ws', 'wo', 'wf', 'sr', 'lat', 'fk', 'fm', 'wk', 'wm')
      local st, f = tonumber(h[1]) or 0, tonumber(h[2]) or 0
      local ws, wo, wf = tonumber(h[3]) or 0, tonumber(h[4]) or 0, tonumber(h[5]) or 0
      local sr, lat = tonumber(h[6]) or 1, tonumber(h[7])
      local fk, fm, wk, wm = h[8] or '', tonumber(h[9]) or 0, h[10] or '', tonumber(h[11]) or 0
      local threshold, window, ratio = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
      if now - ws >= window then ws, wo, wf, wk, wm = now, 0, 0, '', 0 end
      local to = nil
      if kind == 'ok' then
        local ms = tonumber(ARGV[a + 1])
        f, wo, sr, fk, fm = 0, wo + 1, sr * (1 - ${ALPHA}) + ${ALPHA}, '', 0
        lat = lat and lat * (1 - ${ALPHA}) + ms * ${ALPHA} or ms
        if st ~= 0 then to = 0 end
        redis.call('HDEL', key, 'x:' .. by)
      else
        if f == 0 then fk, fm = by, 0 elseif fk ~= by then fm = 1 end
        if wf == 0 then wk, wm = by, 0 elseif wk ~= by then wm = 1 end
        f, wf, sr = f + 1, wf + 1, sr * (1 - ${ALPHA})
        local total = wo + wf
        local streak, ratioMet = f >= threshold, total >= threshold and wf * 100 >= ratio * total
        if st == 1 or (st == 0 and ((streak and fm == 1) or (ratioMet and wm == 1))) then
          to = 2
        elseif st == 0 and (streak or ratioMet) then
          redis.call('HSET', key, 'x:' .. by, now + tonumber(ARGV[a + 6]))
        end
      end
      redis.call('HSET', key, 'f', f, 'ws', ws, 'wo', wo, 'wf', wf, 'sr', tostring(sr), 'fk', fk, 'fm', fm,
        'wk', wk, 'wm', wm)
      if lat then redis.call('HSET', key, 'lat', tostring(lat)) end
      if to then
        circuitMove(key, metrics, ARGV[a + 7], to, now, to == 2 and now + tonumber(ARGV[a + 6]) or 0)
        moves[#moves + 1] = i
        moves[#moves + 1] = to
      end
    end
    redis.call('PEXPIRE', key, ${TTL_MS})
  end
  return moves
end
`

// An operator's reset: closed, counters cleared, the health figures kept. Returns the previous state.
export const CIRCUIT_RESET = `${COMMON}
local st = tonumber(redis.call('HGET', KEYS[1], 'st')) or 0
redis.call('HSET', KEYS[1], 'f', 0, 'cu', 0, 'wo', 0, 'wf', 0)
if st ~= 0 then circuitMove(KEYS[1], KEYS[2], ARGV[2], 0, tonumber(ARGV[1]), 0) end
redis.call('PEXPIRE', KEYS[1], ${TTL_MS})
return st
`
