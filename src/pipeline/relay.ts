import type { Context } from 'hono'
import type { AppEnv } from '../context'
import { OpenAIError, type ErrorCode, quoted } from '../errors'
import type { AppliedPrice } from '../db/catalog'
import { chargePico, costHeader, usdText, withUsageCost } from '../billing/charge'
import { costOfBuckets } from '../lib/money'
import { chargeUsage, type UsageDraft } from '../usage/draft'
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
import { pinServed } from '../usage/affinity'
import { attemptTrace, traceReply } from '../telemetry/trace'
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
  clientError(status: number, error: OpenAIErrorObject): Response
  // Tell "every upstream is overloaded" (the last one answered 503/529) apart from other failures.
  reportsOverload?: boolean
  // Its replies carry the charge as usage.cost, as Chat Completions' do (OpenRouter's convention).
  showsCost?: boolean
}

// The usage the row and the budget get: the upstream's own numbers, or the estimate when it sent none.
// A stream cut short keeps the upstream's input numbers and counts at least the output it delivered.
function applyUsage(
  draft: UsageDraft,
  usage: Usage | null,
  estimate: { prompt: number; completion: number },
  price: AppliedPrice | undefined,
  complete = true,
) {
  const counted: Usage = usage
    ? { ...usage, output: complete ? usage.output : Math.max(usage.output, estimate.completion) }
    : { ...emptyUsage(), inputUncached: estimate.prompt, output: estimate.completion }
  draft.usage = counted
  draft.usageSource = usage === null ? 'estimated' : complete ? 'upstream' : 'partial'
  draft.promptTokens = promptTokensOf(counted)
  draft.completionTokens = counted.output
  draft.tokensEstimated = usage === null
  draft.tokensMethod = usage === null ? 'chars' : null
  draft.price = price ?? null
  chargeUsage(draft)
}

// What the upstreams did, onto the usage row (the served target's provider, model and stored key).
export function noteForwarded(draft: UsageDraft, log: ForwardLog): void {
  draft.attempts = log.attempts
  draft.upstreamMs = log.upstreamMs
  draft.retries.push(...log.retries)
  draft.fallbacks.push(...log.fallbacks)
  draft.outcomes.push(...log.outcomes)
  draft.keyEvents.push(...log.keyEvents)
  draft.headStart = log.headStart
  if (!log.served) return
  draft.provider = log.served.provider
  draft.upstreamModel = log.served.upstreamModel
  draft.providerKeyId = log.served.keyId ?? null
}

function failure(draft: UsageDraft, error: ForwardError, dialect?: ClientDialect): Response {
  if (error.reason === 'client_error') {
    draft.errorCode = 'upstream_client_error'
    if (dialect) return dialect.clientError(error.status, error.error)
    return Response.json({ error: error.error }, { status: error.status })
  }
  if (error.reason === 'client_gone') {
    draft.status = 499
    draft.errorCode = 'client_disconnected'
    return new Response(null, { status: 499 })
  }
  const { last } = error
  if (
    dialect?.reportsOverload &&
    last.reason === 'upstream_status' &&
    (last.status === 529 || last.status === 503)
  )
    throw new OpenAIError(
      'service_unavailable',
      'Every upstream provider for this model is overloaded. Please retry shortly.',
    )
  const code: ErrorCode = error.timedOut ? 'upstream_timeout' : 'upstream_error'
  throw new OpenAIError(
    code,
    error.timedOut
      ? 'The upstream provider did not respond in time. Please retry.'
      : 'Every upstream provider for this model failed. Please retry shortly.',
  )
}

// Calls the targets in order and answers with OpenAI's JSON, or with an OpenAI SSE stream translated
// from the upstream's events as they arrive.
export async function relay(
  c: Context<AppEnv>,
  route: UpstreamRoute,
  dialect?: ClientDialect,
): Promise<Response> {
  const draft = c.get('draft')
  const body = c.get('body')
  const streaming = route !== 'embeddings' && body.stream === true
  draft.stream = streaming
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
        draft.headStart = 'refused'
      }
      throw error
    }
  }
  const forwarded = await forward(c.get('targets'), op, {
    signal: c.req.raw.signal,
    readBody: !streaming,
    head,
  })
  noteForwarded(draft, forwarded.log)
  for (const t of forwarded.log.tried)
    draft.tracing?.attempts.push(attemptTrace(t.target, t.result, t.startedAt, t.endedAt))
  const { result, redact } = forwarded
  if (!result.ok && result.error.reason !== 'unserved') return failure(draft, result.error, dialect)
  if (!result.ok)
    throw new OpenAIError(
      'invalid_request_error',
      route === 'responses'
        ? `The model ${quoted(exchange.model)} is served only by providers that do not speak OpenAI's Responses API; /v1/responses is relayed to OpenAI-protocol providers only. Use /v1/chat/completions for this model.`
        : `The model ${quoted(exchange.model)} is not served for ${route === 'chat' ? 'chat completions' : route}.`,
      'model',
    )
  const { response, target, text } = result.value
  draft.ttfbMs = result.value.ttfbMs
  const estimate = c.get('estimate') ?? estimateRequest(route, body)
  pinServed(draft, target)
  if (draft.conversationId) notePin(draft.conversationId, target)
  const provider = PROVIDERS[target.type]
  const native = dialect?.native === target.type
  // Chat Completions and Responses bodies carry the charge as usage.cost (OpenRouter's convention); every
  // JSON reply carries it as x-nexusai-cost-usd.
  const showsCost = dialect ? dialect.showsCost === true : route === 'chat'

  if (!streaming || !response.body) {
    const decoded = provider.decodeResponse(text ?? '', exchange)
    if (!decoded.ok && decoded.clientError) {
      draft.errorCode = 'upstream_client_error'
      const { error, status } = decoded.clientError
      return Response.json({ error: { ...error, message: redact.message(error.message) } }, { status })
    }
    if (!decoded.ok) {
      draft.errorCode = 'upstream_bad_response'
      throw new OpenAIError('upstream_error', redact.message(decoded.message))
    }
    if (draft.tracing) traceReply(draft.tracing, body, decoded.text, decoded.outputText)
    const completion = tokensForChars(decoded.outputText.length)
    applyUsage(draft, decoded.usage, { prompt: estimate.prompt, completion }, target.price)
    // The tokenizer knows chat and embeddings bodies; a Responses estimate stays in characters.
    if (!decoded.usage && route !== 'responses')
      draft.recount = {
        model: target.upstreamModel,
        route,
        body,
        output: route === 'chat' ? decoded.outputText : null,
      }
    const reply = dialect ? dialect.reply(decoded.text, estimate.prompt, native) : decoded.text
    return new Response(showsCost ? withUsageCost(reply, draft.chargePico) : reply, {
      status: response.status,
      headers: { 'content-type': 'application/json', [costHeader]: usdText(draft.chargePico) },
    })
  }

  let done: () => void = () => {}
  draft.finished = new Promise<void>((resolve) => (done = resolve))
  const options = body.stream_options as { include_usage?: boolean } | null | undefined
  const stream = pipeStream(response.body, provider.streamDecoder(exchange), {
    clientWantsUsage: options?.include_usage === true,
    idleTimeoutMs: target.timeoutMs,
    encoder: dialect?.encoder(estimate.prompt, native),
    chargeOf: showsCost
      ? (usage) => chargePico(costOfBuckets(usage, target.price), draft.priceRatio)
      : undefined,
    redact,
    onEnd: (outcome) => {
      // Whatever happens here, the request must close (usage row, settled hold).
      try {
        if (draft.tracing?.captureContent) traceReply(draft.tracing, body, null, outcome.contentText)
        const completion = tokensForChars(outcome.contentChars)
        const complete = outcome.end === 'done'
        applyUsage(draft, outcome.usage, { prompt: estimate.prompt, completion }, target.price, complete)
        if (!outcome.usage && route !== 'responses')
          draft.recount = { model: target.upstreamModel, route, body, output: outcome.contentText }
        if (outcome.end === 'client_gone') {
          draft.status = 499
          draft.errorCode = 'client_disconnected'
        } else if (outcome.end !== 'done') {
          draft.status = 502
          draft.errorCode = outcome.end === 'idle_timeout' ? 'upstream_timeout' : 'upstream_stream_broken'
        }
      } finally {
        done()
      }
    },
  })
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
  })
}
