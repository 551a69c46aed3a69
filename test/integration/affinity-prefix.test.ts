import { describe, expect, it } from 'vitest'
import { anthropic } from '../helpers/anthropic'
import { createKey, createModel, createProvider } from '../helpers/fixtures'
import { gateway, mockUrl, sdk } from '../helpers/gateway'

// What makes a provider's prompt cache work across turns: the gateway keeps the client's cache
// breakpoints, tells OpenAI-protocol targets which conversation a translated request belongs to, and never
// changes a prompt's beginning between turns (docs/affinity.md).

type Seen = { body: any; raw: string; headers: Record<string, string> }

async function seenBy(scenario: string): Promise<Seen[]> {
  const res = await fetch(`${mockUrl()}/__requests?scenario=${encodeURIComponent(scenario)}`)
  return res.json()
}

// The bytes turn N sent upstream, up to the end of its last message (or input item), start turn N+1's.
function expectPrefixOf(prev: Seen, next: Seen) {
  const turns = prev.body.messages ?? prev.body.input
  const last = JSON.stringify(turns.at(-1))
  const end = prev.raw.lastIndexOf(last)
  expect(end).toBeGreaterThan(0)
  expect(next.raw.startsWith(prev.raw.slice(0, end + last.length))).toBe(true)
}

const SYSTEM = 'You are a careful coding agent working in a large repository. '.repeat(80)

async function route(type: 'openai' | 'anthropic') {
  const provider = await createProvider({ type })
  const model = await createModel([provider.id])
  const key = await createKey({ models: [model] })
  return { provider, model, key }
}

describe('prompt caches across turns', () => {
  it('a Claude Code conversation translated to an OpenAI target carries its identity as prompt_cache_key, the same every turn, and an append-only prompt', async () => {
    const { provider, model, key } = await route('openai')
    const client = anthropic(key.raw)
    const session = (id: string) => ({ headers: { 'x-claude-code-session-id': id } })
    const messages: { role: 'user' | 'assistant'; content: string }[] = []
    for (let turn = 0; turn < 3; turn++) {
      messages.push({ role: 'user', content: `step ${turn}` })
      const reply = await client.messages.create(
        {
          model,
          max_tokens: 256,
          system: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }],
          messages,
        },
        session('session-a'),
      )
      messages.push({
        role: 'assistant',
        content: reply.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
      })
    }
    await client.messages.create(
      { model, max_tokens: 256, system: SYSTEM, messages: [{ role: 'user', content: 'step 0' }] },
      session('session-b'),
    )
    const seen = await seenBy(provider.scenario)
    expect(seen).toHaveLength(4)
    const keys = seen.map((s) => s.body.prompt_cache_key)
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/)
    expect(new Set(keys.slice(0, 3)).size).toBe(1)
    expect(keys[3]).not.toBe(keys[0])
    expectPrefixOf(seen[0]!, seen[1]!)
    expectPrefixOf(seen[1]!, seen[2]!)
  })

  it('a Gemini CLI request translated to an OpenAI target carries its identity as prompt_cache_key, the same every turn', async () => {
    const { provider, model, key } = await route('openai')
    const contents: any[] = []
    for (let turn = 0; turn < 2; turn++) {
      contents.push({ role: 'user', parts: [{ text: `step ${turn}` }] })
      const res = await gateway(`/v1beta/models/${model}:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': key.raw, 'content-type': 'application/json' },
        body: JSON.stringify({ systemInstruction: { parts: [{ text: SYSTEM }] }, contents }),
      })
      expect(res.status).toBe(200)
      contents.push({ role: 'model', parts: [{ text: 'ok' }] })
    }
    const seen = await seenBy(provider.scenario)
    expect(seen[0]!.body.prompt_cache_key).toMatch(/^[0-9a-f]{32}$/)
    expect(seen[1]!.body.prompt_cache_key).toBe(seen[0]!.body.prompt_cache_key)
    expectPrefixOf(seen[0]!, seen[1]!)
  })

  it('an OpenAI client on an Anthropic target keeps its cache_control breakpoints, and its prompt only grows', async () => {
    const { provider, model, key } = await route('anthropic')
    const client = sdk(key.raw)
    const messages: any[] = [
      { role: 'system', content: [{ type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } }] },
    ]
    for (let turn = 0; turn < 3; turn++) {
      messages.push({ role: 'user', content: [{ type: 'text', text: `step ${turn}` }] })
      const reply = await client.chat.completions.create({ model, messages, max_tokens: 64 })
      messages.push({ role: 'assistant', content: reply.choices[0]!.message.content })
    }
    const seen = await seenBy(provider.scenario)
    expect(seen[0]!.body.system).toEqual([
      { type: 'text', text: SYSTEM, cache_control: { type: 'ephemeral' } },
    ])
    expect(seen[0]!.body.prompt_cache_key).toBeUndefined()
    expectPrefixOf(seen[0]!, seen[1]!)
    expectPrefixOf(seen[1]!, seen[2]!)
  })

  it('an Anthropic client on an Anthropic target: its body arrives as sent, breakpoints and all', async () => {
    const { provider, model, key } = await route('anthropic')
    const client = anthropic(key.raw)
    const body = {
      model,
      max_tokens: 256,
      system: [
        {
          type: 'text' as const,
          text: SYSTEM,
          cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
        },
      ],
      messages: [
        {
          role: 'user' as const,
          content: [{ type: 'text' as const, text: 'hi', cache_control: { type: 'ephemeral' as const } }],
        },
      ],
    }
    await client.messages.create(body)
    const [seen] = await seenBy(provider.scenario)
    expect(seen!.body).toEqual({ ...body, model: `up-${model}` })
  })

  it('a Responses client with its own prompt_cache_key: it reaches the target unchanged, and the input only grows', async () => {
    const { provider, model, key } = await route('openai')
    const client = sdk(key.raw)
    const input: any[] = [{ role: 'developer', content: [{ type: 'input_text', text: SYSTEM }] }]
    const cached: number[] = []
    for (let turn = 0; turn < 2; turn++) {
      input.push({ role: 'user', content: [{ type: 'input_text', text: `step ${turn}` }] })
      const reply = await client.responses.create({
        model,
        input,
        store: false,
        prompt_cache_key: 'codex-thread-1',
      })
      cached.push(reply.usage!.input_tokens_details.cached_tokens)
      input.push({ role: 'assistant', content: [{ type: 'output_text', text: reply.output_text }] })
    }
    const seen = await seenBy(provider.scenario)
    expect(seen.map((s) => s.body.prompt_cache_key)).toEqual(['codex-thread-1', 'codex-thread-1'])
    expectPrefixOf(seen[0]!, seen[1]!)
    // The target caches per key: the second turn reads the first turn's prompt from it.
    expect(cached[0]).toBe(0)
    expect(cached[1]).toBeGreaterThanOrEqual(1024)
  })
})
