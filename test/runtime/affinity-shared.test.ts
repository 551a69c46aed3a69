import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type RuntimeStack } from './workerd-stack'

// Two workerd processes (two isolates that share nothing but the stores): a conversation whose turns
// alternate between them stays with the provider and the pooled key that served its first turn.
let rt: RuntimeStack
beforeAll(async () => {
  // SECRETS_KEY seals the providers' pooled keys.
  const secretsKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')
  rt = await startRuntime({ ALLOW_PRIVATE_UPSTREAMS: 'true', SECRETS_KEY: secretsKey }, { instances: 2 })
})
afterAll(async () => {
  await rt?.close()
})

const uid = () => crypto.randomUUID().slice(0, 8)

type Seen = { scenario: string; headers: Record<string, string> }
type Row = { affinity: string | null; created_at: string }

// The key's usage rows once there are `n` (they are written after each response).
async function rowsOf(keyId: string, n: number): Promise<Row[]> {
  let rows: Row[] = []
  for (const deadline = Date.now() + 10_000; rows.length < n && Date.now() < deadline;) {
    rows = (await rt.admin('GET', `/usage/logs?api_key_id=${keyId}&limit=20`)).body.data
    if (rows.length < n) await new Promise((r) => setTimeout(r, 50))
  }
  return rows
}

// Long enough for a provider to cache (shorter prompts are routed without a pin).
const SYSTEM = 'You are a coding agent; keep to the repository conventions. '.repeat(100)

describe('conversation affinity across isolates', () => {
  it('pins one conversation to one provider and one of its pooled keys, whichever process serves the turn', async () => {
    const scenarios = [`aff-a~${uid()}`, `aff-b~${uid()}`]
    const model = `m-${uid()}`
    for (const scenario of scenarios) {
      const provider = await rt.admin('POST', '/providers', {
        name: `rt-aff-${uid()}`,
        type: 'anthropic',
        base_url: `${rt.stack.mock.url}/s/${scenario}/v1`,
        api_keys: [1, 2, 3].map((i) => `sk-rt-${scenario}-${i}-${uid()}`),
        max_retries: 0,
      })
      expect(provider.status).toBe(201)
      await rt.admin('POST', '/model-mappings', {
        model,
        provider_id: provider.body.id,
        priority: 1,
        weight: 1,
        strategy: 'weighted',
      })
    }
    const key = await rt.admin('POST', '/api-keys', { name: `k-${uid()}`, allowed_models: [model] })
    const messages: { role: string; content: string }[] = []
    const session = crypto.randomUUID()
    for (let turn = 0; turn < 8; turn++) {
      messages.push({ role: 'user', content: `turn ${turn}` })
      const res = await fetch(`${rt.urls[turn % 2]}/v1/messages`, {
        method: 'POST',
        headers: {
          'x-api-key': key.body.raw_key,
          'anthropic-version': '2023-06-01',
          'content-type': 'application/json',
          'x-claude-code-session-id': session,
        },
        body: JSON.stringify({ model, max_tokens: 64, system: SYSTEM, messages }),
      })
      const reply = (await res.json()) as { content: { text: string }[] }
      expect(res.status).toBe(200)
      messages.push({ role: 'assistant', content: reply.content[0]!.text })
      // The pin is written after the response, beside the usage row; an agent's next turn comes after its
      // tools ran, a test waits for the row (and a moment for the Redis step that runs beside it).
      await rowsOf(key.body.id, turn + 1)
      await new Promise((r) => setTimeout(r, 100))
    }
    const all = (await (await fetch(`${rt.stack.mock.url}/__requests`)).json()) as Seen[]
    const seen = all.filter((r) => scenarios.includes(r.scenario))
    expect(seen).toHaveLength(8)
    expect(new Set(seen.map((r) => `${r.scenario} ${r.headers['x-api-key']}`)).size).toBe(1)
    // Every turn after the first found the pin the other process wrote (a draw alone would say `new`).
    const rows = await rowsOf(key.body.id, 8)
    const results = rows.sort((x, y) => x.created_at.localeCompare(y.created_at)).map((r) => r.affinity)
    expect(results).toEqual(['new', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit', 'hit'])
  })
})
