import { describe, expect, it } from 'vitest'
import { admin } from '../helpers/admin'
import { createKey, createProvider, usageRows } from '../helpers/fixtures'
import { eventually, gateway, sdk, testDb, testRedis, uid } from '../helpers/gateway'
import { parsePrometheus } from '../helpers/prometheus'
import { modelMappings } from '../../drizzle/schema'
import { keys } from '../../src/redis/keys'

// The mock's `cache` scenario: input 31, cache writes 1000 (5 min) + 200 (1 h), cache reads 8000, output 5.
async function cachedStream(prices: Record<string, string>) {
  const provider = await createProvider({ type: 'anthropic', scenario: `cache~${uid()}` })
  const model = `claude-cache-${uid()}`
  await testDb()
    .insert(modelMappings)
    .values({ model, providerId: provider.id, upstreamModel: 'claude-sonnet' })
  await testRedis().incr(keys.configVersion())
  const put = await admin('PUT', `/prices/${model}`, { ...prices, effective_from: '2020-01-01T00:00:00Z' })
  expect(put.status).toBe(201)
  const key = await createKey({ models: [model] })
  const stream = await sdk(key.raw).chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
    stream_options: { include_usage: true },
  })
  for await (const _ of stream) void _
  const [row] = await eventually(async () => {
    const rows = await usageRows(key.id)
    expect(rows).toHaveLength(1)
    return rows
  })
  return { row: row!, model, put: put.body }
}

const SONNET = {
  input_per_million: '3',
  output_per_million: '15',
  cache_read_per_million: '0.3',
  cache_write_5m_per_million: '3.75',
  cache_write_1h_per_million: '6',
}

describe('cache buckets and their prices', () => {
  it('stores the buckets and charges each at its own absolute price, exactly', async () => {
    const { row, model, put } = await cachedStream(SONNET)
    expect(put).toMatchObject({
      cache_read_per_million: 0.3,
      cache_write_1h_per_million: 6,
      long_context_threshold: null,
    })
    expect(row).toMatchObject({
      promptTokens: 9231,
      completionTokens: 5,
      cacheReadTokens: 8000,
      cacheWrite5mTokens: 1000,
      cacheWrite1hTokens: 200,
      usageSource: 'upstream',
    })
    // 31×3 + 8000×0.3 + 1000×3.75 + 200×6 + 5×15 micro-USD
    expect(row.costUsd).toBe('0.007518000000')
    const report = await admin('GET', `/usage?group_by=model&model=${model}`)
    expect(report.body.totals).toMatchObject({ cache_read_tokens: 8000, cache_write_tokens: 1200 })
    const log = await admin('GET', `/usage/logs?model=${model}`)
    expect(log.body.data[0]).toMatchObject({ cache_write_1h_tokens: 200, usage_source: 'upstream' })
    const families = parsePrometheus(await (await gateway('/metrics')).text())
    const tokens = families.get('nexusai_tokens_total')?.samples.filter((s) => s.labels.model === model) ?? []
    const byType = Object.fromEntries(tokens.map((s) => [s.labels.type, s.value]))
    expect(byType).toMatchObject({ prompt: 9231, completion: 5, cache_read: 8000, cache_write: 1200 })
  })

  it('never derives a cache price from the input price: a different read price changes only its term', async () => {
    const cheap = await cachedStream({ ...SONNET, cache_read_per_million: '0.075' })
    expect(cheap.row.costUsd).toBe('0.005718000000') // 8000 × (0.3 − 0.075) = 1800 micro-USD less
  })

  it('prices cache buckets at the input price when a version has no cache prices', async () => {
    const { row } = await cachedStream({ input_per_million: '1', output_per_million: '2' })
    expect(row.costUsd).toBe('0.009241000000') // 9231 × 1 + 5 × 2
  })
})
