import { describe, expect, it } from 'vitest'
import { requestIncrements } from '../../src/metrics/counters'
import { renderPrometheus } from '../../src/metrics/render'
import { newDraft } from '../../src/usage/draft'
import metricsDoc from '../../docs/metrics.md?raw'
import { parsePrometheus } from '../helpers/prometheus'

function hashOf(increments: [string, number][]): Record<string, number> {
  const hash: Record<string, number> = {}
  for (const [field, by] of increments) hash[field] = (hash[field] ?? 0) + by
  return hash
}

describe('Prometheus rendering', () => {
  const draft = newDraft('e', 'r', { id: 'k', projectId: 'p' } as never, 'chat', 0)
  Object.assign(draft, {
    metricModel: 'gpt "4"\\o',
    provider: 'main',
    status: 200,
    promptTokens: 10,
    completionTokens: 5,
    costPico: 5_000_000n,
    ttfbMs: 30,
  })
  draft.fallbacks.push({ from: 'a', to: 'main' })
  const text = renderPrometheus(hashOf(requestIncrements(draft, 70)))

  it('emits HELP and TYPE for exactly the families docs/metrics.md documents, and parses as text format 0.0.4', () => {
    const documented = [...metricsDoc.matchAll(/^\| `(nexusai_[a-z_]+)` +\| (\w+) /gm)].map(
      ([, name, type]) => [name, type],
    )
    expect(documented.length).toBeGreaterThanOrEqual(10)
    const families = parsePrometheus(text)
    expect([...families.keys()].sort()).toEqual(documented.map(([name]) => name).sort())
    for (const [name, type] of documented) expect(families.get(name!)?.type, name).toBe(type)
  })

  it('escapes label values', () => {
    expect(text).toContain('model="gpt \\"4\\"\\\\o"')
  })

  it('renders cumulative histogram buckets with _sum and _count', () => {
    const samples = parsePrometheus(text).get('nexusai_request_duration_seconds')!.samples
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'))
    expect(buckets.find((b) => b.labels.le === '0.05')?.value).toBe(0)
    expect(buckets.find((b) => b.labels.le === '0.1')?.value).toBe(1)
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(1)
    expect(samples.find((s) => s.name.endsWith('_sum'))?.value).toBeCloseTo(0.07)
    expect(samples.find((s) => s.name.endsWith('_count'))?.value).toBe(1)
  })

  it('counts cost in USD and tokens by type', () => {
    const families = parsePrometheus(text)
    expect(families.get('nexusai_cost_usd_total')!.samples[0]!.value).toBeCloseTo(0.000005, 12)
    expect(families.get('nexusai_tokens_total')!.samples.map((s) => [s.labels.type, s.value])).toEqual([
      ['completion', 5],
      ['prompt', 10],
    ])
  })
})
