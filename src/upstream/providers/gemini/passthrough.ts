import type { Target } from '../../targets'
import type { Decoded, Exchange, Inbound, StreamDecoder } from '../types'
import { usageFromGemini } from './reply'

type Json = Record<string, unknown>

// A Gemini API client served by a Gemini target: the client's own body (thought signatures, Google's
// own tools, safety settings and all), only the model in the path replaced; the reply relayed as it
// came, with usage (thoughts and cached tokens included) tapped on the way. Streams always ask for SSE
// upstream; the client's framing is the encoder's business.
export function passthroughRequest(target: Target, exchange: Exchange, method?: string): Request {
  const model = encodeURIComponent(target.upstreamModel.replace(/^models\//, ''))
  const call = method ?? (exchange.stream ? 'streamGenerateContent?alt=sse' : 'generateContent')
  const headers = new Headers({ 'content-type': 'application/json' })
  if (target.apiKey) headers.set('x-goog-api-key', target.apiKey)
  return new Request(`${target.baseUrl}/models/${model}:${call}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(exchange.inbound!.body),
  })
}

function parse(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null
  } catch {
    return null
  }
}

// The generated text of a fragment (thoughts are billed, not shown as text here).
function textOf(reply: Json | null): string {
  let text = ''
  for (const c of Array.isArray(reply?.candidates) ? (reply.candidates as Json[]) : [])
    for (const p of ((c?.content as Json | undefined)?.parts as Json[] | undefined) ?? [])
      if (p.thought !== true && typeof p.text === 'string') text += p.text
  return text
}

export function decodePassthrough(text: string): Decoded {
  const reply = parse(text)
  if (!reply) return { ok: false, message: 'The upstream sent a reply that is not JSON.' }
  return { ok: true, text, usage: usageFromGemini(reply.usageMetadata as Json), outputText: textOf(reply) }
}

// Each fragment goes to the client as it came; usage is the running total of the last fragment that had
// one. Gemini streams have no terminator: a body that ends after a finish reason ended well.
export function passthroughStream(): StreamDecoder {
  let finished = false
  return {
    event(e) {
      const data = parse(e.data)
      if (!data) return {}
      if (data.error) {
        const message = String((data.error as Json).message ?? 'The upstream reported an error.')
        return { failed: `The upstream failed mid-stream: ${message}` }
      }
      const usage = usageFromGemini(data.usageMetadata as Json) ?? undefined
      if (((data.candidates as Json[] | undefined) ?? []).some((c) => c?.finishReason)) finished = true
      return { chunks: [{ json: data, raw: e.data, text: textOf(data) }], ...(usage ? { usage } : {}) }
    },
    end: () => (finished ? { done: true } : {}),
  }
}

// countTokens at a Gemini target: the client's body, with a whole generateContentRequest's model
// renamed to the upstream's.
export function countTokensRequest(target: Target, inbound: Inbound): Request {
  const inner = inbound.body.generateContentRequest as Json | undefined
  const body = inner
    ? { ...inbound.body, generateContentRequest: { ...inner, model: `models/${target.upstreamModel}` } }
    : inbound.body
  const exchange: Exchange = {
    route: 'chat',
    body: {},
    stream: false,
    model: target.upstreamModel,
    inbound: { ...inbound, body },
  }
  return passthroughRequest(target, exchange, 'countTokens')
}
