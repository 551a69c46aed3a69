import { describe, expect, it } from 'vitest'
import { gemini } from '../../../src/upstream/providers/gemini'
import { pipeStream, type StreamOutcome } from '../../../src/upstream/stream'
import toolCall from '../../fixtures/gemini/tool-call-trailing-stop.sse?raw'

// A recorded Gemini stream (\r\n\r\n framing, no terminator, a tool call whose finish reason comes in a
// later event) through the real pipe, in small network chunks.
function upstream(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.slice(at, at + size))
      at += size
    },
  })
}

describe('Gemini stream decoder', () => {
  it('emits text, the tool call with its signature, tool_calls at the end of the body, and the last usage', async () => {
    let outcome: StreamOutcome | undefined
    const body = { stream: true, stream_options: { include_usage: true } }
    const decoder = gemini.streamDecoder({ route: 'chat', body, stream: true, model: 'flash' })
    const out = pipeStream(upstream(toolCall, 9), decoder, {
      clientWantsUsage: true,
      idleTimeoutMs: 1000,
      onEnd: (o) => (outcome = o),
    })
    const events = (await new Response(out).text()).trim().split('\n\n')
    expect(events.at(-1)).toBe('data: [DONE]')
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)))
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? null).filter((t) => t)).toEqual([
      'Let me ',
      'check.',
    ])
    const call = chunks.find((c) => c.choices[0]?.delta.tool_calls)!.choices[0].delta.tool_calls[0]
    expect(call).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
      extra_content: { google: { thought_signature: 'CiQB' } },
    })
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls')
    expect(chunks.at(-1)).toMatchObject({
      id: 'chatcmpl-r1',
      choices: [],
      usage: { prompt_tokens: 107, completion_tokens: 179, total_tokens: 286 },
    })
    expect(outcome).toMatchObject({ end: 'done', usage: { inputUncached: 107, output: 179, reasoning: 148 } })
  })
})
