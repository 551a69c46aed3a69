import type { Context } from 'hono'
import type { AppEnv } from '../context'
import { OpenAIError, type ErrorCode } from '../errors'
import { costPico, type Price } from '../lib/money'
import type { UsageDraft } from '../usage/draft'
import { estimateRequest, tokensForChars } from '../usage/tokens'
import { forwardWithFallback, type ForwardError } from './fallback'
import type { UpstreamRoute } from './providers'
import { relaySse, type UsageNumbers } from './sse'

// Only whole, non-negative token counts are trusted from an upstream; anything else is estimated.
const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0

function applyUsage(
  draft: UsageDraft,
  usage: UsageNumbers | null,
  fallback: { prompt: number; completion: number },
  price: Price | undefined,
) {
  const reported = usage !== null && count(usage.prompt_tokens) && count(usage.completion_tokens ?? 0)
  draft.promptTokens = reported ? (usage.prompt_tokens as number) : fallback.prompt
  draft.completionTokens = reported ? ((usage.completion_tokens ?? 0) as number) : fallback.completion
  draft.tokensEstimated = !reported
  draft.costPico = costPico(draft.promptTokens, draft.completionTokens, price)
}

// Characters of generated text in a non-streamed chat completion, for the estimate without usage.
function completionChars(json: unknown): number {
  const choices = (json as { choices?: { message?: { content?: unknown } }[] } | null)?.choices
  let n = 0
  for (const c of Array.isArray(choices) ? choices : []) {
    if (typeof c?.message?.content === 'string') n += c.message.content.length
  }
  return n
}

// The upstream's own OpenAI-shaped error for a request it judged invalid; anything else about it
// (URLs, keys, raw bodies) stays inside the gateway.
function clientErrorResponse(error: Extract<ForwardError, { reason: 'client_error' }>): Response {
  let upstream: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } = {}
  try {
    upstream = (JSON.parse(error.body) as { error?: typeof upstream }).error ?? {}
  } catch {
    // not JSON: use the generic message
  }
  const message =
    typeof upstream.message === 'string'
      ? upstream.message
      : `The upstream rejected the request (HTTP ${error.status}).`
  return Response.json(
    {
      error: {
        message,
        type: typeof upstream.type === 'string' ? upstream.type : 'invalid_request_error',
        param: typeof upstream.param === 'string' ? upstream.param : null,
        code: typeof upstream.code === 'string' ? upstream.code : null,
      },
    },
    { status: error.status },
  )
}

function failure(draft: UsageDraft, error: ForwardError): Response {
  draft.attempts = error.attempts
  if (error.reason === 'client_error') {
    draft.provider = error.target.provider
    draft.upstreamModel = error.target.upstreamModel
    draft.errorCode = 'upstream_client_error'
    return clientErrorResponse(error)
  }
  if (error.reason === 'client_gone') {
    draft.status = 499
    draft.errorCode = 'client_disconnected'
    return new Response(null, { status: 499 })
  }
  const code: ErrorCode = error.timedOut ? 'upstream_timeout' : 'upstream_error'
  throw new OpenAIError(
    code,
    error.timedOut
      ? 'The upstream provider did not respond in time. Please retry.'
      : 'Every upstream provider for this model failed. Please retry shortly.',
  )
}

// Calls the targets in order and answers with JSON, or with the upstream's SSE relayed as it arrives.
export async function relay(c: Context<AppEnv>, route: UpstreamRoute): Promise<Response> {
  const { draft, body, targets, price } = c.var
  const streaming = route === 'chat' && body.stream === true
  draft.stream = streaming
  const estimate = estimateRequest(route, body)
  const started = Date.now()
  const result = await forwardWithFallback(targets, route, body, c.req.raw.signal, !streaming, {
    onRetry: (provider, reason) => draft.retries.push({ provider, reason }),
    onFallback: (from, to) => draft.fallbacks.push({ from, to }),
  })
  draft.upstreamMs = Date.now() - started
  if (!result.ok) return failure(draft, result.error)
  const { response, target, attempts, ttfbMs, text } = result.value
  Object.assign(draft, { provider: target.provider, upstreamModel: target.upstreamModel, attempts, ttfbMs })

  if (!streaming || !response.body) {
    const raw = text ?? ''
    let json: unknown = null
    try {
      json = JSON.parse(raw)
    } catch {
      // a non-JSON 2xx body is relayed as is
    }
    const usage = (json as { usage?: UsageNumbers } | null)?.usage ?? null
    applyUsage(
      draft,
      usage,
      { prompt: estimate.prompt, completion: tokensForChars(completionChars(json)) },
      price,
    )
    return new Response(raw, { status: response.status, headers: { 'content-type': 'application/json' } })
  }

  let done: () => void = () => {}
  draft.finished = new Promise<void>((resolve) => (done = resolve))
  const options = body.stream_options as { include_usage?: boolean } | null | undefined
  const stream = relaySse(response.body, {
    clientWantsUsage: options?.include_usage === true,
    idleTimeoutMs: target.timeoutMs,
    onEnd: (outcome) => {
      // Whatever happens here, the request must close (usage row, settled hold).
      try {
        applyUsage(
          draft,
          outcome.usage,
          { prompt: estimate.prompt, completion: tokensForChars(outcome.contentChars) },
          price,
        )
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
