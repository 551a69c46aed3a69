import { describe, expect, it } from 'vitest'
import { admin } from '../helpers/admin'
import { chatRequest, gateway, gatewayWith, mockRequests, uid } from '../helpers/gateway'
import { createKey, createModel, createProvider, usageRows } from '../helpers/fixtures'
import { parsePrometheus } from '../helpers/prometheus'

// Breaker state lives only in Redis, so each `gatewayWith` environment (its own clients and clock) is
// a stand-in for another isolate. gatewayWith also waits for the after-response step, where outcomes
// are recorded, so every call sees the outcomes of the calls before it.
const envName = (provider: string) => provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')
const COOLDOWN_MS = 30_000

async function call(raw: string, model: string, overrides: Record<string, string> = {}) {
  const { res, body } = await gatewayWith(overrides, '/v1/chat/completions', chatRequest(raw, model))
  return { status: res.status, body }
}

const calls = async (scenario: string) => (await mockRequests(scenario)).length

async function health(providerId: string) {
  const { body } = await admin('GET', '/providers')
  return (body.data as { id: string; health: Record<string, unknown> }[]).find((p) => p.id === providerId)!
    .health
}

async function lastRow(keyId: string) {
  const rows = await usageRows(keyId)
  return rows[rows.length - 1]!
}

// A primary that fails with `scenario`, a healthy backup, one model routed primary → backup, and two
// keys: a breaker every key shares opens only on faults from more than one key (`keys` takes turns).
async function pair(scenario: string, primaryOptions: { timeoutMs?: number } = {}) {
  const primary = await createProvider({ scenario: `${scenario}~${uid()}`, ...primaryOptions })
  const backup = await createProvider()
  const model = await createModel([primary.id, backup.id])
  const key = await createKey({ models: [model] })
  const other = await createKey({ models: [model] })
  return { primary, backup, model, key, other, keys: [key, other] }
}

describe('circuit breakers', () => {
  it('opens after the threshold: the provider is no longer called, the backup serves at the first attempt', async () => {
    const { primary, backup, model, key, keys } = await pair('status500')
    for (let i = 0; i < 5; i++) expect((await call(keys[i % 2]!.raw, model)).status).toBe(200)
    expect(await calls(primary.scenario)).toBe(5)
    expect(await health(primary.id)).toMatchObject({ state: 'open', failures: 5 })

    for (let i = 0; i < 3; i++) expect((await call(key.raw, model)).status).toBe(200)
    expect(await calls(primary.scenario)).toBe(5)
    expect(await calls(backup.scenario)).toBe(8)
    expect(await lastRow(key.id)).toMatchObject({ attempts: 1, provider: backup.name, status: 200 })
  })

  it('after the cooldown exactly one request probes; a failure reopens the breaker', async () => {
    const { primary, model, key, keys } = await pair('status500')
    for (let i = 0; i < 5; i++) await call(keys[i % 2]!.raw, model)
    const later = { CLOCK_OFFSET_MS: String(COOLDOWN_MS + 1_000) }
    const replies = await Promise.all([1, 2, 3, 4].map(() => call(key.raw, model, later)))
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200])
    expect(await calls(primary.scenario)).toBe(6)
    expect(await health(primary.id)).toMatchObject({ state: 'open' })
    await call(key.raw, model, later)
    expect(await calls(primary.scenario)).toBe(6)
    const moves = parsePrometheus(await (await gateway('/metrics')).text())
      .get('nexusai_circuit_transitions_total')!
      .samples.filter((s) => s.labels.provider === primary.name)
    expect(Object.fromEntries(moves.map((s) => [s.labels.to, s.value]))).toEqual({ open: 2, half_open: 1 })
  })

  it('a successful probe closes the breaker and the provider is first again', async () => {
    const { primary, model, key, keys } = await pair('fail5x500')
    for (let i = 0; i < 5; i++) await call(keys[i % 2]!.raw, model)
    expect(await health(primary.id)).toMatchObject({ state: 'open' })
    const later = { CLOCK_OFFSET_MS: String(COOLDOWN_MS + 1_000) }
    await call(key.raw, model, later)
    expect(await lastRow(key.id)).toMatchObject({ attempts: 1, provider: primary.name })
    expect(await health(primary.id)).toMatchObject({ state: 'closed', failures: 0 })
    await call(key.raw, model, later)
    expect(await calls(primary.scenario)).toBe(7)
  })

  it('one key alone cannot open a breaker every key shares: its own faults open it for that key only', async () => {
    const { primary, backup, model, key, other } = await pair('status500')
    for (let i = 0; i < 5; i++) expect((await call(key.raw, model)).status).toBe(200)
    expect(await health(primary.id)).toMatchObject({ state: 'closed', failures: 5 })
    // That key now goes to the backup at once...
    await call(key.raw, model)
    expect(await calls(primary.scenario)).toBe(5)
    expect(await lastRow(key.id)).toMatchObject({ attempts: 1, provider: backup.name })
    // ...while every other key still reaches the provider; a fault of a second key opens it for all.
    await call(other.raw, model)
    expect(await calls(primary.scenario)).toBe(6)
    expect(await health(primary.id)).toMatchObject({ state: 'open' })
  })

  it("a timeout the request made likely (a large output, not streamed) is not the provider's fault", async () => {
    const { primary, model, keys } = await pair('delay1500', { timeoutMs: 500 })
    const ask = (raw: string, max_tokens: number) =>
      gatewayWith({}, '/v1/chat/completions', chatRequest(raw, model, { max_tokens }))
    // 100,000 tokens at 50 per second is far past a 500 ms time to head: every key times out, no fault.
    for (let i = 0; i < 6; i++) expect((await ask(keys[i % 2]!.raw, 100_000)).res.status).toBe(200)
    expect(await calls(primary.scenario)).toBe(6)
    expect(await health(primary.id)).toMatchObject({ state: 'closed', failures: 0 })
    // 5 tokens could be written well within it: that timeout is the provider's.
    for (let i = 0; i < 2; i++) await ask(keys[i % 2]!.raw, 5)
    expect(await health(primary.id)).toMatchObject({ failures: 2 })
  })

  it('is shared: what one isolate learns, another acts on', async () => {
    const { primary, backup, model, key } = await pair('status503')
    const first = { NEXUSAI_TEST_ISOLATE: 'a' }
    const second = { NEXUSAI_TEST_ISOLATE: 'b' }
    for (let i = 0; i < 5; i++) await call(key.raw, model, first)
    expect((await call(key.raw, model, second)).status).toBe(200)
    expect(await calls(primary.scenario)).toBe(5)
    expect(await lastRow(key.id)).toMatchObject({ attempts: 1, provider: backup.name })
  })

  it('honours per-provider settings', async () => {
    const { primary, model, key } = await pair('status500')
    const settings = { [`PROVIDER_${envName(primary.name)}_CIRCUIT_THRESHOLD`]: '2' }
    for (let i = 0; i < 4; i++) await call(key.raw, model, settings)
    expect(await calls(primary.scenario)).toBe(2)
  })

  it('takes per-provider settings from the admin API; a Worker var wins over them', async () => {
    const { primary, model, key } = await pair('status500')
    expect((await admin('PATCH', `/providers/${primary.id}`, { circuit: { threshold: 0 } })).status).toBe(400)
    expect((await admin('PATCH', `/providers/${primary.id}`, { circuit: { treshold: 2 } })).status).toBe(400)
    const patched = await admin('PATCH', `/providers/${primary.id}`, {
      circuit: { threshold: 3, cooldown_ms: 90_000 },
    })
    expect(patched.body.circuit).toEqual({ threshold: 3, cooldown_ms: 90_000 })
    expect(patched.body.health).toMatchObject({ threshold: 3, cooldown_ms: 90_000, window_ms: 60_000 })
    for (let i = 0; i < 5; i++) await call(key.raw, model)
    expect(await calls(primary.scenario)).toBe(3)
    // Past the default cooldown but within this provider's own, it is still skipped.
    await call(key.raw, model, { CLOCK_OFFSET_MS: String(COOLDOWN_MS + 1_000) })
    expect(await calls(primary.scenario)).toBe(3)

    const other = await pair('status500')
    await admin('PATCH', `/providers/${other.primary.id}`, { circuit: { threshold: 4 } })
    const varWins = { [`PROVIDER_${envName(other.primary.name)}_CIRCUIT_THRESHOLD`]: '2' }
    for (let i = 0; i < 4; i++) await call(other.key.raw, other.model, varWins)
    expect(await calls(other.primary.scenario)).toBe(2)
  })

  it("cools a provider for its 429's Retry-After, without counting a fault", async () => {
    const { primary, backup, model, key } = await pair('status429+retryafter60000')
    expect((await call(key.raw, model)).status).toBe(200)
    expect(await calls(primary.scenario)).toBe(1)
    await call(key.raw, model)
    expect(await calls(primary.scenario)).toBe(1)
    expect(await lastRow(key.id)).toMatchObject({ attempts: 1, provider: backup.name })
    expect(await health(primary.id)).toMatchObject({ state: 'closed', failures: 0 })
    expect(Date.parse((await health(primary.id)).retry_at as string)).toBeGreaterThan(Date.now() + 50_000)
    await call(key.raw, model, { CLOCK_OFFSET_MS: '61000' })
    expect(await calls(primary.scenario)).toBe(2)
  })

  it('never refuses on its own: with every breaker open the targets are still tried in order', async () => {
    const a = await createProvider({ scenario: `fail5x500~${uid()}` })
    const b = await createProvider({ scenario: `fail5x500~${uid()}` })
    const model = await createModel([a.id, b.id])
    const key = await createKey({ models: [model] })
    const other = await createKey({ models: [model] })
    for (let i = 0; i < 5; i++) expect((await call([key, other][i % 2]!.raw, model)).status).toBe(502)
    expect(await health(a.id)).toMatchObject({ state: 'open' })
    expect(await health(b.id)).toMatchObject({ state: 'open' })
    expect((await call(key.raw, model)).status).toBe(200)
    expect(await lastRow(key.id)).toMatchObject({ attempts: 1, provider: a.name })
  })

  it("never opens on the client's own errors", async () => {
    const { primary, backup, model, key } = await pair('status400')
    for (let i = 0; i < 8; i++) expect((await call(key.raw, model)).status).toBe(400)
    expect(await calls(primary.scenario)).toBe(8)
    expect(await calls(backup.scenario)).toBe(0)
    expect(await health(primary.id)).toMatchObject({ state: 'closed', failures: 0 })
  })

  it('loses no outcome when many requests finish at once', async () => {
    const { primary, model, key } = await pair('status502')
    const settings = { [`PROVIDER_${envName(primary.name)}_CIRCUIT_THRESHOLD`]: '1000' }
    await Promise.all(Array.from({ length: 24 }, () => call(key.raw, model, settings)))
    expect(await calls(primary.scenario)).toBe(24)
    expect(await health(primary.id)).toMatchObject({ state: 'closed', failures: 24 })
  })

  it('shows health and metrics, and an operator reset closes the breaker', async () => {
    const { primary, model, key, keys } = await pair('status500')
    await call(key.raw, model)
    const ok = await health(primary.id)
    expect(ok).toMatchObject({
      state: 'closed',
      failures: 1,
      retry_at: null,
      threshold: 5,
      cooldown_ms: 30_000,
    })
    for (let i = 1; i < 5; i++) await call(keys[i % 2]!.raw, model)
    const open = await health(primary.id)
    expect(open).toMatchObject({ state: 'open', failures: 5 })
    expect(Date.parse(open.retry_at as string)).toBeGreaterThan(Date.now())
    expect(open.success_ratio).toBeLessThan(0.5)

    const scrape = async () => parsePrometheus(await (await gateway('/metrics')).text())
    let families = await scrape()
    const state = families.get('nexusai_provider_circuit_state')!
    expect(state.type).toBe('gauge')
    expect(state.samples.find((s) => s.labels.provider === primary.name)?.value).toBe(2)
    const moved = families.get('nexusai_circuit_transitions_total')!.samples
    expect(moved.find((s) => s.labels.provider === primary.name && s.labels.to === 'open')?.value).toBe(1)

    const reset = await admin('POST', `/providers/${primary.id}/reset`)
    expect(reset.status).toBe(200)
    expect(reset.body.health).toMatchObject({ state: 'closed', failures: 0, retry_at: null })
    await call(key.raw, model)
    expect(await calls(primary.scenario)).toBe(6)
    families = await scrape()
    expect(
      families.get('nexusai_provider_circuit_state')!.samples.find((s) => s.labels.provider === primary.name)
        ?.value,
    ).toBe(0)
    expect((await admin('POST', `/providers/00000000-0000-4000-8000-000000000000/reset`)).status).toBe(404)
  })
})

describe('routing strategies', () => {
  it("a mapping set's strategy is set through the admin API; weighted ignores priority", async () => {
    const preferred = await createProvider()
    const heavy = await createProvider()
    const model = `m-${uid()}`
    const first = await admin('POST', '/model-mappings', { model, provider_id: preferred.id, priority: 1 })
    expect(first.body.strategy).toBe('priority')
    const second = await admin('POST', '/model-mappings', {
      model,
      provider_id: heavy.id,
      priority: 2,
      weight: 1_000_000,
    })
    const key = await createKey({ models: [model] })
    await call(key.raw, model)
    expect(await calls(preferred.scenario)).toBe(1)

    expect((await admin('PATCH', `/model-mappings/${second.body.id}`, { strategy: 'fastest' })).status).toBe(
      400,
    )
    const patched = await admin('PATCH', `/model-mappings/${second.body.id}`, { strategy: 'weighted' })
    expect(patched.body.strategy).toBe('weighted')
    for (let i = 0; i < 3; i++) await call(key.raw, model)
    expect(await calls(preferred.scenario)).toBe(1)
    expect(await calls(heavy.scenario)).toBe(3)
  })
})
