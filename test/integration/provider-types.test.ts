import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { providers } from '../../drizzle/schema'
import { admin, adminKey, adminProvider, expectOpenAIError } from '../helpers/admin'
import { createKey, createModel, createProvider } from '../helpers/fixtures'
import {
  chatRequest,
  gatewayWith,
  mockRequests,
  mockUrl,
  sdk,
  testDb,
  testRedis,
  uid,
} from '../helpers/gateway'
import { keys } from '../../src/redis/keys'

describe('provider types', () => {
  it('lets an operator create an Anthropic provider and a mapping with capability flags, then calls it', async () => {
    const scenario = `text~${uid()}`
    const provider = await adminProvider({
      type: 'anthropic',
      base_url: `${mockUrl()}/s/${scenario}/v1`,
    })
    expect(provider.type).toBe('anthropic')
    const model = `claude-${uid()}`
    const mapping = await admin('POST', '/model-mappings', {
      model,
      provider_id: provider.name,
      capabilities: { sampling: false, default_max_tokens: 1000 },
    })
    expect(mapping.status).toBe(201)
    expect(mapping.body.capabilities).toEqual({ sampling: false, default_max_tokens: 1000 })
    const key = await adminKey({ allowed_models: [model] })
    // The provider's key, as an operator sets it: a PROVIDER_<NAME>_API_KEY secret.
    const secret = `PROVIDER_${provider.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`
    const request = chatRequest(key.raw_key, model)
    const { res, body } = await gatewayWith({ [secret]: 'sk-ant-operator' }, '/v1/chat/completions', request)
    expect(res.status).toBe(200)
    expect(JSON.parse(body).choices[0].message.content).toBe('Hello from mock Claude.')
    const [sent] = await mockRequests(scenario)
    expect(sent!.headers['x-api-key']).toBe('sk-ant-operator')
    expect(sent!.body.max_tokens).toBe(1000)
    const patched = await admin('PATCH', `/model-mappings/${mapping.body.id}`, {
      capabilities: { thinking: 'adaptive' },
    })
    expect(patched.body.capabilities).toEqual({ thinking: 'adaptive' })
    expectOpenAIError(
      await admin('PATCH', `/model-mappings/${mapping.body.id}`, { capabilities: { samplng: false } }),
      400,
      'invalid_request_error',
      'capabilities.samplng',
    )
  })

  it('never routes a provider row of a type this build does not speak', async () => {
    const provider = await createProvider()
    const model = await createModel([provider.id])
    await testDb().update(providers).set({ type: 'cohere' }).where(eq(providers.id, provider.id))
    await testRedis().incr(keys.configVersion())
    const key = await createKey({ models: [model] })
    await expect(
      sdk(key.raw).chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }),
    ).rejects.toMatchObject({ status: 503 })
  })

  it('leaves out an Anthropic provider that has no key, and uses the next one', async () => {
    const keyless = await createProvider({ type: 'anthropic', apiKeyRef: null })
    const backup = await createProvider()
    const model = await createModel([keyless.id, backup.id])
    const key = await createKey({ models: [model] })
    const reply = await sdk(key.raw).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(reply.choices[0]!.message.content).toBe('Hello from mock upstream.')
    expect(await mockRequests(keyless.scenario)).toHaveLength(0)
  })

  it('refuses embeddings for a model served only by a chat-only provider', async () => {
    const provider = await createProvider({ type: 'anthropic' })
    const model = await createModel([provider.id])
    const key = await createKey({ models: [model] })
    await expect(sdk(key.raw).embeddings.create({ model, input: 'x' })).rejects.toMatchObject({
      status: 400,
      param: 'model',
    })
  })
})
