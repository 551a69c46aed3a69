import { describe, expect, it } from 'vitest'
import { eventually, gateway, mockRequests, sdk, UPSTREAM_KEY } from '../helpers/gateway'
import { setup, usageRows } from '../helpers/fixtures'

describe('chat completions through the official SDK', () => {
  it('returns the upstream completion and records one usage row with upstream tokens and exact cost', async () => {
    const { model, key, provider } = await setup()
    const completion = await sdk(key.raw).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hello there' }],
    })
    expect(completion.choices[0]?.message.content).toContain('Hello from mock')
    expect(completion.usage?.total_tokens).toBeGreaterThan(0)
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    const row = rows[0]!
    expect(row.status).toBe(200)
    expect(row.provider).toBe(provider.name)
    expect(row.tokensEstimated).toBe(false)
    expect(row.promptTokens).toBe(completion.usage?.prompt_tokens)
    // 1 USD / 1M input, 2 USD / 1M output
    const expected = (row.promptTokens * 1 + row.completionTokens * 2) / 1e6
    expect(Number(row.costUsd)).toBeCloseTo(expected, 12)
    const seen = await mockRequests(provider.scenario)
    expect(seen[0]?.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    expect(JSON.stringify(seen)).not.toContain(key.raw)
  })

  it('answers healthz with a request id', async () => {
    const res = await gateway('/healthz?deep=1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBeTruthy()
    expect(await res.json()).toMatchObject({ status: 'ok', postgres: { ok: true }, redis: { ok: true } })
  })
})
