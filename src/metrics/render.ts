import { DURATION_BUCKETS, SEP } from './counters'

type Family = { help: string; type: 'counter' | 'gauge' | 'histogram'; scale?: number }

// The contract's metric families (docs/metrics.md). Values stored in integer units are scaled back here.
const FAMILIES: Record<string, Family> = {
  nexusai_requests_total: {
    help: 'Requests handled, by route, model, provider and HTTP status.',
    type: 'counter',
  },
  nexusai_request_duration_seconds: {
    help: 'Time from request to the end of the response.',
    type: 'histogram',
  },
  nexusai_upstream_ttfb_seconds: { help: 'Time to the upstream response head.', type: 'histogram' },
  nexusai_rate_limited_total: { help: 'Requests refused by a rate limit or budget.', type: 'counter' },
  nexusai_affinity_total: {
    help: 'Conversation turns by whether their pin to a provider and pooled key held (hit, new, moved).',
    type: 'counter',
  },
  nexusai_head_start_total: {
    help: 'First upstream attempts started while the guard decided (GUARD_OVERLAP): used, or cancelled (refused, reordered).',
    type: 'counter',
  },
  nexusai_fallbacks_total: { help: 'Moves from one provider to the next for a request.', type: 'counter' },
  nexusai_upstream_retries_total: {
    help: 'Retries of an upstream call on the same provider.',
    type: 'counter',
  },
  nexusai_tokens_total: { help: 'Tokens accounted, by model, provider and type.', type: 'counter' },
  nexusai_cost_usd_total: { help: 'Cost accounted in USD.', type: 'counter', scale: 1e-9 },
  // Both written by the circuit breakers' own Redis steps (redis/lua/circuit.lua.ts), the gauge with HSET.
  nexusai_provider_circuit_state: {
    help: "Each provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
    type: 'gauge',
  },
  nexusai_circuit_transitions_total: {
    help: 'Circuit breaker state changes, by provider and new state.',
    type: 'counter',
  },
}

const BUCKET_BOUNDS = DURATION_BUCKETS.map(String)

const num = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15))))

// Prometheus text exposition format 0.0.4 from the metrics hash.
export function renderPrometheus(hash: Record<string, unknown>): string {
  const byFamily = new Map<string, Map<string, Map<string, number>>>()
  for (const [field, raw] of Object.entries(hash)) {
    const [family, labelText, kind] = field.split(SEP)
    if (family === undefined || labelText === undefined || kind === undefined || !FAMILIES[family]) continue
    const series = byFamily.get(family) ?? new Map<string, Map<string, number>>()
    const kinds = series.get(labelText) ?? new Map<string, number>()
    kinds.set(kind, (kinds.get(kind) ?? 0) + Number(raw))
    series.set(labelText, kinds)
    byFamily.set(family, series)
  }
  const lines: string[] = []
  for (const [name, family] of Object.entries(FAMILIES)) {
    lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`)
    const series = byFamily.get(name)
    if (!series) continue
    for (const [labelText, kinds] of [...series.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const sep = labelText ? ',' : ''
      if (family.type !== 'histogram') {
        lines.push(`${name}{${labelText}} ${num((kinds.get('') ?? 0) * (family.scale ?? 1))}`)
        continue
      }
      let cumulative = 0
      for (const bound of [...BUCKET_BOUNDS, '+Inf']) {
        cumulative += kinds.get(bound) ?? 0
        lines.push(`${name}_bucket{${labelText}${sep}le="${bound}"} ${cumulative}`)
      }
      lines.push(`${name}_sum{${labelText}} ${num((kinds.get('sum') ?? 0) / 1e6)}`)
      lines.push(`${name}_count{${labelText}} ${kinds.get('count') ?? 0}`)
    }
  }
  return `${lines.join('\n')}\n`
}
