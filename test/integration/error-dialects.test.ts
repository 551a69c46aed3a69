import { describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { anthropic } from '../helpers/anthropic'
import { createKey, createModel, createProvider } from '../helpers/fixtures'
import { gateway, keyedPost, uid } from '../helpers/gateway'

// An error is shaped by the client's protocol (the route's dialect), never by the code that raised it.
describe('errors in the client dialect', () => {
  it('a Gemini prompt-safety block answers the Anthropic SDK in Anthropic shape', async () => {
    const provider = await createProvider({ type: 'gemini', scenario: `blocked~${uid()}` })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const error = await anthropic(key.raw)
      .messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.BadRequestError)
    const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as {
      type: string
      error: { type: string; message: string }
    }
    expect(body.type).toBe('error')
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.message).toContain('blocked')
  })

  it('the same block answers an OpenAI client in OpenAI shape', async () => {
    const provider = await createProvider({ type: 'gemini', scenario: `blocked~${uid()}` })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    const res = await gateway(
      '/v1/chat/completions',
      keyedPost(key.raw, { model, messages: [{ role: 'user', content: 'hi' }] }),
    )
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('content_filter')
  })
})
