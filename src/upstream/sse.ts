import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { errorBody } from '../errors'

export type UsageNumbers = { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number }

export type StreamOutcome = {
  end: 'done' | 'upstream_error' | 'idle_timeout' | 'client_gone'
  usage: UsageNumbers | null
  // Characters of generated content seen, for the estimate when the upstream sends no usage.
  contentChars: number
}

const encoder = new TextEncoder()

function usageOf(chunk: unknown): UsageNumbers | null {
  const usage = (chunk as { usage?: unknown } | null)?.usage
  return usage && typeof usage === 'object' ? (usage as UsageNumbers) : null
}

function contentLength(chunk: unknown): number {
  const choices = (chunk as { choices?: { delta?: { content?: unknown } }[] } | null)?.choices
  let n = 0
  for (const c of choices ?? []) if (typeof c.delta?.content === 'string') n += c.delta.content.length
  return n
}

// Relays an upstream SSE body event by event, as each arrives. Taps `usage`, hides the usage-only chunk
// from a client that did not ask for it, turns a failure after the first byte into one OpenAI-shaped
// error event and a clean close, and cancels the upstream as soon as our client goes away.
export function relaySse(
  upstream: ReadableStream<Uint8Array>,
  opts: { clientWantsUsage: boolean; idleTimeoutMs: number; onEnd(outcome: StreamOutcome): void },
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader()
  const decoder = new TextDecoder()
  const outcome: StreamOutcome = { end: 'done', usage: null, contentChars: 0 }
  let finished = false
  let out: ReadableStreamDefaultController<Uint8Array>

  const finish = (end: StreamOutcome['end']) => {
    if (finished) return
    finished = true
    outcome.end = end
    opts.onEnd(outcome)
  }

  let sent = 0
  const emit = (text: string) => {
    if (finished) return
    out.enqueue(encoder.encode(text))
    sent++
  }

  const readWithin = async (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const idle = new Promise<'idle'>((resolve) => {
      timer = setTimeout(() => resolve('idle'), ms)
    })
    try {
      return await Promise.race([reader.read(), idle])
    } finally {
      clearTimeout(timer)
    }
  }

  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      if (event.data !== '[DONE]') {
        let chunk: unknown = null
        try {
          chunk = JSON.parse(event.data)
        } catch {
          // not JSON: relay as-is
        }
        const usage = usageOf(chunk)
        if (usage) outcome.usage = usage
        outcome.contentChars += contentLength(chunk)
        const usageOnly =
          usage &&
          Array.isArray((chunk as { choices?: unknown }).choices) &&
          !(chunk as { choices: unknown[] }).choices.length
        if (usageOnly && !opts.clientWantsUsage) return
      }
      emit(`${event.event ? `event: ${event.event}\n` : ''}data: ${event.data}\n\n`)
      // [DONE] is the logical end: close now, so a client that stops reading there is not "gone".
      if (event.data === '[DONE]' && !finished) {
        finish('done')
        out.close()
        reader.cancel().catch(() => {})
      }
    },
  })

  const failAfterFirstByte = (end: 'upstream_error' | 'idle_timeout', message: string) => {
    emit(`data: ${JSON.stringify(errorBody('upstream_error', message))}\n\n`)
    finish(end)
    out.close()
    reader.cancel().catch(() => {})
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        out = controller
      },
      // Reads until at least one event went out (or the stream ended): a network chunk may hold only
      // part of an event, and the runtime does not call pull() again after one that enqueued nothing.
      async pull() {
        const sentBefore = sent
        while (!finished && sent === sentBefore) {
          const next = await readWithin(opts.idleTimeoutMs).catch(() => 'broken' as const)
          if (finished) return
          if (next === 'idle')
            return failAfterFirstByte('idle_timeout', 'The upstream stopped sending; stream ended.')
          if (next === 'broken')
            return failAfterFirstByte('upstream_error', 'The upstream connection broke mid-stream.')
          // [DONE] closes the stream in onEvent; a body that ends before it was cut short.
          if (next.done) return failAfterFirstByte('upstream_error', 'The upstream ended the stream early.')
          parser.feed(decoder.decode(next.value, { stream: true }))
        }
      },
      cancel(reason) {
        finish('client_gone')
        return reader.cancel(reason).catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
}
