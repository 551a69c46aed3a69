import type { Target } from '../targets'
import { decodeResponses, responsesStream, storedResponseRequest } from './openai-responses'
import { openaiBuckets } from './openai-usage'
import type { Chunk, Decoded, ErrorDecision, OpenAIErrorObject, Provider, Usage } from './types'

const PATHS = { chat: '/chat/completions', embeddings: '/embeddings', responses: '/responses' } as const

// Only whole, non-negative token counts are trusted from an upstream; anything else is estimated.

type OpenAIUsage = {
  prompt_tokens?: unknown
  completion_tokens?: unknown
  prompt_tokens_details?: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null
  completion_tokens_details?: { reasoning_tokens?: unknown } | null
}

// OpenAI's usage (cached and cache-write tokens are part of prompt_tokens) into disjoint buckets.
export function usageFromOpenAI(raw: unknown): Usage | null {
  if (!raw || typeof raw !== 'object') return null
  const u = raw as OpenAIUsage
  return openaiBuckets(
    u.prompt_tokens,
    u.completion_tokens ?? 0,
    u.prompt_tokens_details,
    u.completion_tokens_details,
  )
}

// The text an OpenAI reply (`message`) or chunk (`delta`) generated: content and tool-call arguments.
export function generatedText(choices: unknown, key: 'message' | 'delta'): string {
  type Part = { content?: unknown; tool_calls?: unknown }
  let text = ''
  for (const c of Array.isArray(choices) ? choices : []) {
    const part = (c as Record<string, Part | undefined> | null)?.[key]
    if (typeof part?.content === 'string') text += part.content
    for (const call of Array.isArray(part?.tool_calls) ? part.tool_calls : [])
      if (typeof call?.function?.arguments === 'string') text += call.function.arguments
  }
  return text
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

// The upstream's own OpenAI-shaped error for a request it judged invalid; anything else about it
// (URLs, keys, raw bodies) stays inside the gateway.
function clientError(status: number, body: string): OpenAIErrorObject {
  const upstream = (parseObject(body)?.error ?? {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : null)
  return {
    message: str(upstream.message) ?? `The upstream rejected the request (HTTP ${status}).`,
    type: str(upstream.type) ?? 'invalid_request_error',
    param: str(upstream.param),
    code: str(upstream.code),
  }
}

// Only these say the request itself is wrong; 408/409/429/5xx are transient; any other 4xx (401/403
// our key, 402 billing, 405/410/415 a broken base URL…) is the provider's problem: the next one may work.
function classifyOpenAI(status: number, body: string): ErrorDecision {
  if (status === 400 || status === 404 || status === 413 || status === 422)
    return { action: 'relay', status, error: clientError(status, body) }
  if (status === 408 || status === 409 || status === 429 || status >= 500) return { action: 'retry' }
  return { action: 'fallback' }
}

// Fields an aggregator upstream (OpenRouter and the like) reads to pick the model or provider that
// serves, or to add paid features: a key must not steer routing past the gateway's own. Dropped unless
// the provider is configured to receive them (PROVIDER_<NAME>_FORWARD_ROUTING_FIELDS=true).
const ROUTING_FIELDS = ['provider', 'models', 'route', 'transforms', 'plugins']

// OpenAI and every OpenAI-compatible upstream: the client's body goes through untouched except for the
// model name, aggregator routing fields and, on streams, stream_options.include_usage (so the gateway
// can account the stream).
export const openai: Provider = {
  routes: ['chat', 'embeddings', 'responses'],
  buildRequest(target: Target, exchange) {
    // A Responses client's own request (the chat body is its translation for the other providers).
    const responses = exchange.inbound?.protocol === 'responses'
    const route = responses ? 'responses' : exchange.route
    const { stream } = exchange
    const body = responses ? exchange.inbound!.body : exchange.body
    const upstreamBody: Record<string, unknown> = { ...body, model: target.upstreamModel }
    if (!target.forwardRoutingFields) for (const field of ROUTING_FIELDS) delete upstreamBody[field]
    if (route === 'chat' && stream) {
      const options =
        typeof body.stream_options === 'object' && body.stream_options ? body.stream_options : {}
      upstreamBody.stream_options = { ...options, include_usage: true }
    }
    const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json' })
    if (target.apiKey) headers.set('authorization', `Bearer ${target.apiKey}`)
    return new Request(`${target.baseUrl}${PATHS[route]}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(upstreamBody),
    })
  },
  // The upstream's JSON goes to the client as it came (a non-JSON 2xx body too).
  decodeResponse(text, exchange): Decoded {
    if (exchange.route === 'responses' || exchange.inbound?.protocol === 'responses')
      return decodeResponses(text)
    const json = parseObject(text)
    return {
      ok: true,
      text,
      usage: usageFromOpenAI(json?.usage),
      outputText: generatedText(json?.choices, 'message'),
      json,
    }
  },
  streamDecoder(exchange) {
    if (exchange.route === 'responses' || exchange.inbound?.protocol === 'responses') return responsesStream()
    return {
      event(event) {
        if (event.data === '[DONE]') return { done: true }
        const json = parseObject(event.data)
        // OpenAI reports a failure after the first byte as a chunk of its own: `{"error":{…}}`.
        if (json?.error && !Array.isArray(json.choices)) {
          const message = (json.error as { message?: unknown }).message
          return {
            failed: `The upstream failed mid-stream: ${typeof message === 'string' ? message : 'error'}`,
          }
        }
        const chunk: Chunk = { json, raw: event.data, event: event.event }
        const usage = usageFromOpenAI(json?.usage)
        return usage ? { chunks: [chunk], usage } : { chunks: [chunk] }
      },
      // [DONE] is the end of an OpenAI stream; a body that ends without it was cut short.
      end: () => ({}),
    }
  },
  classifyError: ({ status, body }) => classifyOpenAI(status, body),
  storedResponse: storedResponseRequest,
}

// An OpenAI chat.completion.chunk as translating adapters emit it. Once a client asked for usage, every
// chunk carries `usage` (null until the final usage-only chunk), as OpenAI's own stream does.
export function chatChunk(
  head: { id: string; created: number; model: string; wantsUsage: boolean },
  choices: Record<string, unknown>[],
  usage?: Record<string, unknown>,
): Chunk {
  const { id, created, model, wantsUsage } = head
  return {
    json: {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices,
      ...(usage ? { usage } : wantsUsage ? { usage: null } : {}),
    },
  }
}
