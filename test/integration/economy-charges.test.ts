import { describe, expect, it } from 'vitest'
import { usdToPico } from '../../src/lib/money'
import { admin, adminKey } from '../helpers/admin'
import { chatRequest, eventually, gateway, sdk, uid } from '../helpers/gateway'
import { createModel, createProvider, usageRows } from '../helpers/fixtures'

// What a key holder pays: the upstream cost × the project's price ratio, exact to the pico-dollar, and
// shown to the caller in every reply.
describe('price ratios', () => {
  it('ratio 1.5: every charge is exactly 1.5 × its cost; replies carry it as usage.cost and x-nexusai-cost-usd', async () => {
    const projectId = `shop-${uid()}`
    await admin('POST', '/projects', { id: projectId, price_ratio: '1.5' })
    const provider = await createProvider()
    const model = await createModel([provider.id], { input: '0.15', output: '0.6' })
    const key = await adminKey({ project_id: projectId, allowed_models: [model] })

    const json = await gateway('/v1/chat/completions', chatRequest(key.raw_key, model, { max_tokens: 7 }))
    expect(json.status).toBe(200)
    const header = json.headers.get('x-nexusai-cost-usd')!
    const reply = (await json.json()) as { usage: { cost: number } }

    const stream = await sdk(key.raw_key).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'a longer prompt to cost a little more' }],
      max_tokens: 11,
      stream: true,
      stream_options: { include_usage: true },
    })
    let streamed: number | undefined
    for await (const chunk of stream) if (chunk.usage) streamed = (chunk.usage as { cost?: number }).cost

    const rows = await eventually(async () => {
      const r = await usageRows(key.id)
      expect(r).toHaveLength(2)
      return r
    })
    for (const row of rows) {
      expect(usdToPico(row.costUsd)).toBeGreaterThan(0n)
      expect(usdToPico(row.chargeUsd) * 2n).toBe(usdToPico(row.costUsd) * 3n)
    }
    const [first, second] = rows
    expect(usdToPico(header)).toBe(usdToPico(first!.chargeUsd))
    expect(reply.usage.cost).toBe(Number(first!.chargeUsd))
    expect(streamed).toBe(Number(second!.chargeUsd))

    const statement = await admin('GET', `/projects/${projectId}/statement`)
    const t = statement.body.totals
    expect(usdToPico(t.charge_usd)).toBe(rows.reduce((s, r) => s + usdToPico(r.chargeUsd), 0n))
    expect(usdToPico(t.margin_usd)).toBe(usdToPico(t.charge_usd) - usdToPico(t.cost_usd))
    expect(usdToPico(t.margin_usd) * 3n).toBe(usdToPico(t.charge_usd))
  })

  it.each(['openai', 'anthropic'] as const)(
    'Responses replies carry the charge as usage.cost, in the JSON body and in response.completed (%s target)',
    async (type) => {
      const projectId = `shop-${uid()}`
      await admin('POST', '/projects', { id: projectId, price_ratio: '2' })
      const provider = await createProvider({ type })
      const model = await createModel([provider.id], { input: '0.15', output: '0.6' })
      const key = await adminKey({ project_id: projectId, allowed_models: [model] })
      const client = sdk(key.raw_key)
      const reply = await client.responses.create({ model, input: 'Hello' })
      const stream = await client.responses.create({ model, input: 'Hello there', stream: true })
      let completed: number | undefined
      for await (const event of stream)
        if (event.type === 'response.completed') completed = (event.response.usage as { cost?: number }).cost
      const [first, second] = await eventually(async () => {
        const r = await usageRows(key.id)
        expect(r).toHaveLength(2)
        return r
      })
      expect(usdToPico(first!.chargeUsd)).toBe(2n * usdToPico(first!.costUsd))
      expect((reply.usage as { cost?: number }).cost).toBe(Number(first!.chargeUsd))
      expect(completed).toBe(Number(second!.chargeUsd))
    },
  )

  it('ratio 1 (the default) charges the cost, as before', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    const key = await adminKey({ project_id: `plain-${uid()}`, allowed_models: [model] })
    const res = await gateway('/v1/chat/completions', chatRequest(key.raw_key, model))
    expect(res.status).toBe(200)
    const [row] = await eventually(async () => {
      const r = await usageRows(key.id)
      expect(r).toHaveLength(1)
      return r
    })
    expect(row!.chargeUsd).toBe(row!.costUsd)
    expect(usdToPico(res.headers.get('x-nexusai-cost-usd')!)).toBe(usdToPico(row!.costUsd))
  })
})
