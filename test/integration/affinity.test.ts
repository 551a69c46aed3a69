import { describe, expect, it } from 'vitest'
import { admin } from '../helpers/admin'
import { SDKS } from '../helpers/anthropic'
import { eventually, gateway, mockUrl, sdk, uid } from '../helpers/gateway'
import { countRows, createKey, usageRows } from '../helpers/fixtures'
import { parsePrometheus } from '../helpers/prometheus'

// A conversation sticks to the provider and the pooled key that served its previous turn, whatever the
// routing strategy, so every turn meets the prompt cache its earlier turns wrote (docs/affinity.md). The
// mock upstream caches prompts per provider and key as the real APIs do.

type Seen = { scenario: string; headers: Record<string, string>; body: any }

const SYSTEM = 'You are a coding agent in a large TypeScript repository; follow its conventions. '.repeat(60)

// Two providers of one type with three stored keys each, one model routed to both by weight.
async function pooledModel(type: 'openai' | 'anthropic') {
  const model = `m-${uid()}`
  const providers: { id: string; scenario: string; keys: { id: string }[] }[] = []
  for (const side of ['a', 'b']) {
    const scenario = `aff-${side}~${uid()}`
    const reply = await admin('POST', '/providers', {
      name: `aff-${side}-${uid()}`,
      type,
      base_url: `${mockUrl()}/s/${scenario}/v1`,
      api_keys: [1, 2, 3].map((i) => `sk-aff-${side}${i}-${uid()}${uid()}`),
      max_retries: 0,
    })
    expect(reply.status).toBe(201)
    const mapping = await admin('POST', '/model-mappings', {
      model,
      provider_id: reply.body.id,
      upstream_model: type === 'anthropic' ? 'claude-sonnet-4-6' : 'gpt-5',
      weight: 1,
      strategy: 'weighted',
    })
    expect(mapping.status).toBe(201)
    providers.push({ id: reply.body.id, scenario, keys: reply.body.stored_keys })
  }
  const key = await createKey({ models: [model] })
  return { model, key, providers }
}

async function seenAt(scenarios: string[]): Promise<Seen[]> {
  const all: Seen[] = (await (await fetch(`${mockUrl()}/__requests`)).json()) as Seen[]
  return all.filter((r) => scenarios.includes(r.scenario))
}

const servedBy = (r: Seen) => `${r.scenario} ${r.headers['x-api-key'] ?? r.headers.authorization}`

// A turn's pin is written after its response, beside its usage row: the next turn of an agent comes after
// it has run its tools; a test waits for the row instead.
async function settled(keyId: string, n: number) {
  await eventually(async () => expect(await countRows(keyId)).toBe(n))
  // The pin's Redis step runs beside the row's insert: a moment for it too.
  await new Promise((r) => setTimeout(r, 50))
}

async function affinities(keyId: string, n: number) {
  return eventually(async () => {
    const rows = await usageRows(keyId)
    expect(rows).toHaveLength(n)
    return rows
  })
}

describe('conversation affinity', () => {
  for (const { name, client } of SDKS) {
    it(`pins a Claude Code session to one provider and pooled key through the Anthropic ${name}, so its turns read the cache`, async () => {
      const { model, key, providers } = await pooledModel('anthropic')
      const anthropic = client(key.raw)
      const session = crypto.randomUUID()
      const messages: { role: 'user' | 'assistant'; content: any }[] = []
      for (let turn = 0; turn < 6; turn++) {
        messages.push({
          role: 'user',
          content: [{ type: 'text', text: `turn ${turn}: ${'tool output '.repeat(40)}` }],
        })
        const sent = messages.map((m, i) =>
          i === messages.length - 1
            ? { ...m, content: m.content.map((b: any) => ({ ...b, cache_control: { type: 'ephemeral' } })) }
            : m,
        )
        const reply = await anthropic.messages.create(
          {
            model,
            max_tokens: 1024,
            system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
            messages: sent,
          },
          { headers: { 'x-claude-code-session-id': session } },
        )
        if (turn > 0) expect(reply.usage.cache_read_input_tokens).toBeGreaterThan(0)
        messages.push({ role: 'assistant', content: reply.content })
        await settled(key.id, turn + 1)
      }
      const seen = await seenAt(providers.map((p) => p.scenario))
      expect(seen).toHaveLength(6)
      expect(new Set(seen.map(servedBy)).size).toBe(1)
      const rows = await affinities(key.id, 6)
      expect(rows.map((r) => r.affinity)).toEqual(['new', 'hit', 'hit', 'hit', 'hit', 'hit'])
      expect(rows.slice(1).every((r) => r.cacheReadTokens > r.promptTokens * 0.8)).toBe(true)
    })
  }

  it('pins an OpenAI Chat Completions conversation without any session id by its start, and keeps two conversations of one run apart', async () => {
    const { model, key, providers } = await pooledModel('openai')
    const openai = sdk(key.raw)
    let done = 0
    const run = async (system: string, turns: number) => {
      const messages: any[] = [{ role: 'system', content: system }]
      const cached: number[] = []
      for (let turn = 0; turn < turns; turn++) {
        messages.push({ role: 'user', content: `turn ${turn}` })
        const reply = await openai.chat.completions.create({ model, messages })
        cached.push(reply.usage!.prompt_tokens_details!.cached_tokens!)
        messages.push({ role: 'assistant', content: reply.choices[0]!.message.content })
        await settled(key.id, ++done)
      }
      return cached
    }
    const first = await run(SYSTEM, 5)
    expect(first[0]).toBe(0)
    expect(first.slice(1).every((n) => n >= 1024)).toBe(true)
    const seen = await seenAt(providers.map((p) => p.scenario))
    expect(new Set(seen.map(servedBy)).size).toBe(1)
    // Another conversation (another system prompt) has a pin of its own: its first turn is new.
    await run(`${SYSTEM} You summarise.`, 2)
    const rows = await affinities(key.id, 7)
    expect(rows.map((r) => r.affinity)).toEqual(['new', 'hit', 'hit', 'hit', 'hit', 'new', 'hit'])
    // Nothing is added to an OpenAI client's own request.
    expect(seen.every((r) => r.body.prompt_cache_key === undefined)).toBe(true)
  })

  it('pins a Responses conversation by its prompt_cache_key', async () => {
    const { model, key, providers } = await pooledModel('openai')
    const openai = sdk(key.raw)
    const input: any[] = [{ role: 'developer', content: [{ type: 'input_text', text: SYSTEM }] }]
    for (let turn = 0; turn < 4; turn++) {
      input.push({ role: 'user', content: [{ type: 'input_text', text: `turn ${turn}` }] })
      const reply = await openai.responses.create({
        model,
        input,
        store: false,
        prompt_cache_key: `codex-${key.id}`,
      })
      if (turn > 0) expect(reply.usage!.input_tokens_details.cached_tokens).toBeGreaterThanOrEqual(1024)
      input.push({ role: 'assistant', content: [{ type: 'output_text', text: reply.output_text }] })
      await settled(key.id, turn + 1)
    }
    const seen = await seenAt(providers.map((p) => p.scenario))
    expect(new Set(seen.map(servedBy)).size).toBe(1)
    expect((await affinities(key.id, 4)).map((r) => r.affinity)).toEqual(['new', 'hit', 'hit', 'hit'])
  })

  it('moves a conversation once its pin cannot hold (key set aside, provider disabled), and the new target holds', async () => {
    const { model, key, providers } = await pooledModel('openai')
    const openai = sdk(key.raw)
    const messages: any[] = [{ role: 'system', content: SYSTEM }]
    let done = 0
    const turn = async () => {
      messages.push({ role: 'user', content: `turn ${messages.length}` })
      const reply = await openai.chat.completions.create({ model, messages })
      messages.push({ role: 'assistant', content: reply.choices[0]!.message.content })
      await settled(key.id, ++done)
      const seen = await seenAt(providers.map((p) => p.scenario))
      return seen.at(-1)!
    }
    const pinned = await turn()
    expect(servedBy(await turn())).toBe(servedBy(pinned))
    // The pinned key is disabled by an operator: the next turn moves, to another key or provider.
    const provider = providers.find((p) => p.scenario === pinned.scenario)!
    const list = (await admin('GET', '/providers')).body.data as {
      id: string
      stored_keys: { id: string; hint: string }[]
    }[]
    const keys = list.find((p) => p.id === provider.id)!.stored_keys
    const pinnedKey = keys.find((k) => pinned.headers.authorization!.endsWith(k.hint))
    expect(pinnedKey).toBeDefined()
    expect(
      (await admin('PATCH', `/providers/${provider.id}/keys/${pinnedKey!.id}`, { state: 'disabled' })).status,
    ).toBe(200)
    const moved = await turn()
    expect(servedBy(moved)).not.toBe(servedBy(pinned))
    expect(servedBy(await turn())).toBe(servedBy(moved))
    // Its provider is disabled: the conversation moves to the other one and stays there.
    const current = providers.find((p) => p.scenario === moved.scenario)!
    expect((await admin('PATCH', `/providers/${current.id}`, { enabled: false })).status).toBe(200)
    const elsewhere = await turn()
    expect(elsewhere.scenario).not.toBe(current.scenario)
    expect(servedBy(await turn())).toBe(servedBy(elsewhere))
    expect((await affinities(key.id, 6)).map((r) => r.affinity)).toEqual([
      'new',
      'hit',
      'moved',
      'hit',
      'moved',
      'hit',
    ])

    const families = await eventually(async () => {
      const families = parsePrometheus(await (await gateway('/metrics')).text())
      expect(families.get('nexusai_affinity_total')?.samples.length).toBeGreaterThan(0)
      return families
    })
    const results = new Set(families.get('nexusai_affinity_total')!.samples.map((s) => s.labels.result))
    expect([...results].sort()).toEqual(['hit', 'moved', 'new'])
  })
})
