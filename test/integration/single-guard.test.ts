import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { gateway } from '../helpers/gateway'
import { setup } from '../helpers/fixtures'

// Every route that can reach an upstream must pass the guard. The app's route table is enumerated, so
// a new route added without the guard fails here.
describe('one enforcement point', () => {
  it('every POST route under /v1 and /v1beta is refused by the guard when the key has no requests left', async () => {
    // Self-service routes never reach an upstream.
    const NO_UPSTREAM = ['/v1/redeem']
    const routes = createApp()
      .routes.filter(
        (r) => /^\/v1(beta)?\//.test(r.path) && r.method === 'POST' && !NO_UPSTREAM.includes(r.path),
      )
      .map((r) => r.path)
    expect([...new Set(routes)].sort()).toEqual([
      '/v1/chat/completions',
      '/v1/embeddings',
      '/v1/messages',
      '/v1/messages/count_tokens',
      '/v1/models/:call{[^/]+:[A-Za-z]+}',
      '/v1/responses',
      '/v1beta/models/:call{[^/]+:[A-Za-z]+}',
    ])
    const { model, key } = await setup({ key: { rpmLimit: 0 } })
    const bodies: Record<string, unknown> = {
      '/v1/chat/completions': { model, messages: [{ role: 'user', content: 'hi' }] },
      '/v1/embeddings': { model, input: 'hi' },
      '/v1/messages': { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      '/v1/messages/count_tokens': { model, messages: [{ role: 'user', content: 'hi' }] },
      '/v1/responses': { model, input: 'hi' },
    }
    // The Gemini API's calls: one route, every method through the guard, under both versions.
    const contents = [{ role: 'user', parts: [{ text: 'hi' }] }]
    for (const version of ['v1', 'v1beta'])
      for (const [method, body] of Object.entries({
        generateContent: { contents },
        streamGenerateContent: { contents },
        countTokens: { contents },
        embedContent: { content: contents[0] },
        batchEmbedContents: { requests: [{ content: contents[0] }] },
      }))
        bodies[
          `/${version}/models/:call{[^/]+:[A-Za-z]+}`.replace(':call{[^/]+:[A-Za-z]+}', `${model}:${method}`)
        ] = body
    const paths = [...new Set(routes)]
      .filter((p) => !p.includes(':call'))
      .concat(Object.keys(bodies).filter((p) => p.includes(`${model}:`)))
    for (const path of paths) {
      const res = await gateway(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
        body: JSON.stringify(bodies[path] ?? { model }),
      })
      expect(res.status, path).toBe(429)
    }
  })
})
