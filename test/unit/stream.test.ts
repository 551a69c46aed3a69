import { describe, expect, it } from 'vitest'
import { anthropic } from '../../src/upstream/providers/anthropic'
import { openai } from '../../src/upstream/providers/openai'
import { pipeStream, type StreamOutcome } from '../../src/upstream/stream'

function upstream(parts: string[], fail = false): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  return new ReadableStream({
    pull(controller) {
      const next = parts.shift()
      if (next !== undefined) controller.enqueue(enc.encode(next))
      else if (fail) controller.error(new Error('socket closed'))
      else controller.close()
    },
  })
}

async function run(parts: string[], opts: { clientWantsUsage?: boolean; fail?: boolean } = {}) {
  let outcome: StreamOutcome | undefined
  const exchange = { route: 'chat' as const, body: {}, stream: true, model: 'm' }
  const out = pipeStream(upstream(parts, opts.fail), openai.streamDecoder(exchange), {
    clientWantsUsage: opts.clientWantsUsage ?? false,
    idleTimeoutMs: 1000,
    onEnd: (o) => (outcome = o),
  })
  const text = await new Response(out).text()
  return { text, outcome: outcome! }
}

const chunk = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ delta: { content } }], usage: null })}\n\n`
const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n`

describe('pipeStream with the OpenAI decoder', () => {
  it('relays events split across network chunks and taps usage', async () => {
    const whole = chunk('Hel') + chunk('lo') + usage + 'data: [DONE]\n\n'
    const { text, outcome } = await run([whole.slice(0, 7), whole.slice(7, 50), whole.slice(50)], {
      clientWantsUsage: true,
    })
    expect(text).toBe(whole)
    expect(outcome).toMatchObject({
      end: 'done',
      usage: { inputUncached: 3, output: 2 },
      contentChars: 5,
    })
  })

  it('hides the usage-only chunk from a client that did not ask for it', async () => {
    const { text, outcome } = await run([chunk('a'), usage, 'data: [DONE]\n\n'])
    expect(text).toBe(chunk('a') + 'data: [DONE]\n\n')
    expect(outcome.usage).toMatchObject({ inputUncached: 3, cacheRead: 0, output: 2 })
  })

  it('turns a broken upstream into one error event and a clean close', async () => {
    const { text, outcome } = await run([chunk('a')], { fail: true })
    const events = text.trim().split('\n\n')
    expect(events).toHaveLength(2)
    expect(JSON.parse(events[1]!.slice(6))).toMatchObject({ error: { code: 'upstream_error' } })
    expect(outcome.end).toBe('upstream_error')
  })

  it('treats a body that ends before [DONE] as a broken stream', async () => {
    const { text, outcome } = await run([chunk('a'), chunk('b')])
    expect(text.trim().split('\n\n').at(-1)).toContain('"code":"upstream_error"')
    expect(outcome).toMatchObject({ end: 'upstream_error', contentChars: 2 })
  })

  it('ends at [DONE] even if the upstream keeps the connection open', async () => {
    const { outcome } = await run([chunk('a') + 'data: [DONE]\n\n', 'data: {"late":true}\n\n'])
    expect(outcome.end).toBe('done')
  })

  it('ends the stream cleanly, and still reports its end, when an event cannot be decoded', async () => {
    // Anthropic's decoder meets an event whose data is not an object.
    const exchange = { route: 'chat' as const, body: {}, stream: true, model: 'm' }
    let outcome: StreamOutcome | undefined
    const start = `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 3, output_tokens: 1 } } })}\n\n`
    const out = pipeStream(
      upstream([start, 'event: content_block_delta\ndata: null\n\n']),
      anthropic.streamDecoder(exchange),
      {
        clientWantsUsage: false,
        idleTimeoutMs: 1000,
        onEnd: (o) => (outcome = o),
      },
    )
    const text = await new Response(out).text()
    expect(text.trim().split('\n\n').at(-1)).toContain('"code":"upstream_error"')
    expect(outcome?.end).toBe('upstream_error')
  })
})
