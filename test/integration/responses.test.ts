import { describe, expect, it } from 'vitest'
import { createKey, createModel, createProvider, setup, usageRows } from '../helpers/fixtures'
import { eventually, gateway, keyedPost, mockRequests, sdk, uid, UPSTREAM_KEY } from '../helpers/gateway'

async function rows(keyId: string, n: number) {
  return eventually(async () => {
    const found = await usageRows(keyId)
    expect(found).toHaveLength(n)
    return found
  })
}

describe('/v1/responses with background: true', () => {
  it('is refused with a 400 naming the field, before any upstream call', async () => {
    const { model, key, provider } = await setup()
    const res = await gateway('/v1/responses', keyedPost(key.raw, { model, input: 'Hi', background: true }))
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { type: string; param: string; message: string } }
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'background' })
    expect(body.error.message).toContain('background: true is not supported')
    expect(await mockRequests(provider.scenario)).toEqual([])
    const ok = await gateway('/v1/responses', keyedPost(key.raw, { model, input: 'Hi', background: false }))
    expect(ok.status).toBe(200)
  })
})

describe('/v1/responses through the official OpenAI SDK', () => {
  it('creates a response: relayed with the model rewritten, usage from the upstream in one usage row', async () => {
    const { model, key, provider } = await setup()
    const response = await sdk(key.raw).responses.create({
      model,
      instructions: 'Be brief.',
      input: 'Hello there',
      max_output_tokens: 64,
    })
    expect(response.output_text).toBe('Hello from mock upstream.')
    const [seen] = await mockRequests(provider.scenario)
    expect(seen!.path).toBe('/v1/responses')
    expect(seen!.body).toEqual({
      model: `up-${model}`,
      instructions: 'Be brief.',
      input: 'Hello there',
      max_output_tokens: 64,
    })
    expect(seen!.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
    const [row] = await rows(key.id, 1)
    expect(row).toMatchObject({ route: 'responses', status: 200, tokensEstimated: false })
    expect(row!.promptTokens).toBe(response.usage!.input_tokens)
    expect(row!.completionTokens).toBe(response.usage!.output_tokens)
  })

  it('streams the upstream events as they are (each with its event line) and takes usage from response.completed', async () => {
    const { model, key } = await setup()
    const stream = await sdk(key.raw).responses.create({ model, input: 'Hello there', stream: true })
    const types: string[] = []
    let completed: { usage?: { input_tokens: number; output_tokens: number } | null } | undefined
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'response.completed') completed = event.response
    }
    expect(types[0]).toBe('response.created')
    expect(types.at(-1)).toBe('response.completed')
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(5)
    const [row] = await rows(key.id, 1)
    expect(row).toMatchObject({ route: 'responses', stream: true, tokensEstimated: false })
    expect(row!.promptTokens).toBe(completed!.usage!.input_tokens)
    expect(row!.completionTokens).toBe(completed!.usage!.output_tokens)
  })

  it('pins previous_response_id to the provider that created it (no fallback), and GET/DELETE go there too', async () => {
    // The first provider fails once, so the response is created by the second; without pinning, every
    // follow-up would go back to the first (priority 1), which does not know the id.
    const first = await createProvider({ scenario: `fail1x500~${uid()}` })
    const second = await createProvider()
    const model = await createModel([first.id, second.id])
    const key = await createKey({ models: [model] })
    const client = sdk(key.raw)
    const one = await client.responses.create({ model, input: 'Hello' })
    for (let i = 0; i < 3; i++) {
      const next = await client.responses.create({ model, input: 'And then?', previous_response_id: one.id })
      expect(next.previous_response_id).toBe(one.id)
    }
    const streamed = await client.responses.create({
      model,
      input: 'More',
      previous_response_id: one.id,
      stream: true,
    })
    for await (const event of streamed) void event
    expect(await mockRequests(first.scenario)).toHaveLength(1)
    expect(await mockRequests(second.scenario)).toHaveLength(5)

    const fetched = await client.responses.retrieve(one.id)
    expect(fetched.id).toBe(one.id)
    await client.responses.delete(one.id)
    const gone = await gateway(`/v1/responses/${one.id}`, { headers: { authorization: `Bearer ${key.raw}` } })
    expect(gone.status).toBe(404)
    await rows(key.id, 8)
  })

  it('answers 404 for an id it never saw or that another key created, without calling any upstream', async () => {
    const { model, key, provider } = await setup()
    const created = await sdk(key.raw).responses.create({ model, input: 'Hello' })
    const other = await createKey({ models: [model] })
    const missing = await gateway(
      '/v1/responses',
      keyedPost(key.raw, { model, input: 'x', previous_response_id: 'resp_nope' }),
    )
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({
      error: { code: 'not_found', param: 'previous_response_id' },
    })
    const foreign = await gateway(`/v1/responses/${created.id}`, {
      headers: { authorization: `Bearer ${other.raw}` },
    })
    expect(foreign.status).toBe(404)
    expect(await mockRequests(provider.scenario)).toHaveLength(1)
  })

  it('ends a stream cut short with an error event and no response.completed', async () => {
    const { model, key } = await setup({ scenario: `cut2~${uid()}` })
    const stream = await sdk(key.raw).responses.create({ model, input: 'Hello', stream: true })
    const types: string[] = []
    const error = await (async () => {
      for await (const event of stream) types.push(event.type)
    })().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(types).not.toContain('response.completed')
    const [row] = await rows(key.id, 1)
    expect(row!.errorCode).toBe('upstream_stream_broken')
  })
})
