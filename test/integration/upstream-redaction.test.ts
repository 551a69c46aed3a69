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

type Type = 'openai' | 'anthropic' | 'gemini'

async function hostile(type: Type, part: string) {
  const scenario = `${part}~${uid()}`
  const key = weirdKey()
  const reply = await admin('POST', '/providers', {
    name: `hostile-${uid()}`,
    type,
    base_url: `${mockUrl()}/s/${scenario}/${type === 'gemini' ? 'v1beta' : 'v1'}`,
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
  type: Type,
  part: string,
  path: string | ((m: string) => string),
  body: (m: string) => object,
): Case {
  return {
    name,
    async run() {
      const { scenario, key, model, raw } = await hostile(type, part)
      const res = await gateway(
        typeof path === 'string' ? path : path(model),
        keyedPost(raw, body(model), { 'anthropic-version': '2023-06-01' }),
      )
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
const gemini = () => ({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })
const google = (method: string) => (model: string) => `/v1beta/models/${model}:${method}`
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
  'POST /v1beta/models/:call{[^/]+:[A-Za-z]+}': [
    post('a relayed 400 (passthrough)', 'gemini', 'echokey400', google('generateContent'), gemini),
    post('a provider 401 (passthrough)', 'gemini', 'echokey401', google('generateContent'), gemini),
    post(
      'an error mid-stream (passthrough)',
      'gemini',
      'echokeystream',
      google('streamGenerateContent'),
      gemini,
    ),
    post('a relayed 400 (translated)', 'openai', 'echokey400', google('generateContent'), gemini),
    post('a relayed 400 (countTokens)', 'gemini', 'echokey400', google('countTokens'), gemini),
    post('a provider 401 (countTokens)', 'gemini', 'echokey401', google('countTokens'), gemini),
    post('a relayed 400 (embedContent)', 'gemini', 'echokey400', google('embedContent'), (model) => ({
      model: `models/${model}`,
      content: { parts: [{ text: 'hi' }] },
    })),
  ],
  'POST /v1/models/:call{[^/]+:[A-Za-z]+}': [
    post('a provider 401', 'gemini', 'echokey401', (m) => `/v1/models/${m}:generateContent`, gemini),
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

// Routes under /v1 and /v1beta that answer from the gateway's own state (model lists, self-service).
const NO_UPSTREAM = [
  '/v1/models',
  '/v1/models/:model{.+}',
  '/v1beta/models',
  '/v1beta/models/:model',
  '/v1/redeem',
  '/v1/me',
  '/v1/dashboard/billing/subscription',
  '/v1/dashboard/billing/usage',
  '/v1/generation',
  '/v1/generations/:id',
]

describe('every route that reaches an upstream removes the provider key it sent', () => {
  it('the cases cover every such route in the app', () => {
    const routes = createApp()
      .routes.filter((r) => /^\/v1(beta)?\//.test(r.path) && !NO_UPSTREAM.includes(r.path))
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
