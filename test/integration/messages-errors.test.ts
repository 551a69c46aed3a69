import { describe, expect, it } from 'vitest'
import { eventually, gateway, keyedPost, mockRequests, uid } from '../helpers/gateway'
import { countRows, createKey, createModel, createProvider, setup, usageRows } from '../helpers/fixtures'
import { SDKS } from '../helpers/anthropic'

type SdkError = {
  constructor: { name: string }
  status: number
  type: string | null
  headers: Headers
  requestID: string | null
  error: { type: string; error: { type: string; message: string; details?: { error_code: string } } }
}

async function refusal(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call
  } catch (error) {
    return error as SdkError
  }
  throw new Error('the call succeeded')
}

// The error's class and its ancestors (the two SDKs' classes are different objects).
function classes(error: object): string[] {
  const names: string[] = []
  for (let p = Object.getPrototypeOf(error); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    names.push(p.constructor.name)
  return names
}

const hello = (model: string) => ({
  model,
  max_tokens: 16,
  messages: [{ role: 'user' as const, content: 'hi' }],
})

describe.each(SDKS)(
  'gateway refusals on /v1/messages reach the Anthropic $name as its typed errors',
  ({ client }) => {
    it('an unknown key is an AuthenticationError (401 authentication_error) with a request id', async () => {
      const { model } = await setup()
      const error = await refusal(client(`lgw_${'x'.repeat(40)}`).messages.create(hello(model)))
      expect(error.constructor.name).toBe('AuthenticationError')
      expect(error.status).toBe(401)
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
      expect(error.requestID).toBeTruthy()
    })

    it('a model outside the allow-list is a PermissionDeniedError; an unmapped one a NotFoundError', async () => {
      const { key } = await setup()
      const denied = await refusal(client(key.raw).messages.create(hello('claude-not-allowed')))
      expect(denied.constructor.name).toBe('PermissionDeniedError')
      expect(denied.error.error.type).toBe('permission_error')
      const wide = await createKey({ models: ['*'] })
      const missing = await refusal(client(wide.raw).messages.create(hello(`claude-${uid()}`)))
      expect(missing.constructor.name).toBe('NotFoundError')
      expect(missing.error.error.type).toBe('not_found_error')
    })

    it('the RPM limit is a RateLimitError with retry-after', async () => {
      const { model, key } = await setup({ key: { rpmLimit: 1 } })
      await client(key.raw).messages.create(hello(model))
      const error = await refusal(client(key.raw).messages.create(hello(model)))
      expect(error.constructor.name).toBe('RateLimitError')
      expect(error.error.error.type).toBe('rate_limit_error')
      expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(0)
    })

    it('an exhausted budget is a RateLimitError the SDK does not retry (one request, one usage row)', async () => {
      const provider = await createProvider()
      const model = await createModel([provider.id], { input: '0', output: '1000' })
      const key = await createKey({ models: [model], dailyBudget: '0.001' })
      const error = await refusal(
        client(key.raw, { maxRetries: 2 }).messages.create({ ...hello(model), max_tokens: 4096 }),
      )
      // SDK 1.x raises its EnforcedSpendLimitReachedError, a RateLimitError.
      expect(classes(error)).toContain('RateLimitError')
      expect(error.error.error).toMatchObject({
        type: 'rate_limit_error',
        details: { error_code: 'enforced_spend_limit_reached' },
      })
      expect(error.headers.get('x-should-retry')).toBe('false')
      await eventually(async () => expect(await countRows(key.id)).toBe(1))
    })

    it('an invalid request is a BadRequestError before any upstream call', async () => {
      const { model, key, provider } = await setup()
      const error = await refusal(
        client(key.raw).messages.create({
          model,
          max_tokens: 16,
          tools: [{ type: 'web_search_20250305', name: 'web_search' } as never],
          messages: [{ role: 'user', content: 'news?' }],
        }),
      )
      expect(error.constructor.name).toBe('BadRequestError')
      expect(error.error.error.message).toContain('web_search_20250305')
      expect(await mockRequests(provider.scenario)).toHaveLength(0)
    })

    it('every upstream overloaded is a 529 overloaded_error', async () => {
      const { model, key } = await setup({ scenario: `status529~${uid()}` })
      const error = await refusal(client(key.raw).messages.create(hello(model)))
      expect(error.status).toBe(529)
      expect(error.error.error.type).toBe('overloaded_error')
    })

    it("an upstream's 400 is relayed as a BadRequestError with its message", async () => {
      const { model, key } = await setup({ scenario: `status400~${uid()}` })
      const error = await refusal(client(key.raw).messages.create(hello(model)))
      expect(error.constructor.name).toBe('BadRequestError')
      expect(error.error.error).toEqual({
        type: 'invalid_request_error',
        message: 'Invalid request (mock status 400).',
      })
    })

    it('every upstream failing is an api_error (InternalServerError); a stream cut short ends with an error event', async () => {
      const { model, key } = await setup({ scenario: `status500~${uid()}` })
      const failed = await refusal(client(key.raw).messages.create(hello(model)))
      expect(failed.status).toBe(502)
      expect(failed.error.error.type).toBe('api_error')

      const cut = await setup({ scenario: `cut2~${uid()}` })
      const broken = await refusal(client(cut.key.raw).messages.stream(hello(cut.model)).finalMessage())
      expect(broken.constructor.name).toBe('APIError')
      expect(broken.type ?? broken.error.error.type).toBe('api_error')
      const row = await eventually(async () => {
        const rows = await usageRows(cut.key.id)
        expect(rows).toHaveLength(1)
        return rows[0]!
      })
      expect(row.errorCode).toBe('upstream_stream_broken')
    })
  },
)

describe('/v1/messages requests outside the SDKs', () => {
  it('takes the key from x-api-key when Authorization holds something else, and accepts ?beta=true', async () => {
    const { model, key } = await setup()
    const res = await gateway(
      '/v1/messages?beta=true',
      keyedPost('junk', hello(model), { 'x-api-key': key.raw, 'anthropic-version': '2023-06-01' }),
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('request-id')).toBeTruthy()
    expect(res.headers.get('server-timing')).toContain('upstream;dur=')
  })

  it('answers a missing key, bad JSON and a missing max_tokens in the Anthropic error shape', async () => {
    const { model, key } = await setup()
    const noKey = await gateway('/v1/messages', { method: 'POST', body: JSON.stringify(hello(model)) })
    expect(noKey.status).toBe(401)
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
    const badJson = await gateway('/v1/messages', keyedPost(key.raw, '{nope'))
    expect(badJson.status).toBe(400)
    expect(await badJson.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    const noMax = await gateway(
      '/v1/messages',
      keyedPost(key.raw, { model, messages: [{ role: 'user', content: 'x' }] }),
    )
    expect(await noMax.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: "Missing required parameter: 'max_tokens'." },
    })
  })
})
