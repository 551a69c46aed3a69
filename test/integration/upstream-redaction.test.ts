import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { admin } from '../helpers/admin'
import { createKey, createModel } from '../helpers/fixtures'
import { gateway, keyedPost, mockRequests, mockUrl, uid } from '../helpers/gateway'

// Issue 19 item 1: a hostile upstream quotes the provider key it received back to us. Stored keys are
// shaped unlike any real key, so only "remove the key that was sent" can save them (not its shape).
// Every route that reaches an upstream is enumerated from the app's route table: a new one fails here
// until it has its cases.

type Case = { name: string; run(): Promise<{ res: Response; text: string; key: string; scenario: string }> }

const weirdKey = () => `zz-weird-KEY-${uid()}`

async function hostile(type: 'openai' | 'anthropic', part: string) {
  const scenario = `${part}~${uid()}`
  const key = weirdKey()
  const reply = await admin('POST', '/providers', {
    name: `hostile-${uid()}`,
    type,
    base_url: `${mockUrl()}/s/${scenario}/v1`,
    api_keys: [key],
    max_retries: 0,
  })
  if (reply.status !== 201) throw new Error(`provider not created: ${JSON.stringify(reply.body)}`)
  const model = await createModel([reply.body.id])
  const client = await createKey({ models: [model] })
  return { scenario, key, model, raw: client.raw }
}

const hi = [{ role: 'user', content: 'hi' }]

// One request to `path` on a fresh hostile provider; `body(model)` is the request body.
function post(
  name: string,
  type: 'openai' | 'anthropic',
  part: string,
  path: string,
  body: (m: string) => object,
): Case {
  return {
    name,
    async run() {
      const { scenario, key, model, raw } = await hostile(type, part)
      const res = await gateway(path, keyedPost(raw, body(model), { 'anthropic-version': '2023-06-01' }))
      return { res, text: await res.text(), key, scenario }
    },
  }
}

// A response created at a provider whose GET or DELETE (only) is hostile, then looked up or deleted.
function stored(name: string, method: 'GET' | 'DELETE', part: string): Case {
  return {
    name,
    async run() {
      const { scenario, key, model, raw } = await hostile('openai', part)
      const created = await gateway('/v1/responses', keyedPost(raw, { model, input: 'hi' }))
      expect(created.status).toBe(200)
      const { id } = (await created.json()) as { id: string }
      const res = await gateway(`/v1/responses/${id}`, {
        method,
        headers: { authorization: `Bearer ${raw}` },
      })
      return { res, text: await res.text(), key, scenario }
    },
  }
}

const chat = (model: string, extra = {}) => ({ model, messages: hi, ...extra })
const messages = (model: string, extra = {}) => ({ model, max_tokens: 16, messages: hi, ...extra })

const CASES: Record<string, Case[]> = {
  'POST /v1/chat/completions': [
    post('a relayed 400', 'openai', 'echokey400', '/v1/chat/completions', chat),
    post('a provider 401', 'openai', 'echokey401', '/v1/chat/completions', chat),
    post('a reply quoting it', 'openai', 'echokeyreply', '/v1/chat/completions', chat),
    post('an error chunk mid-stream', 'openai', 'echokeystream', '/v1/chat/completions', (m) =>
      chat(m, { stream: true }),
    ),
  ],
  'POST /v1/embeddings': [
    post('a relayed 400', 'openai', 'echokey400', '/v1/embeddings', (model) => ({ model, input: 'hi' })),
    post('a provider 403', 'openai', 'echokey403', '/v1/embeddings', (model) => ({ model, input: 'hi' })),
  ],
  'POST /v1/messages': [
    post('a relayed 400 (passthrough)', 'anthropic', 'echokey400', '/v1/messages', messages),
    post('a provider 401 (passthrough)', 'anthropic', 'echokey401', '/v1/messages', messages),
    post('an error event mid-stream (passthrough)', 'anthropic', 'echokeystream', '/v1/messages', (m) =>
      messages(m, { stream: true }),
    ),
    post('a relayed 400 (translated)', 'openai', 'echokey400', '/v1/messages', messages),
    post('an error chunk mid-stream (translated)', 'openai', 'echokeystream', '/v1/messages', (m) =>
      messages(m, { stream: true }),
    ),
  ],
  'POST /v1/messages/count_tokens': [
    post('a relayed 400', 'anthropic', 'echokey400', '/v1/messages/count_tokens', chat),
    post('a provider 401', 'anthropic', 'echokey401', '/v1/messages/count_tokens', chat),
  ],
  'POST /v1/responses': [
    post('a relayed 400', 'openai', 'echokey400', '/v1/responses', (model) => ({ model, input: 'hi' })),
    post('a provider 401', 'openai', 'echokey401', '/v1/responses', (model) => ({ model, input: 'hi' })),
    post('an error event mid-stream', 'openai', 'echokeystream', '/v1/responses', (model) => ({
      model,
      input: 'hi',
      stream: true,
    })),
  ],
  'GET /v1/responses/:id': [
    stored('a provider 401', 'GET', 'echokey401get'),
    stored('a 404', 'GET', 'echokey404get'),
  ],
  'DELETE /v1/responses/:id': [
    stored('a provider 401', 'DELETE', 'echokey401delete'),
    stored('a relayed 400', 'DELETE', 'echokey400delete'),
  ],
}

describe('every route that reaches an upstream removes the provider key it sent', () => {
  it('the cases cover every such route in the app', () => {
    const routes = createApp()
      .routes.filter((r) => r.path.startsWith('/v1/') && !r.path.startsWith('/v1/models'))
      .filter((r) => ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'].includes(r.method))
      .map((r) => `${r.method} ${r.path}`)
    expect([...new Set(routes)].sort()).toEqual(Object.keys(CASES).sort())
  })

  for (const [route, cases] of Object.entries(CASES))
    for (const c of cases)
      it(`${route}: ${c.name}`, async () => {
        const { res, text, key, scenario } = await c.run()
        // The upstream did get the key, and quoted it back.
        const [seen] = await mockRequests(scenario)
        expect(JSON.stringify(seen?.headers)).toContain(key)
        expect(text).not.toContain(key)
        expect(text).not.toContain('weird-KEY')
        // A provider's refusal of its key is never the client's own 401/403.
        expect([401, 403]).not.toContain(res.status)
      })
})
