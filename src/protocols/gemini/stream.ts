import { usageFromOpenAI } from '../../upstream/providers/openai'
import type { Chunk, Usage } from '../../upstream/providers/types'
import type { StreamEncoder } from '../../upstream/stream'
import { geminiErrorBody } from './errors'
import { finishReasonOf, functionCallPart, responseId, usageMetadata } from './reply'

type Json = Record<string, unknown>

// streamGenerateContent's two framings (docs/providers.md §2.5): with `?alt=sse` one `data:` event per
// response fragment (Google separates them with CRLF CRLF, no terminator); without it one JSON array
// that grows element by element and closes with `]`.
export type Framing = 'sse' | 'array'

function framer(framing: Framing) {
  let first = true
  return {
    item(json: string): string {
      if (framing === 'sse') return `data: ${json}\r\n\r\n`
      const out = first ? `[${json}` : `,\r\n${json}`
      first = false
      return out
    },
    end: () => (framing === 'sse' ? '' : first ? '[]' : ']'),
  }
}

const STATUS_OF_END = {
  upstream_error: { code: 502, status: 'UNAVAILABLE' },
  idle_timeout: { code: 504, status: 'DEADLINE_EXCEEDED' },
}

// A failure after the first byte: one error element (the SDKs throw ApiError for any chunk carrying an
// `error` with a numeric code), then the end of the framing.
function errorItem(f: ReturnType<typeof framer>, message: string, end: keyof typeof STATUS_OF_END) {
  const { code, status } = STATUS_OF_END[end]
  return f.item(JSON.stringify(geminiErrorBody(code, status, message))) + f.end()
}

// A Gemini target's own fragments, relayed as they came.
export function relayEncoder(framing: Framing): StreamEncoder {
  const f = framer(framing)
  return {
    chunk: (chunk) => f.item(chunk.raw ?? JSON.stringify(chunk.json)),
    done: () => f.end(),
    error: (message, end) => errorItem(f, message, end),
  }
}

type ChunkChoice = {
  delta?: {
    content?: string | null
    refusal?: string | null
    tool_calls?: Json[]
  }
  finish_reason?: string | null
}

// OpenAI chat.completion.chunk events → Gemini fragments: text as it arrives; tool calls buffered by
// index and sent whole (a Gemini functionCall part always arrives complete), with the finish reason and
// the usage in the last fragment.
export function geminiEncoder(framing: Framing, model: string, estimatedInput: number): StreamEncoder {
  const f = framer(framing)
  const id = responseId()
  let usage: Usage | null = null
  let finish: string | null = null
  const calls = new Map<number, Json & { function: { name: string; arguments: string } }>()

  const fragment = (parts: Json[], extra: Json = {}) =>
    f.item(
      JSON.stringify({
        candidates: [{ content: { role: 'model', parts }, ...extra, index: 0 }],
        ...(extra.finishReason ? { usageMetadata: usageMetadata(usage, estimatedInput) } : {}),
        modelVersion: model,
        responseId: id,
      }),
    )

  return {
    chunk(chunk: Chunk) {
      const json = chunk.json
      if (json?.usage) usage = usageFromOpenAI(json.usage) ?? usage
      let out = ''
      for (const choice of (Array.isArray(json?.choices) ? json.choices : []) as ChunkChoice[]) {
        const delta = choice.delta ?? {}
        const text = [delta.content, delta.refusal].filter((t) => typeof t === 'string' && t).join('')
        if (text) out += fragment([{ text }])
        if (delta.refusal) finish = 'SAFETY'
        for (const call of delta.tool_calls ?? []) {
          const key = typeof call.index === 'number' ? call.index : 0
          const fn = (call.function ?? {}) as Json
          const known: Json & { function: { name: string; arguments: string } } = calls.get(key) ?? {
            function: { name: '', arguments: '' },
          }
          if (typeof call.id === 'string') known.id = call.id
          if (call.extra_content) known.extra_content = call.extra_content
          if (typeof fn.name === 'string') known.function.name += fn.name
          if (typeof fn.arguments === 'string') known.function.arguments += fn.arguments
          calls.set(key, known)
        }
        if (choice.finish_reason) finish ??= finishReasonOf(choice.finish_reason)
      }
      return out
    },
    done() {
      const parts = [...calls.keys()].sort((a, b) => a - b).map((k) => functionCallPart(calls.get(k)!))
      return fragment(parts.length ? parts : [{ text: '' }], { finishReason: finish ?? 'STOP' }) + f.end()
    },
    error: (message, end) => errorItem(f, message, end),
  }
}
