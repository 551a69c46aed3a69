import { describe, expect, it } from 'vitest'
import { conversationId, type ConversationInput } from '../../src/protocols/conversation'

const SYSTEM = 'You are a coding agent. '.repeat(50)

function input(
  over: Partial<ConversationInput> & { headers?: Record<string, string> } = {},
): ConversationInput {
  const headers = over.headers ?? {}
  return {
    protocol: 'openai',
    keyId: 'key-1',
    model: 'm',
    body: {},
    header: (name) => headers[name],
    ...over,
  }
}

const chat = (...turns: { role: string; content: string }[]) => ({ messages: turns })

describe('conversationId', () => {
  it('takes, first present: the Claude Code session header, metadata.user_id, prompt_cache_key, the session-id header, the prompt', async () => {
    const headers = { 'x-claude-code-session-id': 's1', 'session-id': 'c1' }
    const anthropicBody = { metadata: { user_id: 'u1' }, messages: [{ role: 'user', content: 'hi' }] }
    expect(
      (await conversationId(input({ protocol: 'anthropic', body: anthropicBody, headers }))).source,
    ).toBe('claude_code_session')
    expect((await conversationId(input({ protocol: 'anthropic', body: anthropicBody }))).source).toBe(
      'metadata_user_id',
    )
    const codex = { prompt_cache_key: 'c1', input: [{ role: 'user', content: 'hi' }] }
    expect((await conversationId(input({ protocol: 'responses', body: codex, headers }))).source).toBe(
      'claude_code_session',
    )
    expect(
      (await conversationId(input({ protocol: 'responses', body: codex, headers: { 'session-id': 'c1' } })))
        .source,
    ).toBe('prompt_cache_key')
    expect((await conversationId(input({ headers: { session_id: 'c1' } }))).source).toBe('session_header')
    expect((await conversationId(input({ body: chat({ role: 'user', content: 'hi' }) }))).source).toBe(
      'prompt',
    )
    // prompt_cache_key is OpenAI's field: an Anthropic body carrying one is identified otherwise.
    expect(
      (await conversationId(input({ protocol: 'anthropic', body: { prompt_cache_key: 'x', messages: [] } })))
        .source,
    ).toBe('prompt')
  })

  it('gives every turn of a conversation without any session id the same identity, and two conversations of one run (other system prompts) different ones', async () => {
    const turn1 = chat({ role: 'system', content: SYSTEM }, { role: 'user', content: 'fix the bug' })
    const turn3 = chat(
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'fix the bug' },
      { role: 'assistant', content: 'done' },
      { role: 'user', content: 'now the tests' },
      { role: 'assistant', content: 'ok' },
      { role: 'system', content: 'Today is Sunday.' },
      { role: 'user', content: 'thanks' },
    )
    const other = chat(
      { role: 'system', content: 'You summarise.' },
      { role: 'user', content: 'fix the bug' },
    )
    const a = await conversationId(input({ body: turn1 }))
    expect((await conversationId(input({ body: turn3 }))).id).toBe(a.id)
    expect((await conversationId(input({ body: other }))).id).not.toBe(a.id)
    expect(a.id).toMatch(/^[0-9a-f]{32}$/)
  })

  it('reads the start of Responses input (string or items, developer instructions) and of Anthropic and Gemini requests', async () => {
    const items = (n: number) =>
      [
        { role: 'developer', content: [{ type: 'input_text', text: SYSTEM }] },
        { role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
        { type: 'function_call', name: 'f', arguments: '{}', call_id: 'c' },
        { role: 'user', content: [{ type: 'input_text', text: 'more' }] },
      ].slice(0, n)
    const r = (n: number) =>
      conversationId(input({ protocol: 'responses', body: { instructions: 'I', input: items(n) } }))
    expect((await r(2)).id).toBe((await r(4)).id)
    const s = (text: string) => conversationId(input({ protocol: 'responses', body: { input: text } }))
    expect((await s('a')).id).not.toBe((await s('b')).id)

    const msgs = (n: number) =>
      [
        { role: 'user', content: [{ type: 'text', text: 'start' }] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'next' },
      ].slice(0, n)
    const an = (n: number, system: unknown) =>
      conversationId(input({ protocol: 'anthropic', body: { system, messages: msgs(n) } }))
    expect((await an(1, SYSTEM)).id).toBe((await an(3, SYSTEM)).id)
    expect((await an(1, SYSTEM)).id).not.toBe((await an(1, 'other')).id)

    const gem = (n: number) =>
      conversationId(
        input({
          protocol: 'gemini',
          body: {
            systemInstruction: { parts: [{ text: SYSTEM }] },
            contents: [
              { role: 'user', parts: [{ text: 'hi' }] },
              { role: 'model', parts: [{ text: 'yo' }] },
            ].slice(0, n),
          },
        }),
      )
    expect((await gem(1)).id).toBe((await gem(2)).id)
  })

  it('keeps the same session apart across virtual keys and models', async () => {
    const headers = { 'x-claude-code-session-id': 'same' }
    const base = await conversationId(input({ headers }))
    expect((await conversationId(input({ headers, keyId: 'key-2' }))).id).not.toBe(base.id)
    expect((await conversationId(input({ headers, model: 'haiku' }))).id).not.toBe(base.id)
    expect((await conversationId(input({ headers }))).id).toBe(base.id)
  })
})
