import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { generatedText } from './providers/openai'
import type { Chunk, StreamDecoder, StreamStep, Usage } from './providers/types'
import { redactSecrets } from '../lib/redact'
import { addUsageCost } from '../billing/charge'
import type { Redact } from './forward'

export type StreamOutcome = {
  end: 'done' | 'upstream_error' | 'idle_timeout' | 'client_gone'
  usage: Usage | null
  // Generated content the client received, for the estimate when no usage came (the text is kept up to
  // MAX_KEPT_TEXT characters, for the tokenizer).
  contentChars: number
  contentText: string
}

const MAX_KEPT_TEXT = 1_000_000

const bytes = new TextEncoder()

// A usage-only chunk (OpenAI's final `{"choices":[],"usage":{…}}`): shown only to a client that asked.
function isUsageOnly(chunk: Chunk): boolean {
  const json = chunk.json
  return !!json?.usage && Array.isArray(json.choices) && json.choices.length === 0
}

export const encodeEvent = (chunk: Chunk) =>
  `${chunk.event ? `event: ${chunk.event}\n` : ''}data: ${chunk.raw ?? JSON.stringify(chunk.json)}\n\n`

// How the client's protocol writes the stream: each decoded chunk (an empty string sends nothing), the
// logical end, and a failure after the first byte.
export type StreamEncoder = {
  chunk(chunk: Chunk): string
  done(): string
  error(message: string, end: 'upstream_error' | 'idle_timeout'): string
}

// Chat Completions: chunks as they are, `[DONE]`, and one OpenAI-shaped error event.
const openaiEncoder = (clientWantsUsage: boolean): StreamEncoder => ({
  chunk: (chunk) => (isUsageOnly(chunk) && !clientWantsUsage ? '' : encodeEvent(chunk)),
  done: () => 'data: [DONE]\n\n',
  error: (message) =>
    `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: 'upstream_error' } })}\n\n`,
})

// The protocol-neutral stream pipe: upstream bytes → SSE events → the provider's decoder (native event →
// OpenAI chunks, usage, end) → the client protocol's encoder (OpenAI SSE by default), as each event arrives.
// Hides the usage-only chunk from a client that did not ask for it, turns a failure after the first byte into
// one error event and a clean close (no [DONE]), and cancels the upstream as soon as our client goes away.
export function pipeStream(
  upstream: ReadableStream<Uint8Array>,
  decoder: StreamDecoder,
  opts: {
    clientWantsUsage: boolean
    idleTimeoutMs: number
    onEnd(outcome: StreamOutcome): void
    encoder?: StreamEncoder
    // What the usage costs the caller (pico-USD): written into the chunk that carries the usage.
    chargeOf?: (usage: Usage) => bigint
    // The keys the request sent, removed from every event relayed (forward.ts).
    redact?: Redact
  },
): ReadableStream<Uint8Array> {
  const encoder = opts.encoder ?? openaiEncoder(opts.clientWantsUsage)
  const reader = upstream.getReader()
  const text = new TextDecoder()
  const outcome: StreamOutcome = { end: 'done', usage: null, contentChars: 0, contentText: '' }
  let finished = false
  let out: ReadableStreamDefaultController<Uint8Array>

  const finish = (end: StreamOutcome['end']) => {
    if (finished) return
    finished = true
    outcome.end = end
    opts.onEnd(outcome)
  }

  let sent = 0
  const emit = (payload: string) => {
    if (finished || payload === '') return
    out.enqueue(bytes.encode(opts.redact ? opts.redact.body(payload) : payload))
    sent++
  }

  const close = (end: StreamOutcome['end']) => {
    if (finished) return
    finish(end)
    out.close()
    reader.cancel().catch(() => {})
  }

  const fail = (end: 'upstream_error' | 'idle_timeout', message: string) => {
    emit(encoder.error(message, end))
    close(end)
  }

  const apply = (step: StreamStep) => {
    if (finished) return
    if (step.usage) outcome.usage = step.usage
    const charge = step.usage && opts.chargeOf?.(step.usage)
    for (const chunk of step.chunks ?? []) {
      if (charge !== undefined && addUsageCost(chunk.json, charge)) delete chunk.raw
      const content = chunk.text ?? generatedText(chunk.json?.choices, 'delta')
      outcome.contentChars += content.length
      if (outcome.contentText.length < MAX_KEPT_TEXT) outcome.contentText += content
      emit(encoder.chunk(chunk))
    }
    if (step.failed !== undefined)
      return fail('upstream_error', opts.redact?.message(step.failed) ?? redactSecrets(step.failed))
    // The logical end: close now, so a client that stops reading there is not "gone".
    if (step.done) {
      emit(encoder.done())
      close('done')
    }
  }

  const parser = createParser({ onEvent: (event: EventSourceMessage) => apply(decoder.event(event)) })

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
          if (next === 'idle') return fail('idle_timeout', 'The upstream stopped sending; stream ended.')
          if (next === 'broken') return fail('upstream_error', 'The upstream connection broke mid-stream.')
          // An event a decoder or encoder cannot handle ends the stream like any upstream failure, so the
          // request still closes (usage row, released hold) instead of erroring the pipe.
          try {
            if (next.done) {
              parser.feed(text.decode())
              apply(decoder.end())
              // The provider did not see its protocol's end: the stream was cut short.
              return fail('upstream_error', 'The upstream ended the stream early.')
            }
            parser.feed(text.decode(next.value, { stream: true }))
          } catch {
            return fail('upstream_error', 'The upstream sent an event the gateway could not read.')
          }
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
