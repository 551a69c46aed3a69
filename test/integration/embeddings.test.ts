import { describe, expect, it } from 'vitest'
import { eventually, gateway, mockRequests, sdk } from '../helpers/gateway'
import { setup, usageRows } from '../helpers/fixtures'

describe('embeddings', () => {
  it('decodes the SDK default base64 encoding to the same vector as float', async () => {
    const { model, key, provider } = await setup()
    const client = sdk(key.raw)
    const viaBase64 = await client.embeddings.create({ model, input: 'the quick brown fox' })
    const viaFloat = await client.embeddings.create({
      model,
      input: 'the quick brown fox',
      encoding_format: 'float',
    })
    expect(viaBase64.data[0]?.embedding.length).toBeGreaterThan(0)
    expect(viaBase64.data[0]?.embedding).toEqual(viaFloat.data[0]?.embedding)
    const seen = await mockRequests(provider.scenario)
    expect(seen.map((r) => r.body.encoding_format)).toEqual(['base64', 'float'])
    expect(seen[0]?.body.model).toBe(`up-${model}`)
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(2)
      return rows
    })
    expect(rows.every((r) => r.route === 'embeddings' && r.status === 200 && r.promptTokens > 0)).toBe(true)
  })

  it('embeds a batch of inputs in order', async () => {
    const { model, key } = await setup()
    const res = await sdk(key.raw).embeddings.create({
      model,
      input: ['a', 'b', 'c'],
      encoding_format: 'float',
    })
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2])
  })

  it('rejects an input of the wrong type with the offending param', async () => {
    const { model, key } = await setup()
    const res = await gateway('/v1/embeddings', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 42 }),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { param: string; code: string } }
    expect(body.error).toMatchObject({ param: 'input', code: 'invalid_request_error' })
  })
})
