import type { Target } from '../targets'
import { openaiBuckets } from './openai-usage'
import type { Decoded, StreamDecoder, Usage } from './types'

type Json = Record<string, unknown>

// OpenAI's Responses API, relayed (docs/providers.md §6): the body goes through with the model
// replaced, the reply and the stream come back as they are; the gateway only reads the usage.

// Responses usage: input_tokens include the cached ones (and the cache writes), like chat's prompt_tokens.
function usageFromResponses(raw: unknown): Usage | null {
  if (!raw || typeof raw !== 'object') return null
  const u = raw as {
    input_tokens?: unknown
    output_tokens?: unknown
    input_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null
    output_tokens_details?: { reasoning_tokens?: unknown } | null
  }
  return openaiBuckets(u.input_tokens, u.output_tokens, u.input_tokens_details, u.output_tokens_details)
}

function parse(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null
  } catch {
    return null
  }
}

function outputText(response: Json | null): string {
  if (typeof response?.output_text === 'string') return response.output_text
  let text = ''
  for (const item of Array.isArray(response?.output) ? (response.output as Json[]) : [])
    for (const part of Array.isArray(item?.content) ? (item.content as Json[]) : [])
      if (typeof part?.text === 'string') text += part.text
  return text
}

export function decodeResponses(text: string): Decoded {
  const json = parse(text)
  return { ok: true, text, usage: usageFromResponses(json?.usage), outputText: outputText(json), json }
}

// The events that end a Responses stream, each carrying the final response (and its usage).
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed'])

export function responsesStream(): StreamDecoder {
  return {
    event(event) {
      const json = parse(event.data)
      const type = event.event ?? String(json?.type ?? '')
      const text = type === 'response.output_text.delta' && typeof json?.delta === 'string' ? json.delta : ''
      const chunk = { json, raw: event.data, event: type, text }
      if (type === 'error')
        return { failed: `The upstream failed mid-stream: ${String(json?.message ?? 'error')}` }
      if (!TERMINAL.has(type)) return { chunks: [chunk] }
      const usage = usageFromResponses((json?.response as Json | undefined)?.usage)
      return { chunks: [chunk], done: true, ...(usage ? { usage } : {}) }
    },
    // A Responses stream ends with one of the terminal events; a body that ends before was cut short.
    end: () => ({}),
  }
}

// GET or DELETE of a stored response, at the provider that created it.
export function storedResponseRequest(target: Target, method: 'GET' | 'DELETE', id: string): Request {
  const headers = new Headers({ accept: 'application/json' })
  if (target.apiKey) headers.set('authorization', `Bearer ${target.apiKey}`)
  return new Request(`${target.baseUrl}/responses/${encodeURIComponent(id)}`, { method, headers })
}
