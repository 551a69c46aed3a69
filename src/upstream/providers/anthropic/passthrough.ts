import type { Target } from '../../targets'
import type { Decoded, Exchange, Inbound, StreamDecoder } from '../types'
import { usageFromAnthropic, type AnthropicUsage } from './reply'

type Json = Record<string, unknown>

// An Anthropic Messages client served by an Anthropic target (docs/providers.md §3.3): the client's own body
// with only the model name replaced, the client's version and beta headers, and the reply relayed as it
// came, event by event, with usage tapped on the way.
export function passthroughRequest(target: Target, exchange: Exchange, path = '/messages'): Request {
  const inbound = exchange.inbound!
  const headers = new Headers({
    'content-type': 'application/json',
    accept: exchange.stream ? 'text/event-stream' : 'application/json',
    'anthropic-version': inbound.headers['anthropic-version'] ?? '2023-06-01',
  })
  for (const name of ['anthropic-beta', 'x-claude-code-session-id'])
    if (inbound.headers[name]) headers.set(name, inbound.headers[name])
  if (target.apiKey) headers.set('x-api-key', target.apiKey)
  return new Request(`${target.baseUrl}${path}${inbound.query}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ ...inbound.body, model: target.upstreamModel }),
  })
}

function parse(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' ? (value as Json) : null
  } catch {
    return null
  }
}

const textIn = (content: unknown) =>
  (Array.isArray(content) ? content : [])
    .map((b: Json) => (typeof b?.text === 'string' ? b.text : ''))
    .join('')

export function decodePassthrough(text: string): Decoded {
  const message = parse(text)
  if (message?.type !== 'message')
    return { ok: false, message: 'The upstream sent a reply that is not a message.' }
  return {
    ok: true,
    text,
    usage: usageFromAnthropic(message.usage as AnthropicUsage),
    outputText: textIn(message.content),
  }
}

// Every event goes to the client unchanged (its own `event:` name, its own bytes). Usage: message_start's,
// overwritten field by field by message_delta's (cumulative totals, never added).
export function passthroughStream(): StreamDecoder {
  let usage: Json = {}
  let done = false
  return {
    event(e) {
      if (done) return {}
      const data = parse(e.data) ?? {}
      const type = e.event ?? String(data.type ?? '')
      const delta = (data.delta ?? {}) as Json
      const chunk = {
        json: data,
        raw: e.data,
        event: type,
        text:
          typeof delta.text === 'string'
            ? delta.text
            : typeof delta.partial_json === 'string'
              ? delta.partial_json
              : '',
      }
      if (type === 'message_start') usage = { ...((data.message as Json | undefined)?.usage as Json) }
      if (type === 'message_delta')
        for (const [k, v] of Object.entries((data.usage ?? {}) as Json))
          if (v !== null && v !== undefined) usage[k] = v
      const tapped = usageFromAnthropic(usage as AnthropicUsage) ?? undefined
      if (type === 'error') {
        const error = (data.error ?? {}) as Json
        const message = typeof error.message === 'string' ? error.message : 'The upstream reported an error.'
        return { usage: tapped, failed: `The upstream failed mid-stream: ${message}` }
      }
      done = type === 'message_stop'
      return { chunks: [chunk], usage: tapped, done }
    },
    end: () => ({}),
  }
}

// POST /messages/count_tokens at an Anthropic target, with the same headers and body rules.
export function countTokensRequest(target: Target, inbound: Inbound): Request {
  const exchange: Exchange = {
    route: 'chat',
    body: {},
    stream: false,
    model: String(inbound.body.model),
    inbound,
  }
  return passthroughRequest(target, exchange, '/messages/count_tokens')
}
