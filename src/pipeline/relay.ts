import type { Context } from 'hono'
import type { AppEnv } from '../context'
import { OpenAIError, type ErrorCode, quoted } from '../errors'
import type { AppliedPrice } from '../db/catalog'
import { chargePico, costHeader, usdText, withUsageCost } from '../billing/charge'
import { costOfBuckets } from '../lib/money'
import { chargeUsage, type UsageDraft } from '../usage/draft'
import { estimateRequest, tokensForChars } from '../usage/tokens'
import { outcomeOf } from '../upstream/circuit'
import { forwardWithFallback, type ForwardError } from '../upstream/fallback'
import { refusedStoredKey, rekey } from '../upstream/key-faults'
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
import { redactSecrets } from '../lib/redact'

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

function failure(draft: UsageDraft, error: ForwardError, dialect?: ClientDialect): Response {
  draft.attempts = error.attempts
  if (error.reason === 'client_error') {
    draft.provider = error.target.provider
    draft.upstreamModel = error.target.upstreamModel
    draft.providerKeyId = error.target.keyId ?? null
    draft.errorCode = 'upstream_client_error'
    const redact = (text: string | null) => text && redactSecrets(text, [error.target.apiKey])
    const { message, type, param, code } = error.error
    const safe = { message: redact(message)!, type: redact(type)!, param: redact(param), code: redact(code) }
    if (dialect) return dialect.clientError(error.status, safe)
    return Response.json({ error: safe }, { status: error.status })
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
  const targets = c.get('targets').filter((t) => PROVIDERS[t.type].routes.includes(route))
  if (targets.length === 0)
    throw new OpenAIError(
      'invalid_request_error',
      route === 'responses'
        ? `The model ${quoted(exchange.model)} is served only by providers that do not speak OpenAI's Responses API; /v1/responses is relayed to OpenAI-protocol providers only. Use /v1/chat/completions for this model.`
        : `The model ${quoted(exchange.model)} is not served for ${route === 'chat' ? 'chat completions' : route}.`,
      'model',
    )
  const estimate = c.get('estimate') ?? estimateRequest(route, body)
  const started = Date.now()
  const triedKeys = new Set<string>()
  const result = await forwardWithFallback(targets, exchange, c.req.raw.signal, !streaming, {
    onAttempt: (target, res, startedAt) => {
      draft.tracing?.attempts.push(attemptTrace(target, res, startedAt, Date.now()))
      if (refusedStoredKey(target, res)) return
      const outcome = outcomeOf(target, res)
      if (outcome) draft.outcomes.push({ target, outcome })
    },
    onRetry: (provider, reason) => draft.retries.push({ provider, reason }),
    onFallback: (from, to) => draft.fallbacks.push({ from, to }),
    onKeyRefused: (target, error) => rekey(target, error, triedKeys, draft.keyEvents),
  })
  draft.upstreamMs = Date.now() - started
  if (!result.ok) return failure(draft, result.error, dialect)
  const { response, target, attempts, ttfbMs, text } = result.value
  Object.assign(draft, { provider: target.provider, upstreamModel: target.upstreamModel, attempts, ttfbMs })
  draft.providerKeyId = target.keyId ?? null
  pinServed(draft, target)
  const provider = PROVIDERS[target.type]
  const native = dialect?.native === target.type
  // Chat Completions and Responses bodies carry the charge as usage.cost (OpenRouter's convention); every
  // JSON reply carries it as x-nexusai-cost-usd.
  const showsCost = dialect ? dialect.showsCost === true : route === 'chat'

  if (!streaming || !response.body) {
    const decoded = provider.decodeResponse(text ?? '', exchange)
    if (!decoded.ok && decoded.clientError) {
      draft.errorCode = 'upstream_client_error'
      return Response.json({ error: decoded.clientError.error }, { status: decoded.clientError.status })
    }
    if (!decoded.ok) {
      draft.errorCode = 'upstream_bad_response'
      throw new OpenAIError('upstream_error', decoded.message)
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
