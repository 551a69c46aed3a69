import type { Config } from '../../env'
import { startOfNextUtcDay, startOfNextUtcMonth } from '../../lib/time'
import { hotScript, runHotScript } from '../hot-script'
import { keys, scopeKeys, type Period, type Scope } from '../keys'
import { CIRCUIT_READ } from '../lua/circuit.lua'
import { ECONOMY_LUA, WINDOW_CHECK } from '../lua/economy.lua'
import type { WindowPeriod } from '../../../drizzle/schema'
import { SCOPE_LIMITS, SCOPE_LUA } from '../lua/scope.lua'
import { inOrder, offsets, Sections, TAKE } from '../sections'

// The guard: RPM, TPM and both budgets of every scope (the key, then its project) for one request in one
// atomic step, committing them only when every check passes (a refused request consumes nothing), and
// the candidate providers' circuit breakers (redis/lua/circuit.lua.ts) of an admitted request.
//
// Layout (redis/sections.ts), in order: the head (config version and metrics keys; GUARD_HEAD), one
// section per scope (keys.ts SCOPE_KEYS; scope.lua.ts SCOPE_LIMITS), the circuits (one hash each; probe
// lease and metric label). A new part of the step (an affinity pin read) is a section after these.
//
// Decisions are made in the order refusals always had: every scope's rate limits first to last, then
// every scope's budgets last to first (a project's budget before its key's). The limit state in every
// reply but 'stale'/'rebuild' is the first scope's (the key's), so x-ratelimit-* headers are complete.
const GUARD_HEAD = [
  'version',
  'now',
  'ticket',
  'tokens',
  'cost',
  'member',
  'ttl',
  'day',
  'month',
  'scopes',
  'circuits',
  'windows',
  'balance',
  'pins',
] as const

const GUARD = `${TAKE}${SCOPE_LUA}${CIRCUIT_READ}${ECONOMY_LUA}
local H = ${offsets(GUARD_HEAD)}
local hk, ha = take(2, ${GUARD_HEAD.length})
local version = redis.call('GET', KEYS[hk]) or '0'
if version ~= ARGV[ha + H.version] then return {'stale', version} end
local metrics = KEYS[hk + 1]
local now, ticket, tokens = tonumber(ARGV[ha + H.now]), ARGV[ha + H.ticket], tonumber(ARGV[ha + H.tokens])
local cost, member, ttl = tonumber(ARGV[ha + H.cost]), ARGV[ha + H.member], tonumber(ARGV[ha + H.ttl])
local day, month = ARGV[ha + H.day], ARGV[ha + H.month]
local scopes, circuits = {}, tonumber(ARGV[ha + H.circuits])
for i = 1, tonumber(ARGV[ha + H.scopes]) do
  local k, a = take(SCOPE_KEY_COUNT, SCOPE_LIMIT_COUNT)
  scopes[i] = {k = k, a = a}
end
local ck, ca = take(circuits, circuits * 3)
local windows = {}
for i = 1, tonumber(ARGV[ha + H.windows]) do
  local k, a = take(1, ${WINDOW_CHECK.length})
  windows[i] = {k = k, a = a}
end
local balance = nil
if ARGV[ha + H.balance] == '1' then balance = take(2, 0) end
local pins = tonumber(ARGV[ha + H.pins])
local pk = take(pins, 0)

local first
local function refused(i, r)
  return {'refused', i, math.max(first.rpmLimit - first.rpmUsed, 0), first.rpmReset,
    math.max(first.tpmLimit - first.tpmUsed, 0), first.tpmReset, r[1], r[2], r[3], r[4]}
end
for i, s in ipairs(scopes) do
  local w, refusal = checkRates(s.k, s.a, now, tokens)
  first = first or w
  if refusal then return refused(i, refusal) end
end
for i = #scopes, 1, -1 do
  local refusal = checkBudget(scopes[i].k, scopes[i].a, now, cost, day, month)
  if refusal and refusal[1] == 'rebuild' then return {'rebuild', i} end
  if refusal then return refused(i, refusal) end
end
-- The rolling windows (economy.lua.ts), then a prepaid balance, after every scope's own limits.
local function limitState()
  return math.max(first.rpmLimit - first.rpmUsed, 0), first.rpmReset, math.max(first.tpmLimit - first.tpmUsed, 0), first.tpmReset
end
for _, w in ipairs(windows) do
  local r = checkWindow(w.k, w.a, now, cost)
  if r then
    local l1, l2, l3, l4 = limitState()
    return {'refused', 0, l1, l2, l3, l4, 'window', r[2], r[3], r[4], r[6]}
  end
end
if balance then
  local r = checkBalance(balance, now, cost)
  if r and r[1] == 'rebuild' then return {'rebuild-balance'} end
  if r then
    local l1, l2, l3, l4 = limitState()
    return {'refused', 0, l1, l2, l3, l4, 'balance', r[2]}
  end
end
for _, s in ipairs(scopes) do commitScope(s.k, s.a, now, ticket, tokens, member, ttl) end
for _, w in ipairs(windows) do commitWindow(w.k, w.a, now, ARGV[ha + H.cost]) end
if balance then commitBalance(balance, now, member, ttl) end
return {'ok', first.rpmLimit - first.rpmUsed - 1, first.rpmReset, first.tpmLimit - first.tpmUsed - tokens,
  first.tpmReset, circuitRead(ck, ca, circuits, metrics, now),
  pins > 0 and (redis.call('GET', KEYS[pk]) or '') or ''}
`

const guardScript = hotScript(GUARD)

// A scope's limits; null means none.
export type ScopeLimits = {
  rpm: number | null
  tpm: number | null
  dailyPico: bigint | null
  monthlyPico: bigint | null
}

export type GuardInput = {
  // The config version the caller's cached key and routes are from.
  version: string
  now: number
  // The request's unique id in the windows and reservations; a refused round commits nothing under it.
  ticket: string
  // Estimated tokens (prompt + completion) and the most the request can cost, reserved under a budget.
  tokens: number
  costPico: bigint
  period: Period
  reservationTtlMs: number
  // The key first: its limit state is what every reply carries.
  scopes: { scope: Scope; limits: ScopeLimits }[]
  // The candidates' breakers, read for the requesting virtual key (`requester`: its own openings).
  circuits: { providerId: string; probeLeaseMs: number; label: string; requester: string }[]
  // Rolling windows of either scope (src/billing/windows.ts), decided after every scope's limits.
  windows: WindowInput[]
  // A prepaid project, whose balance must cover the reservation (null: postpaid).
  balance: { projectId: string } | null
  // The Redis key of the pin to read with the request (a conversation's, or a stored response's), or null.
  pinKey: string | null
}

// One rolling window: its bucket length and limits (null: none).
export type WindowInput = {
  scope: Scope
  period: WindowPeriod
  bucketMs: number
  limitPico: bigint | null
  limitRequests: number | null
}

// What a guard round holds in each scope when it admits the request, settled after the response
// (redis/scripts/finish.ts): the tokens in its token log and its budget reservation (null: none).
export type ScopeHold = { scope: Scope; tokens: number | null; reservation: string | null }
// And in the rolling windows (the bucket field its reservation went to) and the prepaid balance.
export type Hold = {
  ticket: string
  period: Period
  scopes: ScopeHold[]
  reservedPico: bigint
  windows: { key: string; field: string }[]
  balance: { projectId: string; member: string } | null
}

const windowKey = (w: WindowInput) => keys.window(w.scope.kind === 'key' ? 'k' : 'p', w.scope.id, w.period)

// A reservation's ZSET member; the Lua reads the day, month and amount back (scope.lua.ts checkBudget).
const reservationMember = (input: GuardInput) =>
  `${input.ticket}|${input.period.day}|${input.period.month}|${input.costPico}`

const hasBudget = (l: ScopeLimits) => l.dailyPico !== null || l.monthlyPico !== null

// Known before the call: a client that leaves while the script runs cancels the handler on the edge,
// and the after-response step must still find the hold to release (releasing a hold the script did
// not take is a no-op).
export function holdOf(input: GuardInput): Hold {
  return {
    ticket: input.ticket,
    period: input.period,
    scopes: input.scopes.map(({ scope, limits }) => ({
      scope,
      tokens: limits.tpm !== null ? input.tokens : null,
      reservation: hasBudget(limits) ? reservationMember(input) : null,
    })),
    reservedPico: input.costPico,
    windows: input.windows.map((w) => ({
      key: windowKey(w),
      field: `c${Math.floor(input.now / w.bucketMs)}`,
    })),
    balance: input.balance && { projectId: input.balance.projectId, member: reservationMember(input) },
  }
}

export type WindowState = { remaining: number; resetMs: number }
// The first scope's request and token windows (remaining may be negative when the scope has no limit).
export type LimitState = { requests: WindowState; tokens: WindowState }

// Per candidate provider: use it, use it as this request's half-open probe, or skip it (open, open for
// this virtual key alone, cooling down after a 429, or someone else is probing); its recent success ratio
// in ‰ and latency (null: unknown); whether this read moved its breaker from open to half-open; its
// stored keys that some isolate saw cooled by a 429, until when (every isolate skips them).
export type CircuitRead = {
  route: 'use' | 'probe' | 'skip'
  successPermille: number | null
  latencyMs: number | null
  moved: boolean
  coolingKeys?: { keyId: string; untilMs: number }[]
}

// The kc field ("<key id>=<until ms>;…") as still cooling at `now`.
function coolingKeys(raw: unknown, now: number): { keyId: string; untilMs: number }[] {
  if (typeof raw !== 'string' || raw === '') return []
  return raw
    .split(';')
    .map((entry) => /^(.+)=(\d+)$/.exec(entry))
    .filter((m) => m !== null && Number(m[2]) > now)
    .map((m) => ({ keyId: m![1]!, untilMs: Number(m![2]) }))
}

export type BudgetWindow = 'daily' | 'monthly'

export type GuardDecision =
  // Admitted, and counted in every scope.
  | { kind: 'ok'; limits: LimitState; circuits: CircuitRead[]; pin: string | null }
  // The caller's cached key/config predates an admin write: reload and retry.
  | { kind: 'stale'; version: string }
  // A spend counter of this scope is missing: rebuild it from usage_logs and retry.
  | { kind: 'rebuild'; scope: Scope }
  // The prepaid balance is missing: rebuild it from Postgres and retry.
  | { kind: 'rebuild-balance' }
  | {
      kind: 'refused'
      by: 'window'
      scope: Scope
      limits: LimitState
      period: WindowPeriod
      over: 'usd' | 'requests'
      limit: number
      // Until enough of the window ages out for this request; null: it can never fit.
      retryMs: number | null
    }
  // The prepaid balance cannot cover the reservation.
  | { kind: 'refused'; by: 'balance'; scope: Scope; limits: LimitState; leftPico: number }
  | {
      kind: 'refused'
      by: 'rpm' | 'tpm'
      scope: Scope
      limits: LimitState
      limit: number
      remaining: number
      retryMs: number
    }
  | {
      kind: 'refused'
      by: 'budget'
      scope: Scope
      limits: LimitState
      window: BudgetWindow
      limitPico: number
      leftPico: number
      // Until the budget's period ends.
      retryMs: number
    }

const limitArg = (n: number | bigint | null) => (n === null ? -1 : n)

export async function runGuard(config: Config, input: GuardInput): Promise<GuardDecision> {
  const call = new Sections().add(
    [keys.configVersion(), keys.metrics()],
    inOrder(GUARD_HEAD, {
      version: input.version,
      now: input.now,
      ticket: input.ticket,
      tokens: input.tokens,
      cost: input.costPico,
      member: reservationMember(input),
      ttl: input.reservationTtlMs,
      day: input.period.day,
      month: input.period.month,
      scopes: input.scopes.length,
      circuits: input.circuits.length,
      windows: input.windows.length,
      balance: input.balance ? 1 : 0,
      pins: input.pinKey ? 1 : 0,
    }),
  )
  for (const { scope, limits } of input.scopes) {
    call.add(
      scopeKeys(scope, input.period),
      inOrder(SCOPE_LIMITS, {
        rpmLimit: limitArg(limits.rpm),
        tpmLimit: limitArg(limits.tpm),
        daily: limitArg(limits.dailyPico),
        monthly: limitArg(limits.monthlyPico),
      }),
    )
  }
  for (const c of input.circuits)
    call.add([keys.circuit(c.providerId)], [c.probeLeaseMs, c.label, c.requester])
  input.windows.forEach((w, i) =>
    call.add(
      [windowKey(w)],
      inOrder(WINDOW_CHECK, {
        bucketMs: w.bucketMs,
        limitPico: limitArg(w.limitPico),
        limitRequests: limitArg(w.limitRequests),
        index: i + 1,
      }),
    ),
  )
  if (input.balance)
    call.add([keys.balance(input.balance.projectId), keys.balanceHolds(input.balance.projectId)])
  if (input.pinKey) call.add([input.pinKey])
  return decodeGuard(await runHotScript(config, guardScript, call.keys, call.args), input)
}

const ROUTES = ['use', 'probe', 'skip'] as const

function malformed(): never {
  throw new Error('Redis: unexpected guard reply')
}
const num = (v: unknown): number => (typeof v === 'number' ? v : malformed())

const limitsOf = (r: unknown[]): LimitState => ({
  requests: { remaining: num(r[0]), resetMs: num(r[1]) },
  tokens: { remaining: num(r[2]), resetMs: num(r[3]) },
})

// The script's reply → a decision. Exported for its test.
export function decodeGuard(reply: unknown, input: GuardInput): GuardDecision {
  if (!Array.isArray(reply)) return malformed()
  const scopeAt = (i: unknown) => input.scopes[num(i) - 1]?.scope ?? malformed()
  switch (reply[0]) {
    case 'stale':
      return { kind: 'stale', version: String(reply[1]) }
    case 'rebuild':
      return { kind: 'rebuild', scope: scopeAt(reply[1]) }
    case 'rebuild-balance':
      return { kind: 'rebuild-balance' }
    case 'ok': {
      const reads = Array.isArray(reply[5]) ? (reply[5] as unknown[][]) : malformed()
      return {
        kind: 'ok',
        limits: limitsOf(reply.slice(1, 5)),
        circuits: reads.map(([route, permille, latency, moved, cooling]) => {
          const keys = coolingKeys(cooling, input.now)
          return {
            route: ROUTES[num(route)] ?? malformed(),
            successPermille: num(permille) < 0 ? null : num(permille),
            latencyMs: num(latency) < 0 ? null : num(latency),
            moved: moved === 1,
            ...(keys.length ? { coolingKeys: keys } : {}),
          }
        }),
        pin: typeof reply[6] === 'string' && reply[6] !== '' ? reply[6] : null,
      }
    }
    case 'refused': {
      if (reply[6] === 'window' || reply[6] === 'balance') return decodeEconomy(reply, input)
      const [, index, , , , , by, limit, left, last] = reply
      const common = { scope: scopeAt(index), limits: limitsOf(reply.slice(2, 6)) }
      if (by === 'rpm' || by === 'tpm')
        return { kind: 'refused', by, ...common, limit: num(limit), remaining: num(left), retryMs: num(last) }
      if (by !== 'budget' || (last !== 'daily' && last !== 'monthly')) return malformed()
      const ends = last === 'daily' ? startOfNextUtcDay(input.now) : startOfNextUtcMonth(input.now)
      return {
        kind: 'refused',
        by,
        ...common,
        window: last,
        limitPico: num(limit),
        leftPico: num(left),
        retryMs: ends - input.now,
      }
    }
    default:
      return malformed()
  }
}

// A refusal by a rolling window ({'refused', 0, <limits>, 'window', index, over, limit, retryMs}) or by the
// balance ({'refused', 0, <limits>, 'balance', leftPico}).
function decodeEconomy(reply: unknown[], input: GuardInput): GuardDecision {
  const limits = limitsOf(reply.slice(2, 6))
  if (reply[6] === 'balance') {
    const scope: Scope = { kind: 'project', id: input.balance?.projectId ?? malformed() }
    return { kind: 'refused', by: 'balance', scope, limits, leftPico: num(reply[7]) }
  }
  const [, , , , , , , index, over, limit, retry] = reply
  const w = input.windows[num(index) - 1] ?? malformed()
  if (over !== 'usd' && over !== 'requests') return malformed()
  const retryMs = num(retry) < 0 ? null : num(retry)
  return {
    kind: 'refused',
    by: 'window',
    scope: w.scope,
    limits,
    period: w.period,
    over,
    limit: num(limit),
    retryMs,
  }
}
