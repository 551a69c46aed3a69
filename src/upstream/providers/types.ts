import type { EventSourceMessage } from 'eventsource-parser'
import type { Target } from '../targets'

// The provider types the gateway speaks to. One list for the admin schema, the router and the adapters:
// a provider row of any other type is never routed (no silent default to OpenAI's wire format).
export const PROVIDER_TYPES = ['openai', 'anthropic', 'gemini'] as const
export type ProviderType = (typeof PROVIDER_TYPES)[number]

export const isProviderType = (type: string): type is ProviderType =>
  (PROVIDER_TYPES as readonly string[]).includes(type)

export type UpstreamRoute = 'chat' | 'embeddings' | 'responses'

// One request's token usage in disjoint buckets, so each price applies to exactly one count
// (docs/providers.md §4.2). `reasoning` is part of `output`, kept for reporting only.
export type Usage = {
  inputUncached: number
  cacheRead: number
  cacheWrite5m: number
  cacheWrite1h: number
  output: number
  reasoning: number
}

export const emptyUsage = (): Usage => ({
  inputUncached: 0,
  cacheRead: 0,
  cacheWrite5m: 0,
  cacheWrite1h: 0,
  output: 0,
  reasoning: 0,
})

export const promptTokensOf = (u: Usage) => u.inputUncached + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h

// What the client asked for, as the adapters need it. `model` is the client's name for the model (the
// reply carries it back); the target carries the upstream's name.
export type Exchange = {
  route: UpstreamRoute
  body: Record<string, unknown>
  stream: boolean
  model: string
  // The client's own request when it speaks another protocol than OpenAI's (`body` is then its
  // translation): an adapter of that protocol sends this instead (passthrough).
  inbound?: Inbound
}

export type Inbound = {
  protocol: 'anthropic' | 'gemini' | 'responses'
  body: Record<string, unknown>
  // Lower-case names; only what the adapter may forward.
  headers: Record<string, string>
  // The client's query string, with its leading '?' (or '').
  query: string
}

// OpenAI's error object: what every adapter turns an upstream's refusal into.
export type OpenAIErrorObject = { message: string; type: string; param: string | null; code: string | null }

// A non-streamed reply translated to OpenAI's JSON (the bytes sent to the client), with its usage.
// `usage: null` means the upstream reported none; `outputText` (the generated text) then feeds the estimate.
export type Decoded =
  // `json`: the reply as the adapter parsed it, when it did (the relay adds the charge to it instead of
  // parsing the reply again); the relay's to change, nothing else reads it.
  | { ok: true; text: string; usage: Usage | null; outputText: string; json?: Record<string, unknown> | null }
  | { ok: false; message: string; clientError?: { status: number; error: OpenAIErrorObject } }

// An OpenAI chat.completion.chunk (or any event the client should see). `raw` is the upstream's own text
// when the chunk is relayed unchanged, so the encoder does not serialise it again.
// `text`: the generated text in it, when it is not a chat chunk (relayed events of another protocol).
export type Chunk = { json: Record<string, unknown> | null; raw?: string; event?: string; text?: string }

// What one upstream event (or the end of the body) produces. `done`: the stream ended as the protocol
// says it should; `failed`: the upstream reported an error mid-stream. Usage, when present, is the
// request's running total (the last one wins).
export type StreamStep = { chunks?: Chunk[]; usage?: Usage; done?: boolean; failed?: string }

// Per-stream state lives in the closure the adapter returns for each stream.
export type StreamDecoder = {
  event(event: EventSourceMessage): StreamStep
  // The upstream body ended (after or without `done`).
  end(): StreamStep
}

export type UpstreamFailure = { status: number; body: string; headers: Headers }

// The one routing decision an upstream error leads to: relay it (the request itself is wrong), retry the
// same target (transient), or go to the next target at once (this provider cannot serve it now).
export type ErrorDecision =
  { action: 'relay'; status: number; error: OpenAIErrorObject } | { action: 'retry' } | { action: 'fallback' }

export type Provider = {
  routes: readonly UpstreamRoute[]
  buildRequest(target: Target, exchange: Exchange): Request
  decodeResponse(text: string, exchange: Exchange): Decoded
  streamDecoder(exchange: Exchange): StreamDecoder
  classifyError(failure: UpstreamFailure): ErrorDecision
  // Operations beside the exchange, for providers that have them (sent through the same forward()).
  countTokens?(target: Target, inbound: Inbound): Request
  storedResponse?(target: Target, method: 'GET' | 'DELETE', id: string): Request
}

// Thrown by buildRequest when the client's request cannot be expressed in this provider's protocol (an
// unsupported parameter, an image type it refuses…): answered as a 400, with no upstream call.
export class RequestRejected extends Error {
  readonly error: OpenAIErrorObject
  constructor(message: string, param: string | null, code: string | null = 'invalid_value') {
    super(message)
    this.error = { message, type: 'invalid_request_error', param, code }
  }
}
