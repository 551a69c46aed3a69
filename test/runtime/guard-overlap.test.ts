import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type RuntimeStack } from './workerd-stack'

// GUARD_OVERLAP (pipeline/overlap.ts): with Redis far from the Worker, a request's first upstream attempt
// starts while the guard's Redis step is in flight. Limits stay exact: what the guard refuses is cancelled
// before anything of it reaches the client, and what it admits is served by the call already under way.
let rt: RuntimeStack
beforeAll(async () => {
  rt = await startRuntime({ ALLOW_PRIVATE_UPSTREAMS: 'true', GUARD_OVERLAP: 'auto' })
  // Every Upstash call now takes 2 × 25 ms: an edge location far from the Redis primary.
  rt.stack.upstash.latency.oneWayMs = 25
})
afterAll(async () => {
  await rt?.close()
})

const uid = () => crypto.randomUUID().slice(0, 8)

async function chat(raw: string, model: string) {
  const res = await fetch(`${rt.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${raw}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

async function mock(path: string, scenario: string) {
  const res = await fetch(`${rt.stack.mock.url}${path}?scenario=${encodeURIComponent(scenario)}`)
  return res.json() as Promise<any>
}

// Metrics and usage rows are written after the response: poll until `done` says they are in.
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const v = await read()
    if (done(v) || Date.now() > deadline) return v
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function headStarts(): Promise<Record<string, number>> {
  const text = await (await fetch(`${rt.url}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^nexusai_head_start_total\{result="(\w+)"\} (\d+)/gm))
    out[m[1]!] = Number(m[2])
  return out
}

async function setup(rpm: number | null) {
  // The upstream answers after 150 ms: longer than the guard's step, so a refused request's call is
  // still in flight when the refusal arrives.
  const scenario = `delay150~${uid()}`
  const provider = await rt.admin('POST', '/providers', {
    name: `rt-overlap-${uid()}`,
    base_url: `${rt.stack.mock.url}/s/${scenario}/v1`,
    max_retries: 0,
  })
  const model = `m-${uid()}`
  await rt.admin('POST', '/model-mappings', { model, provider_id: provider.body.id, priority: 1 })
  const key = await rt.admin('POST', '/api-keys', {
    name: `k-${uid()}`,
    allowed_models: [model],
    rpm_limit: rpm,
  })
  return { scenario, model, raw: key.body.raw_key as string, keyId: key.body.id as string }
}

describe('the first upstream attempt overlaps a far guard', () => {
  it('admitted requests are served by the call already under way', async () => {
    const { model, raw, scenario } = await setup(null)
    // The first request teaches the isolate how far Redis is; the next ones overlap.
    for (let i = 0; i < 4; i++) expect((await chat(raw, model)).status).toBe(200)
    const starts = await eventually(headStarts, (m) => (m.used ?? 0) >= 3)
    expect(starts.used).toBeGreaterThanOrEqual(3)
    // One upstream call per request: nothing was sent twice.
    expect(await mock('/__requests', scenario)).toHaveLength(4)
  })

  it('30 concurrent requests against rpm 10: exactly 10 answers reach clients, the rest are refused', async () => {
    const { model, raw, scenario } = await setup(10)
    // Warm the isolate's view of the guard's round trip (1 of the 10).
    expect((await chat(raw, model)).status).toBe(200)
    await new Promise((r) => setTimeout(r, 300)) // its metrics are in
    const before = await headStarts()
    const results = await Promise.all(Array.from({ length: 29 }, () => chat(raw, model)))
    const ok = results.filter((r) => r.status === 200)
    const refused = results.filter((r) => r.status === 429)
    expect(ok).toHaveLength(9)
    expect(refused).toHaveLength(20)
    // A refusal is the guard's own, in OpenAI's shape; no upstream reply leaked into it.
    for (const r of refused) {
      expect(r.body.error.code).toBe('rate_limit_exceeded')
      expect(r.body.choices).toBeUndefined()
    }
    // Overlapped requests the guard refused were cancelled, and counted: they reached the upstream (which
    // may bill them) and nothing else did — the upstream saw the ten served calls and the cancelled ones.
    const after = await eventually(headStarts, (m) => (m.refused ?? 0) > (before.refused ?? 0))
    const cancelled = (after.refused ?? 0) - (before.refused ?? 0)
    expect(cancelled).toBeGreaterThan(0)
    expect(cancelled).toBeLessThanOrEqual(20)
    expect(await mock('/__requests', scenario)).toHaveLength(10 + cancelled)
    // The usage ledger agrees with the clients: ten answered, twenty refused.
    const logs = await eventually(
      () => rt.admin('GET', `/usage/logs?model=${model}&limit=100`),
      (l) => l.body.data.length >= 30,
    )
    const statuses = (logs.body.data as { status: number }[]).map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(10)
    expect(statuses.filter((s) => s === 429)).toHaveLength(20)
  })
})
