import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { gateway } from '../helpers/gateway'
import { setup } from '../helpers/fixtures'

// Every route that can reach an upstream must pass the guard. The app's route table is enumerated, so
// a new route added without the guard fails here.
describe('one enforcement point', () => {
  it('every POST route under /v1 is refused by the guard when the key has no requests left', async () => {
    const routes = createApp()
      .routes.filter((r) => r.path.startsWith('/v1/') && r.method === 'POST')
      .map((r) => r.path)
    expect([...new Set(routes)].sort()).toEqual([
      '/v1/chat/completions',
      '/v1/embeddings',
      '/v1/messages',
      '/v1/messages/count_tokens',
      '/v1/responses',
    ])
    const { model, key } = await setup({ key: { rpmLimit: 0 } })
    const bodies: Record<string, unknown> = {
      '/v1/chat/completions': { model, messages: [{ role: 'user', content: 'hi' }] },
      '/v1/embeddings': { model, input: 'hi' },
      '/v1/messages': { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      '/v1/messages/count_tokens': { model, messages: [{ role: 'user', content: 'hi' }] },
      '/v1/responses': { model, input: 'hi' },
    }
    for (const path of new Set(routes)) {
      const res = await gateway(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
        body: JSON.stringify(bodies[path] ?? { model }),
      })
      expect(res.status, path).toBe(429)
    }
  })
})
