import { providerVar, type Config } from '../env'
import type { Result } from '../lib/result'
import { labels } from '../metrics/counters'
import type { CircuitOutcome } from '../redis/scripts/finish'
import type { AttemptError, AttemptOk } from './attempt'
import { decide } from './fallback'
import type { KeyEvent } from './key-faults'
import type { Target } from './targets'
import type { CircuitOverrides } from '../../drizzle/columns'

// When a provider's breaker opens and for how long (docs/providers.md "Circuit breakers and health"). Per
// provider through the admin API (the row's `circuit`) or
// PROVIDER_<NAME>_CIRCUIT_{THRESHOLD,WINDOW_MS,FAILURE_RATIO,COOLDOWN_MS}; these are the defaults.
export type CircuitSettings = {
  // Consecutive provider faults that open the breaker; also the fewest outcomes the ratio rule judges.
  threshold: number
  // The failure-ratio window.
  windowMs: number
  // Percentage of faults in the window that opens the breaker.
  failureRatio: number
  // How long an open breaker skips its provider before one request probes it.
  cooldownMs: number
}

export const CIRCUIT_DEFAULTS: CircuitSettings = {
  threshold: 5,
  windowMs: 60_000,
  failureRatio: 50,
  cooldownMs: 30_000,
}

export const CIRCUIT_LIMITS = {
  threshold: 1000,
  window_ms: 3_600_000,
  failure_ratio: 100,
  cooldown_ms: 3_600_000,
}

// A Worker var wins over the row (like every PROVIDER_<NAME>_* override), the row over the defaults.
export function circuitSettings(
  config: Config,
  provider: string,
  row: CircuitOverrides = {},
): CircuitSettings {
  const read = (suffix: string, field: keyof CircuitOverrides, fallback: number) => {
    const valid = (n: number) => Number.isInteger(n) && n > 0 && n <= CIRCUIT_LIMITS[field]
    const fromVar = Number(providerVar(config, provider, `CIRCUIT_${suffix}`))
    if (valid(fromVar)) return fromVar
    const fromRow = Number(row[field])
    return valid(fromRow) ? fromRow : fallback
  }
  return {
    threshold: read('THRESHOLD', 'threshold', CIRCUIT_DEFAULTS.threshold),
    windowMs: read('WINDOW_MS', 'window_ms', CIRCUIT_DEFAULTS.windowMs),
    failureRatio: read('FAILURE_RATIO', 'failure_ratio', CIRCUIT_DEFAULTS.failureRatio),
    cooldownMs: read('COOLDOWN_MS', 'cooldown_ms', CIRCUIT_DEFAULTS.cooldownMs),
  }
}

// What one upstream attempt says about its provider's health.
export type ProviderOutcome =
  | { kind: 'ok'; latencyMs: number }
  | { kind: 'fault' }
  // An upstream 429 with Retry-After: skip the provider that long, without counting a fault.
  | { kind: 'cool'; retryAfterMs: number }

const MAX_COOLDOWN_MS = 10 * 60_000

// What about the request bears on its attempts' outcomes: whether it streams, and the output it asked
// for (max_tokens and its kin; null: not said).
export type RequestShape = { stream: boolean; requestedOutputTokens: number | null }

// A healthy provider answers a request that does not stream only once the whole output is written, so
// a request for more output than it could write before the timeout at a brisk 50 tokens per second
// makes the time-to-head timeout likely on its own: such a timeout says nothing about the provider.
const BRISK_TOKENS_PER_SECOND = 50
function slowByRequest(target: Target, request: RequestShape | undefined): boolean {
  if (!request || request.stream || request.requestedOutputTokens === null) return false
  return (request.requestedOutputTokens * 1000) / BRISK_TOKENS_PER_SECOND >= target.timeoutMs
}

// The one place that decides whether an attempt was its provider's fault. What the provider's error
// table relays (the client's own request is wrong), the client leaving and a timeout the request made
// likely (slowByRequest) say nothing about the provider; a 429 cools it when it says for how long, and
// otherwise counts for nothing. Everything else (5xx, 529, other timeouts, network errors, 401/403 on
// our provider key, …) is the provider's fault.
export function outcomeOf(
  target: Target,
  result: Result<AttemptOk, AttemptError>,
  request?: RequestShape,
): ProviderOutcome | null {
  if (result.ok) return { kind: 'ok', latencyMs: result.value.ttfbMs }
  const error = result.error
  // A request the provider's protocol cannot express never reached it.
  if (error.reason === 'client_gone' || error.reason === 'rejected') return null
  if (error.reason === 'timeout' && slowByRequest(target, request)) return null
  if (error.reason !== 'upstream_status') return { kind: 'fault' }
  if (error.status === 429) {
    if (!error.retryAfterMs) return null
    return { kind: 'cool', retryAfterMs: Math.min(error.retryAfterMs, MAX_COOLDOWN_MS) }
  }
  return decide(target, error).action === 'relay' ? null : { kind: 'fault' }
}

export type AttemptRecord = { target: Target; outcome: ProviderOutcome }

// One request's outcomes for the finish step's breakers (redis/scripts/finish.ts), made by the virtual
// key `by`; then its stored provider keys that upstreams cooled with a 429, shared with every isolate.
export function circuitOutcomes(
  records: readonly AttemptRecord[],
  by: string,
  keyEvents: readonly KeyEvent[] = [],
): CircuitOutcome[] {
  const outcomes: CircuitOutcome[] = records.map(({ target, outcome }) => ({
    providerId: target.providerId,
    label: labels({ provider: target.provider }),
    kind: outcome.kind,
    latencyMs: outcome.kind === 'ok' ? Math.round(outcome.latencyMs) : 0,
    retryAfterMs: outcome.kind === 'cool' ? Math.round(outcome.retryAfterMs) : 0,
    ...target.circuit,
    by,
    poolKey: '',
  }))
  const now = Date.now()
  for (const e of keyEvents) {
    if (e.kind !== 'cooling') continue
    outcomes.push({
      providerId: e.providerId,
      label: labels({ provider: e.provider }),
      kind: 'keycool',
      latencyMs: 0,
      retryAfterMs: Math.max(0, Math.round(e.untilMs - now)),
      ...CIRCUIT_DEFAULTS,
      by,
      poolKey: e.keyId,
    })
  }
  return outcomes
}
