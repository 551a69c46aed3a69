import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type RuntimeStack } from './workerd-stack'

// Two workerd processes (two isolates that share nothing but the stores) in front of the same Redis
// and Postgres: what one learns about a provider that is down, the other acts on.
let rt: RuntimeStack
beforeAll(async () => {
  rt = await startRuntime(
    // SECRETS_KEY seals the stored provider keys of the pool test.
    { ALLOW_PRIVATE_UPSTREAMS: 'true', SECRETS_KEY: 'WMx6pezBxfEL8+jmBuVHB1jcP7UTKNG+yuMZ0tbRXGU=' },
    { instances: 2 },
  )
})
afterAll(async () => {
  await rt?.close()
})

const uid = () => crypto.randomUUID().slice(0, 8)

async function chat(url: string, raw: string, model: string) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${raw}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  })
  await res.text()
  return res.status
}

async function calls(scenario: string): Promise<number> {
  const res = await fetch(`${rt.stack.mock.url}/__requests?scenario=${encodeURIComponent(scenario)}`)
  return ((await res.json()) as unknown[]).length
}

describe('circuit breakers across isolates', () => {
  it('one gateway process opens the breaker, the other skips the provider at once', async () => {
    const scenario = `status500~${uid()}`
    const down = await rt.admin('POST', '/providers', {
      name: `rt-down-${uid()}`,
      base_url: `${rt.stack.mock.url}/s/${scenario}/v1`,
      max_retries: 0,
    })
    const backup = await rt.admin('POST', '/providers', {
      name: `rt-up-${uid()}`,
      base_url: `${rt.stack.mock.url}/v1`,
      max_retries: 0,
    })
    const model = `m-${uid()}`
    await rt.admin('POST', '/model-mappings', { model, provider_id: down.body.id, priority: 1 })
    await rt.admin('POST', '/model-mappings', { model, provider_id: backup.body.id, priority: 2 })
    const key = await rt.admin('POST', '/api-keys', { name: `k-${uid()}`, allowed_models: [model] })
    // A second key: one key alone opens a breaker for itself only.
    const other = await rt.admin('POST', '/api-keys', { name: `k-${uid()}`, allowed_models: [model] })
    const [first, second] = rt.urls as [string, string]
    expect(first).not.toBe(second)

    for (let i = 0; i < 5; i++) expect(await chat(first, [key, other][i % 2]!.body.raw_key, model)).toBe(200)
    // Outcomes are recorded after each response; wait until the fifth has opened the breaker.
    const deadline = Date.now() + 15_000
    for (;;) {
      const list = await rt.admin('GET', '/providers')
      const health = list.body.data.find((p: { id: string }) => p.id === down.body.id)?.health
      if (health?.state === 'open') break
      if (Date.now() > deadline) throw new Error(`breaker never opened: ${JSON.stringify(health)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(await calls(scenario)).toBe(5)

    for (let i = 0; i < 3; i++) expect(await chat(second, key.body.raw_key, model)).toBe(200)
    expect(await calls(scenario)).toBe(5)
  })
  it('a stored key that one process saw cooled by a 429 is skipped by the other at once', async () => {
    const scenario = `limitHOT+retryafter60000~${uid()}`
    const [hot, spare] = [`sk-rt-${uid()}${uid()}HOT`, `sk-rt-${uid()}${uid()}SPARE`]
    const provider = await rt.admin('POST', '/providers', {
      name: `rt-pool-${uid()}`,
      base_url: `${rt.stack.mock.url}/s/${scenario}/v1`,
      api_keys: [hot, spare],
      max_retries: 0,
    })
    expect(provider.status).toBe(201)
    const model = `m-${uid()}`
    await rt.admin('POST', '/model-mappings', { model, provider_id: provider.body.id })
    const key = await rt.admin('POST', '/api-keys', { name: `k-${uid()}`, allowed_models: [model] })
    const [first, second] = rt.urls as [string, string]
    const sent = async () => {
      const res = await fetch(`${rt.stack.mock.url}/__requests?scenario=${encodeURIComponent(scenario)}`)
      return ((await res.json()) as { authorization: string | null }[]).map((r) => r.authorization)
    }
    const hotCalls = async () => (await sent()).filter((a) => a === `Bearer ${hot}`).length
    // The first process takes turns over the pool until the upstream has cooled the hot key once.
    for (let i = 0; i < 3 && (await hotCalls()) === 0; i++)
      expect(await chat(first, key.body.raw_key, model)).toBe(200)
    expect(await hotCalls()).toBe(1)
    // Recorded after that response; the other process has never seen the key refused.
    await new Promise((r) => setTimeout(r, 1000))
    for (let i = 0; i < 4; i++) expect(await chat(second, key.body.raw_key, model)).toBe(200)
    expect(await hotCalls()).toBe(1)
    expect((await sent()).filter((a) => a === `Bearer ${spare}`).length).toBeGreaterThanOrEqual(4)
  })
})
