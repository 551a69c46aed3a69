import type { MeterView } from '../usage/meter'

// Metrics live in one Redis hash. A field is "<family>\t<labels>\t<kind>": kind is "" for a counter,
// "sum"/"count" for a histogram, or a bucket's upper bound ("0.1", "+Inf"), stored non-cumulative and
// summed up at render time so each observation costs one increment.
export const SEP = '\t'

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export type Increment = [field: string, by: number]

const NEEDS_ESCAPE = /[\\\n"]/

function escapeLabel(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

// Several per request on the hot path: one pass, no intermediate arrays.
export function labels(pairs: Record<string, string | number>): string {
  let out = ''
  for (const k in pairs) out += `${out ? ',' : ''}${k}="${escapeLabel(String(pairs[k]))}"`
  return out
}

const counter = (family: string, l: Record<string, string | number>, by = 1): Increment => [
  `${family}${SEP}${labels(l)}${SEP}`,
  by,
]

function histogram(family: string, l: Record<string, string | number>, seconds: number): Increment[] {
  const bound = DURATION_BUCKETS.find((b) => seconds <= b)
  const base = `${family}${SEP}${labels(l)}${SEP}`
  // The sum is kept in integer microseconds so that HINCRBY stays exact.
  return [
    [`${base}${bound ?? '+Inf'}`, 1],
    [`${base}sum`, Math.round(seconds * 1e6)],
    [`${base}count`, 1],
  ]
}

export function requestIncrements(draft: MeterView, endedAt: number): Increment[] {
  const provider = draft.provider ?? 'none'
  const model = draft.metricModel
  const out: Increment[] = [
    counter('nexusai_requests_total', { route: draft.route, model, provider, status: draft.status }),
    ...histogram(
      'nexusai_request_duration_seconds',
      { route: draft.route, model, provider },
      (endedAt - draft.startedAt) / 1000,
    ),
  ]
  if (draft.ttfbMs !== null && draft.provider) {
    out.push(...histogram('nexusai_upstream_ttfb_seconds', { provider }, draft.ttfbMs / 1000))
  }
  if (draft.rateLimited) out.push(counter('nexusai_rate_limited_total', { kind: draft.rateLimited }))
  if (draft.affinity) out.push(counter('nexusai_affinity_total', { result: draft.affinity }))
  if (draft.headStart) out.push(counter('nexusai_head_start_total', { result: draft.headStart }))
  for (const f of draft.fallbacks) {
    out.push(counter('nexusai_fallbacks_total', { model, from_provider: f.from, to_provider: f.to }))
  }
  for (const r of draft.retries)
    out.push(counter('nexusai_upstream_retries_total', { provider: r.provider, reason: r.reason }))
  if (draft.promptTokens > 0)
    out.push(counter('nexusai_tokens_total', { model, provider, type: 'prompt' }, draft.promptTokens))
  if (draft.completionTokens > 0) {
    out.push(counter('nexusai_tokens_total', { model, provider, type: 'completion' }, draft.completionTokens))
  }
  // Parts of the prompt and completion counts above, billed at their own prices.
  const parts = {
    cache_read: draft.usage.cacheRead,
    cache_write: draft.usage.cacheWrite5m + draft.usage.cacheWrite1h,
    reasoning: draft.usage.reasoning,
  }
  for (const [type, n] of Object.entries(parts))
    if (n > 0) out.push(counter('nexusai_tokens_total', { model, provider, type }, n))
  // Cost is counted in integer nano-USD and rendered in USD.
  const nano = Number(draft.costPico / 1000n)
  if (nano > 0) out.push(counter('nexusai_cost_usd_total', { model, provider }, nano))
  return out
}
