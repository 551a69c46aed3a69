import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { eventually, gateway, keyedPost, mockRequests, sdk, UPSTREAM_KEY } from '../helpers/gateway'
import {
  countRows,
  createKey,
  createModel,
  createProvider,
  setup,
  updateKey,
  usageRows,
} from '../helpers/fixtures'

const post = (path: string, key: string, body: string, headers: Record<string, string> = {}) =>
  gateway(path, keyedPost(key, body, headers))

const chat = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })

describe('errors are OpenAI-shaped and the SDK maps them to its classes', () => {
  it('401 for a missing, unknown, disabled or expired key', async () => {
    const { model, key } = await setup()
    await expect(sdk('lgw_doesnotexist').chat.completions.create(chat(model))).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    )
    const wellFormed = `lgw_${'A'.repeat(40)}`
    await expect(sdk(wellFormed).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
    const res = await gateway('/v1/models')
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({
      error: { code: 'invalid_api_key', type: 'invalid_request_error' },
    })
    await updateKey(key.id, { status: 'disabled' })
    await expect(sdk(key.raw).chat.completions.create(chat(model))).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    )
    const expired = await createKey({ models: [model], expiresAt: new Date(Date.now() - 1000) })
    await expect(sdk(expired.raw).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
  })

  it('refuses unknown, forged, disabled and expired keys with the same message (nothing confirms a key is real)', async () => {
    const { model, key } = await setup()
    const expired = await createKey({ models: [model], expiresAt: new Date(Date.now() - 1000) })
    const disabled = await createKey({ models: [model], status: 'disabled' })
    const forged = `${key.raw.slice(0, -1)}${key.raw.endsWith('A') ? 'B' : 'A'}`
    const refusals = []
    for (const raw of [`lgw_${'B'.repeat(40)}`, forged, disabled.raw, expired.raw]) {
      const res = await gateway('/v1/chat/completions', keyedPost(raw, chat(model)))
      refusals.push({ status: res.status, body: await res.json() })
    }
    expect(new Set(refusals.map((r) => JSON.stringify(r))).size).toBe(1)
    expect(refusals[0]).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } })
  })

  it('403 model_not_allowed outside the allow-list, 404 model_not_found without a mapping', async () => {
    const { key } = await setup()
    const other = await createModel([(await createProvider()).id])
    const forbidden = sdk(key.raw).chat.completions.create(chat(other))
    await expect(forbidden).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError)
    await expect(forbidden).rejects.toMatchObject({ code: 'model_not_allowed' })
    const wildcard = await createKey({ models: ['*'] })
    const missing = sdk(wildcard.raw).chat.completions.create(chat('no-such-model'))
    await expect(missing).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    await expect(missing).rejects.toMatchObject({ code: 'model_not_found' })
    expect(
      await eventually(async () => {
        const n = await countRows(wildcard.id)
        expect(n).toBe(1)
        return n
      }),
    ).toBe(1)
  })

  it('400 with the param for malformed JSON, wrong types, empty bodies and wrong content types, never 500', async () => {
    const { model, key } = await setup()
    const cases: [string, Record<string, string>, string | null][] = [
      ['{not json', {}, null],
      ['', {}, null],
      [JSON.stringify({ model, messages: 'hi' }), {}, 'messages'],
      [JSON.stringify({ model, messages: [{ role: 'user', content: 5 }] }), {}, 'messages[0].content'],
      [
        JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }),
        {},
        'max_tokens',
      ],
      [
        JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
        { 'content-type': 'text/plain' },
        null,
      ],
    ]
    for (const [body, headers, param] of cases) {
      const res = await post('/v1/chat/completions', key.raw, body, headers)
      expect(res.status).toBe(400)
      const json = (await res.json()) as { error: { code: string; param: string | null } }
      expect(json.error.code).toBe('invalid_request_error')
      expect(json.error.param).toBe(param)
    }
    await expect(sdk(key.raw).chat.completions.create({ model, messages: [] })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    )
    await eventually(async () => expect(await countRows(key.id)).toBe(cases.length + 1))
  })

  it('413 request_too_large for a body over the limit', async () => {
    const { model, key } = await setup()
    const huge = JSON.stringify({ ...chat(model), padding: 'x'.repeat(33 * 1024 * 1024) })
    const res = await post('/v1/chat/completions', key.raw, huge)
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ error: { code: 'request_too_large' } })
  })

  it('passes unknown OpenAI fields to the upstream untouched and swaps only the model name', async () => {
    const { model, key, provider } = await setup()
    const extra = {
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
      seed: 7,
      response_format: { type: 'json_object' },
      logprobs: true,
    }
    await sdk(key.raw).chat.completions.create({ ...chat(model), ...extra } as never)
    const [seen] = await mockRequests(provider.scenario)
    expect(seen?.body).toMatchObject({ ...extra, model: `up-${model}`, messages: chat(model).messages })
    expect(seen?.authorization).toBe(`Bearer ${UPSTREAM_KEY}`)
  })

  it('relays an upstream 400 about the request without fallback', async () => {
    const bad = await createProvider({ scenario: `status400~${crypto.randomUUID()}` })
    const good = await createProvider()
    const model = await createModel([bad.id, good.id])
    const key = await createKey({ models: [model] })
    await expect(sdk(key.raw).chat.completions.create(chat(model))).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    )
    expect(await mockRequests(good.scenario)).toHaveLength(0)
  })

  it('502 upstream_error when every provider fails, without leaking upstream URLs, keys or bodies', async () => {
    const scenario = `secretleak~${crypto.randomUUID()}`
    const { model, key } = await setup({ scenario })
    const res = await post('/v1/chat/completions', key.raw, JSON.stringify(chat(model)))
    expect(res.status).toBe(502)
    const text = await res.text()
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'upstream_error', type: 'server_error' } })
    expect(text).not.toContain(UPSTREAM_KEY)
    expect(text).not.toContain('127.0.0.1')
    expect(text).not.toContain(scenario)
    await expect(sdk(key.raw).chat.completions.create(chat(model))).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    )
  })

  it('unknown routes get an OpenAI-shaped 404 and every response a request id', async () => {
    const res = await gateway('/v2/nothing')
    expect(res.status).toBe(404)
    expect(res.headers.get('x-request-id')).toMatch(/^req_/)
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
    const kept = await gateway('/healthz', { headers: { 'x-request-id': 'client-chosen-id-123' } })
    expect(kept.headers.get('x-request-id')).toBe('client-chosen-id-123')
  })

  it('records one usage row per authenticated request, whatever the outcome', async () => {
    const { model, key } = await setup({ key: { rpmLimit: 2 } })
    await sdk(key.raw).chat.completions.create(chat(model))
    await post('/v1/chat/completions', key.raw, '{bad')
    await sdk(key.raw).chat.completions.create(chat(model))
    await expect(sdk(key.raw).chat.completions.create(chat(model))).rejects.toBeInstanceOf(
      OpenAI.RateLimitError,
    )
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(4)
      return rows
    })
    expect(rows.map((r) => r.status).sort()).toEqual([200, 200, 400, 429])
    expect(rows.find((r) => r.status === 429)?.errorCode).toBe('rate_limit_exceeded')
  })
})
