import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type RuntimeStack } from './workerd-stack'

// The production runtime: two workerd processes (isolates that share nothing but the stores) spending one
// prepaid balance at once. The balance is decided in each request's one Redis step, so together they run
// exactly what it covers, and what they were charged is exactly what it lost.
let rt: RuntimeStack
beforeAll(async () => {
  rt = await startRuntime({ ALLOW_PRIVATE_UPSTREAMS: 'true' }, { instances: 2 })
})
afterAll(async () => {
  await rt?.close()
})

const uid = () => crypto.randomUUID().slice(0, 8)
const pico = (usd: string) => {
  const [whole, frac = ''] = usd.split('.')
  return BigInt(whole!) * 10n ** 12n + BigInt(frac.padEnd(12, '0').slice(0, 12))
}

describe('a prepaid balance across isolates', () => {
  it('40 concurrent requests against a balance worth 10: exactly 10 run, Σ charges = credits − balance to the pico', async () => {
    const provider = await rt.admin('POST', '/providers', {
      name: `rt-bal-${uid()}`,
      base_url: `${rt.stack.mock.url}/v1`,
      max_retries: 0,
    })
    const model = `m-${uid()}`
    await rt.admin('POST', '/model-mappings', { model, provider_id: provider.body.id })
    // Input free, $0.001 per output token: 5 tokens reserve and cost exactly $0.005 (× ratio 1.5: $0.0075).
    await rt.admin('PUT', `/prices/${model}`, { input_per_million: 0, output_per_million: 1000 })
    const projectId = `rt-shop-${uid()}`
    await rt.admin('POST', '/projects', { id: projectId, price_ratio: '1.5' })
    expect((await rt.admin('POST', `/projects/${projectId}/credits`, { amount_usd: '0.075' })).status).toBe(
      201,
    )
    const key = await rt.admin('POST', '/api-keys', {
      name: `k-${uid()}`,
      project_id: projectId,
      allowed_models: [model],
    })

    const statuses = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const res = await fetch(`${rt.urls[i % rt.urls.length]}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.body.raw_key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
        })
        await res.text()
        return res.status
      }),
    )
    expect(statuses.filter((s) => s === 200)).toHaveLength(10)
    expect(statuses.filter((s) => s === 429)).toHaveLength(30)

    const deadline = Date.now() + 15_000
    let statement: any
    for (;;) {
      statement = (await rt.admin('GET', `/projects/${projectId}/statement`)).body
      if (statement.totals.requests === 40) break
      if (Date.now() > deadline)
        throw new Error(`usage rows never landed: ${JSON.stringify(statement.totals)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const balance = (await rt.admin('GET', `/projects/${projectId}`)).body.balance_usd as number
    expect(balance).toBeGreaterThanOrEqual(0)
    expect(pico(statement.totals.charge_usd)).toBe(pico('0.075') - pico(balance.toFixed(12)))
    expect(balance).toBe(0)
    expect(pico(statement.totals.charge_usd) * 2n).toBe(pico(statement.totals.cost_usd) * 3n)
  })
})
