import type { Config } from '../../env'
import { hotScript, runHotScript } from '../hot-script'
import { keys, scopeAlertKeys, scopeKeys, type Period, type Scope, type ScopeKind } from '../keys'
import { BUDGET_ALERTS } from '../lua/alerts.lua'
import { CIRCUIT_RECORD, CIRCUIT_STATES, OUTCOME_ARGS, type CircuitState } from '../lua/circuit.lua'
import { SCOPE_LUA, SCOPE_SETTLE } from '../lua/scope.lua'
import { BALANCE_SETTLE, ECONOMY_LUA, WINDOW_SETTLE } from '../lua/economy.lua'
import { inOrder, offsets, Sections, TAKE } from '../sections'
import type { BudgetWindow } from './guard'

// A prepaid balance's alert the finish step decided: below balance_alert_usd, or used up; `cid` is the
// credit count it happened at (webhooks/balance-events.ts).
export type BalanceAlert = { kind: 'low' | 'exhausted'; leftPico: bigint; cid: string }

// Everything after the response, for a batch of requests in one step (docs/performance.md): per
// request, settle its hold in every scope with the real tokens and cost (a failed call has neither, which
// releases it), decide the budget alerts it set off (lua/alerts.lua.ts) and move the circuit breakers
// (lua/circuit.lua.ts); after the last request, count the batch's metric increments.
//
// Layout (redis/sections.ts), in order: the head (metrics key; request count, clock); per request its
// head (REQUEST_HEAD), one section per scope (keys.ts SCOPE_KEYS and the two alert hashes;
// scope.lua.ts SCOPE_SETTLE), one section per circuit outcome (its hash; OUTCOME); then the metric
// increments (field, amount, …) to the end. A new part of a request's settlement (an affinity pin's
// SET with TTL) is a section after its outcomes, counted in REQUEST_HEAD.
const REQUEST_HEAD = [
  'ticket',
  'actualTokens',
  'cost',
  'scopes',
  'outcomes',
  'windows',
  'balance',
  'pins',
] as const
const OUTCOME = [
  'kind',
  'latencyMs',
  'retryAfterMs',
  'threshold',
  'windowMs',
  'failureRatio',
  'cooldownMs',
  'label',
  'by',
  'poolKey',
] as const
if (OUTCOME.length !== OUTCOME_ARGS) throw new Error('finish: OUTCOME and circuit.lua.ts OUTCOME_ARGS differ')

const FINISH = `${TAKE}${SCOPE_LUA}${BUDGET_ALERTS}${CIRCUIT_RECORD}${ECONOMY_LUA}
local R = ${offsets(REQUEST_HEAD)}
local hk, ha = take(1, 2)
local metrics, requests, now = KEYS[hk], tonumber(ARGV[ha]), tonumber(ARGV[ha + 1])
local moves, alerts, balances = {}, {}, {}
for r = 1, requests do
  local _, a = take(0, ${REQUEST_HEAD.length})
  local ticket, actual, cost = ARGV[a + R.ticket], ARGV[a + R.actualTokens], ARGV[a + R.cost]
  local outcomes = tonumber(ARGV[a + R.outcomes])
  alerts[r] = {}
  for i = 1, tonumber(ARGV[a + R.scopes]) do
    local k, sa = take(SETTLE_KEY_COUNT, SCOPE_SETTLE_COUNT)
    if ticket ~= '' then settleScope(k, sa, ticket, actual, cost) end
    alertScope(k, sa, i, alerts[r])
  end
  local ck, ca = take(outcomes, outcomes * ${OUTCOME.length})
  moves[r] = circuitRecord(ck, ca, outcomes, metrics, now)
  -- The rolling windows and the prepaid balance (economy.lua.ts).
  for i = 1, tonumber(ARGV[a + R.windows]) do
    local wk, wa = take(1, ${WINDOW_SETTLE.length})
    if ticket ~= '' then settleWindow(wk, wa) end
  end
  balances[r] = {}
  if ARGV[a + R.balance] == '1' then
    local bk, ba = take(2, ${BALANCE_SETTLE.length})
    settleBalance(bk, ba, balances[r])
  end
  -- A conversation's pin (docs/affinity.md): SET with its TTL.
  local pins = tonumber(ARGV[a + R.pins])
  local pk, pa = take(pins, pins * 2)
  for i = 0, pins - 1 do redis.call('SET', KEYS[pk + i], ARGV[pa + 2 * i], 'EX', ARGV[pa + 2 * i + 1]) end
end
local _, rest = take(0, 0)
for i = rest, #ARGV, 2 do redis.call('HINCRBY', metrics, ARGV[i], ARGV[i + 1]) end
return {moves, alerts, balances}
`

const finishScript = hotScript(FINISH)

// What one scope settles: what the guard held in it (null: nothing), and its budget alerts.
export type ScopeSettlement = {
  scope: Scope
  held: { tokens: number | null; reservation: string | null } | null
  alerts: ScopeAlerts
}

// A scope's budgets (null: none), the fractions announced ("0.5,0.8,1"), and the budget window the guard
// refused this request for (which counts as exhausted).
export type ScopeAlerts = {
  dailyPico: bigint | null
  monthlyPico: bigint | null
  fractions: string
  refused: BudgetWindow | null
}

// One upstream attempt's outcome for its provider's breaker (whole milliseconds), with the provider's
// breaker settings, the virtual key whose request it was (`by`) and, for 'keycool' (a 429 with
// Retry-After on a stored provider key), that key's id (`poolKey`, else '').
export type CircuitOutcome = {
  providerId: string
  label: string
  kind: 'ok' | 'fault' | 'cool' | 'keycool'
  by: string
  poolKey: string
  latencyMs: number
  retryAfterMs: number
  threshold: number
  windowMs: number
  failureRatio: number
  cooldownMs: number
}

// A request's share of its rolling windows (the bucket field the guard reserved in) and of its project's
// prepaid balance (null: postpaid).
export type EconomySettlement = {
  windows: { key: string; field: string }[]
  reservedPico: bigint
  balance: { projectId: string; member: string | null; alertPico: bigint | null; refused: boolean } | null
}

export type Settlement = {
  // The hold's ticket; null: the guard held nothing (nothing is settled, alerts are still decided).
  ticket: string | null
  period: Period
  actual: { tokens: number; costPico: bigint }
  scopes: ScopeSettlement[]
  outcomes: CircuitOutcome[]
  economy: EconomySettlement
  // A conversation's new pin (docs/affinity.md): its key, value and time to live; null: none written.
  pin: { key: string; value: string; ttlSeconds: number } | null
}

// A breaker transition: the index of the outcome that caused it and the new state.
export type CircuitMove = { outcome: number; to: CircuitState }
// A budget threshold this request's spend reached: the fraction as configured, or 'exhausted'.
export type BudgetAlert = { scope: ScopeKind; window: BudgetWindow; crossed: string; spentPico: bigint }
export type Finished = { moves: CircuitMove[]; alerts: BudgetAlert[]; balance: BalanceAlert[] }

const none = (n: bigint | null) => (n === null ? -1n : n)

// Returns each settlement's breaker transitions and budget alerts, in order.
export async function runFinish(
  config: Config,
  settlements: Settlement[],
  increments: Map<string, number>,
  now: number,
): Promise<Finished[]> {
  const call = new Sections().add([keys.metrics()], [settlements.length, now])
  for (const s of settlements) {
    call.add(
      [],
      inOrder(REQUEST_HEAD, {
        ticket: s.ticket ?? '',
        actualTokens: s.actual.tokens,
        cost: s.actual.costPico,
        scopes: s.scopes.length,
        outcomes: s.outcomes.length,
        windows: s.economy.windows.length,
        balance: s.economy.balance ? 1 : 0,
        pins: s.pin ? 1 : 0,
      }),
    )
    for (const { scope, held, alerts } of s.scopes) {
      call.add(
        [...scopeKeys(scope, s.period), ...scopeAlertKeys(scope, s.period)],
        inOrder(SCOPE_SETTLE, {
          heldTokens: held?.tokens ?? '',
          reservation: held?.reservation ?? '',
          dailyBudget: none(alerts.dailyPico),
          monthlyBudget: none(alerts.monthlyPico),
          fractions: alerts.fractions,
          refused: alerts.refused ?? '',
        }),
      )
    }
    for (const o of s.outcomes) {
      call.add([keys.circuit(o.providerId)], inOrder(OUTCOME, o))
    }
    for (const w of s.economy.windows)
      call.add(
        [w.key],
        inOrder(WINDOW_SETTLE, { field: w.field, delta: s.actual.costPico - s.economy.reservedPico }),
      )
    const balance = s.economy.balance
    if (balance)
      call.add(
        [keys.balance(balance.projectId), keys.balanceHolds(balance.projectId)],
        inOrder(BALANCE_SETTLE, {
          member: balance.member ?? '',
          charge: s.actual.costPico,
          alertPico: none(balance.alertPico),
          refused: balance.refused ? '1' : '',
        }),
      )
    if (s.pin) call.add([s.pin.key], [s.pin.value, s.pin.ttlSeconds])
  }
  for (const [field, by] of increments) call.add([], [field, by])
  return decodeFinish(await runHotScript(config, finishScript, call.keys, call.args), settlements)
}

function malformed(): never {
  throw new Error('Redis: unexpected finish reply')
}
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : malformed())

// The script's reply → each settlement's transitions and alerts. Exported for its test.
export function decodeFinish(reply: unknown, settlements: Settlement[]): Finished[] {
  const [moves, alerts, balances] = list(reply).map(list)
  return settlements.map((s, r) => {
    const flat = list(moves?.[r] ?? [])
    const out: CircuitMove[] = []
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ outcome: Number(flat[i]), to: CIRCUIT_STATES[Number(flat[i + 1])] ?? malformed() })
    return {
      moves: out,
      alerts: list(alerts?.[r] ?? []).map((alert) => {
        const [index, window, crossed, spent] = list(alert)
        const scope = s.scopes[Number(index) - 1]?.scope.kind ?? malformed()
        if (window !== 'daily' && window !== 'monthly') return malformed()
        return { scope, window, crossed: String(crossed), spentPico: BigInt(String(spent)) }
      }),
      balance: list(balances?.[r] ?? []).map((event) => {
        const [kind, left, cid] = list(event)
        if (kind !== 'low' && kind !== 'exhausted') return malformed()
        return { kind, leftPico: BigInt(String(left)), cid: String(cid) }
      }),
    }
  })
}
