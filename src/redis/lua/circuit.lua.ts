// Circuit breakers as Lua functions spliced into the guard and finish scripts, so reading and writing
// them costs no round trip of its own. One hash per provider (keys.circuit):
//   st  0 closed · 1 half-open · 2 open       f   consecutive provider faults
//   ou  open until (ms)                        pu  half-open probe lease until (ms)
//   cu  429 cooldown until (ms)                ws, wo, wf  failure-ratio window: start, successes, faults
//   sr  success ratio (EWMA)                   lat latency of successes in ms (EWMA)   lt  last transition (ms)
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

// KEYS[first..first + count - 1] are the candidates' circuit hashes, ARGV[from + 2i] / [from + 2i + 1]
// the i-th one's probe lease (ms) and metric label. Returns one {route, successPermille, latencyMs, moved} per candidate:
// route 0 = use, 1 = use as this request's half-open probe, 2 = skip (open, cooling down, or someone
// else is probing); moved = 1 when this read moved the breaker from open to half-open. Whoever finds an open breaker past its cooldown with no live lease takes the lease,
// so exactly one request probes; a probe that never reports back loses its lease when it expires.
export const CIRCUIT_READ = `${COMMON}
local function circuitRead(first, from, count, metrics, now)
  local out = {}
  for i = first, first + count - 1 do
    local j = from + (i - first) * 2
    local h = redis.call('HMGET', KEYS[i], 'st', 'ou', 'pu', 'cu', 'sr', 'lat')
    local st = tonumber(h[1]) or 0
    local route, moved = 0, 0
    if (tonumber(h[4]) or 0) > now then
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
    out[#out + 1] = {route, sr and math.floor(sr * 1000 + 0.5) or -1, lat and math.floor(lat + 0.5) or -1, moved}
  end
  return out
end
`

// Applies one request's attempt outcomes in order. KEYS[first + i] is the i-th outcome's circuit hash,
// ARGV[from + 8i ..] its kind ('ok' | 'fault' | 'cool'), latency ms, Retry-After ms, then the provider's
// threshold, window ms, failure ratio (%), cooldown ms and metric label. A breaker opens after
// `threshold` consecutive faults, or when faults reach the ratio of a window with at least `threshold`
// outcomes; a fault while half-open reopens it, any success closes it. Returns {i, to, …} per transition.
export const CIRCUIT_RECORD = `${COMMON}
local function circuitRecord(first, from, count, metrics, now)
  local moves = {}
  for i = 0, count - 1 do
    local key, a = KEYS[first + i], from + i * 8
    local kind = ARGV[a]
    if kind == 'cool' then
      local cu = tonumber(redis.call('HGET', key, 'cu')) or 0
      redis.call('HSET', key, 'cu', math.max(cu, now + tonumber(ARGV[a + 2])))
    else
      local h = redis.call('HMGET', key, 'st', 'f', 'ws', 'wo', 'wf', 'sr', 'lat')
      local st, f = tonumber(h[1]) or 0, tonumber(h[2]) or 0
      local ws, wo, wf = tonumber(h[3]) or 0, tonumber(h[4]) or 0, tonumber(h[5]) or 0
      local sr, lat = tonumber(h[6]) or 1, tonumber(h[7])
      local threshold, window, ratio = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
      if now - ws >= window then ws, wo, wf = now, 0, 0 end
      local to = nil
      if kind == 'ok' then
        local ms = tonumber(ARGV[a + 1])
        f, wo, sr = 0, wo + 1, sr * (1 - ${ALPHA}) + ${ALPHA}
        lat = lat and lat * (1 - ${ALPHA}) + ms * ${ALPHA} or ms
        if st ~= 0 then to = 0 end
      else
        f, wf, sr = f + 1, wf + 1, sr * (1 - ${ALPHA})
        local total = wo + wf
        if st == 1 or (st == 0 and (f >= threshold or (total >= threshold and wf * 100 >= ratio * total))) then
          to = 2
        end
      end
      redis.call('HSET', key, 'f', f, 'ws', ws, 'wo', wo, 'wf', wf, 'sr', tostring(sr))
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
