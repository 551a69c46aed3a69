import type { Context } from 'hono'
import type { AppEnv } from '../context'
import { GatewayError, refusal, type ErrorCode, quoted } from '../errors'
import type { AppliedPrice } from '../db/catalog'
import { chargePico, costHeader, usdText, withUsageCost } from '../billing/charge'
import { costOfBuckets } from '../lib/money'
import type { Meter } from '../usage/meter'
import { estimateRequest, tokensForChars } from '../usage/tokens'
import type { ForwardError } from '../upstream/fallback'
import { forward, type ForwardLog } from '../upstream/forward'
import { startHead, type HeadStart } from '../upstream/head-start'
import { serves, type Operation } from '../upstream/operation'
import { PROVIDERS } from '../upstream/providers'
import {
  emptyUsage,
  promptTokensOf,
  type Exchange,
  type Inbound,
  type OpenAIErrorObject,
  type ProviderType,
  type UpstreamRoute,
  type Usage,
} from '../upstream/providers/types'
import { pipeStream, type StreamEncoder } from '../upstream/stream'
import { notePin } from './overlap'

// How the client's protocol sees the reply, when it is not Chat Completions. A target of the `native` type
// gets the client's own request (`inbound`) and its reply is relayed as it came; any other target gets the
// OpenAI translation, and its JSON reply and stream are translated back. An upstream's refusal of the
// request is answered in the client's error shape.
export type ClientDialect = {
  native?: ProviderType
  inbound?: Inbound
  reply(text: string, estimatedInput: number, native: boolean): string
  encoder(estimatedInput: number, native: boolean): StreamEncoder
  // Tell "every upstream is overloaded" (the last one answered 503/529) apart from other failures.
  reportsOverload?: boolean
  // Its replies carry the charge as usage.cost, as Chat Completions' do (OpenRouter's convention).
  showsCost?: boolean
}

function failure(meter: Meter, error: ForwardError, dialect?: ClientDialect): Response {
  if (error.reason === 'client_error') throw refusal(error.status, error.error)
  if (error.reason === 'client_gone') {
    meter.ended({ status: 499, code: 'client_disconnected' })
    return new Response(null, { status: 499 })
  }
  const { last } = error
  if (
    dialect?.reportsOverload &&
    last.reason === 'upstream_status' &&
    (last.status === 529 || last.status === 503)
  )
    throw new GatewayError({
      code: 'service_unavailable',
      message: 'Every upstream provider for this model is overloaded. Please retry shortly.',
    })
  const code: ErrorCode = error.timedOut ? 'upstream_timeout' : 'upstream_error'
  throw new GatewayError({
    code,
    message: error.timedOut
      ? 'The upstream provider did not respond in time. Please retry.'
      : 'Every upstream provider for this model failed. Please retry shortly.',
  })
}

// Calls the targets in order and answers with OpenAI's JSON, or with an OpenAI SSE stream translated
// from the upstream's events as they arrive.
export async function relay(
  c: Context<AppEnv>,
  route: UpstreamRoute,
  dialect?: ClientDialect,
): Promise<Response> {
  const meter = c.get('meter')
  const body = c.get('body')
  const streaming = route !== 'embeddings' && body.stream === true
  const exchange: Exchange = { route, body, stream: streaming, model: String(body.model) }
  if (dialect?.inbound) exchange.inbound = dialect.inbound
  const op: Operation = { kind: 'exchange', exchange }
  // An overlapped guard (pipeline/overlap.ts): the first attempt starts now, and nothing else happens
  // until the guard has decided; a refusal cancels it before anything reaches the client.
  const admission = c.get('admission')
  let head: HeadStart | undefined
  if (admission) {
    if (serves(admission.target, op)) head = startHead(admission.target, op, c.req.raw.signal, !streaming)
    try {
      await admission.decided
    } catch (error) {
      if (head) {
        head.cancel()
        meter.headRefused()
      }
      throw error
    }
  }
  const forwarded = await forward(c.get('targets'), op, {
    signal: c.req.raw.signal,
    readBody: !streaming,
    head,
  })
  meter.forwarded(forwarded, { stream: streaming })
  const { result, redact } = forwarded
  if (!result.ok && result.error.reason !== 'unserved') return failure(meter, result.error, dialect)
  if (!result.ok)
    throw new GatewayError({
      code: 'invalid_request_error',
      message:
        route === 'responses'
          ? `The model ${quoted(exchange.model)} is served only by providers that do not speak OpenAI's Responses API; /v1/responses is relayed to OpenAI-protocol providers only. Use /v1/chat/completions for this model.`
          : `The model ${quoted(exchange.model)} is not served for ${route === 'chat' ? 'chat completions' : route}.`,
      param: 'model',
    })
  const { response, target, text } = result.value
  const estimate = c.get('estimate') ?? estimateRequest(route, body)
  const { conversationId } = meter.view
  if (conversationId) notePin(conversationId, target)
  const provider = PROVIDERS[target.type]
  const native = dialect?.native === target.type
  // Chat Completions and Responses bodies carry the charge as usage.cost (OpenRouter's convention); every
  // JSON reply carries it as x-nexusai-cost-usd.
  const showsCost = dialect ? dialect.showsCost === true : route === 'chat'

  if (!streaming || !response.body) {
    const decoded = provider.decodeResponse(text ?? '', exchange)
    if (!decoded.ok && decoded.clientError) {
      const { error, status } = decoded.clientError
      throw refusal(status, { ...error, message: redact.message(error.message) })
    }
    if (!decoded.ok) {
      meter.ended({ code: 'upstream_bad_response' })
      throw new GatewayError({ code: 'upstream_error', message: redact.message(decoded.message) })
    }
    meter.answered({
      usage: decoded.usage,
      estimate: { prompt: estimate.prompt, completion: tokensForChars(decoded.outputText.length) },
      price: target.price,
      complete: true,
      // The tokenizer knows chat and embeddings bodies; a Responses estimate stays in characters.
      recount:
        decoded.usage || route === 'responses'
          ? null
          : {
              model: target.upstreamModel,
              route,
              body,
              output: route === 'chat' ? decoded.outputText : null,
            },
      content: { body, reply: decoded.text, output: decoded.outputText },
    })
    const reply = dialect ? dialect.reply(decoded.text, estimate.prompt, native) : decoded.text
    // A reply relayed as it came is the one the adapter parsed already.
    const parsed = reply === decoded.text ? decoded.json : undefined
    return new Response(showsCost ? withUsageCost(reply, meter.view.chargePico, parsed) : reply, {
      status: response.status,
      headers: { 'content-type': 'application/json', [costHeader]: usdText(meter.view.chargePico) },
    })
  }

  meter.streaming()
  const options = body.stream_options as { include_usage?: boolean } | null | undefined
  const stream = pipeStream(response.body, provider.streamDecoder(exchange), {
    clientWantsUsage: options?.include_usage === true,
    idleTimeoutMs: target.timeoutMs,
    encoder: dialect?.encoder(estimate.prompt, native),
    chargeOf: showsCost
      ? (usage) => chargePico(costOfBuckets(usage, target.price), meter.view.priceRatio)
      : undefined,
    redact,
    onEnd: (outcome) => {
      // Whatever happens here, the request must close (usage row, settled hold): `ended` comes last.
      try {
        meter.answered({
          usage: outcome.usage,
          estimate: { prompt: estimate.prompt, completion: tokensForChars(outcome.contentChars) },
          price: target.price,
          complete: outcome.end === 'done',
          recount:
            outcome.usage || route === 'responses'
              ? null
              : { model: target.upstreamModel, route, body, output: outcome.contentText },
          content: { body, reply: null, output: outcome.contentText },
        })
      } finally {
        meter.ended(
          outcome.end === 'done'
            ? {}
            : outcome.end === 'client_gone'
              ? { status: 499, code: 'client_disconnected' }
              : {
                  status: 502,
                  code: outcome.end === 'idle_timeout' ? 'upstream_timeout' : 'upstream_stream_broken',
                },
        )
      }
    },
  })
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
  })
}
