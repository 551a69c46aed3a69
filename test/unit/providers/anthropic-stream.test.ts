import { describe, expect, it } from 'vitest'
import { anthropic } from '../../../src/upstream/providers/anthropic'
import { pipeStream, type StreamOutcome } from '../../../src/upstream/stream'
import endsEarly from '../../fixtures/anthropic/ends-early.sse?raw'
import midStreamError from '../../fixtures/anthropic/mid-stream-error.sse?raw'
import toolUse from '../../fixtures/anthropic/tool-use-cache-read.sse?raw'

// Recorded Anthropic streams (test/fixtures/anthropic) through the real pipe, cut into network chunks
// at awkward places (inside multi-byte characters, between `event:` and `data:`).
const FIXTURES: Record<string, string> = {
  'tool-use-cache-read.sse': toolUse,
  'mid-stream-error.sse': midStreamError,
  'ends-early.sse': endsEarly,
}
const fixture = (name: string) => new TextEncoder().encode(FIXTURES[name])

function upstream(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + size))
      at += size
    },
  })
}

async function run(name: string, includeUsage: boolean, size = 7) {
  let outcome: StreamOutcome | undefined
  const body = { stream: true, stream_options: { include_usage: includeUsage } }
  const exchange = { route: 'chat' as const, body, stream: true, model: 'sonnet' }
  const out = pipeStream(upstream(fixture(name), size), anthropic.streamDecoder(exchange), {
    clientWantsUsage: includeUsage,
    idleTimeoutMs: 1000,
    onEnd: (o) => (outcome = o),
  })
  const events = (await new Response(out).text()).trim().split('\n\n')
  return {
    events: events.map((e) => (e === 'data: [DONE]' ? '[DONE]' : JSON.parse(e.slice(6)))),
    outcome: outcome!,
  }
}

describe('Anthropic stream decoder', () => {
  it('turns a tool-use stream into OpenAI chunks with tool index 0, the finish reason and usage', async () => {
    const { events, outcome } = await run('tool-use-cache-read.sse', true)
    const deltas = events.slice(0, -3).map((e) => e.choices[0].delta)
    expect(deltas).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Checking.' },
      {
        tool_calls: [
          { index: 0, id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '' } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"city": "Oslo"}' } }] },
    ])
    expect(events.at(-3).choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' })
    expect(events.at(-2)).toMatchObject({
      id: 'chatcmpl-msg_1',
      model: 'sonnet',
      choices: [],
      usage: {
        prompt_tokens: 920,
        completion_tokens: 42,
        total_tokens: 962,
        prompt_tokens_details: { cached_tokens: 900 },
      },
    })
    expect(events.at(-1)).toBe('[DONE]')
    expect(outcome).toMatchObject({ end: 'done', usage: { inputUncached: 20, cacheRead: 900, output: 42 } })
  })

  it('hides the usage chunk from a client that did not ask', async () => {
    const { events } = await run('tool-use-cache-read.sse', false, 64)
    expect(events.some((e) => e !== '[DONE]' && 'usage' in e)).toBe(false)
  })

  it('keeps text split inside multi-byte characters intact and ends on an error event without [DONE]', async () => {
    for (const size of [1, 3, 5]) {
      const { events, outcome } = await run('mid-stream-error.sse', false, size)
      const text = events
        .slice(0, -1)
        .map((e) => e.choices[0].delta.content)
        .join('')
      expect(text).toBe('Héllo 👋🏽 世界')
      expect(events.at(-1)).toMatchObject({ error: { code: 'upstream_error' } })
      expect(outcome).toMatchObject({ end: 'upstream_error', usage: { inputUncached: 20, cacheRead: 900 } })
    }
  })

  it('treats a body that ends before message_stop as broken', async () => {
    const { events, outcome } = await run('ends-early.sse', false)
    expect(events.at(-1)).toMatchObject({ error: { code: 'upstream_error' } })
    expect(outcome.end).toBe('upstream_error')
  })
})
