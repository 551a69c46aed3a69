import { picoToUsdString } from '../lib/money'
import type { Result } from '../lib/result'
import type { AttemptError, AttemptOk } from '../upstream/attempt'
import type { Target } from '../upstream/targets'
import type { MeterView } from '../usage/meter'
import type { Span } from './otlp'
import { requestSpans, type AttemptTrace } from './spans'
import type { TraceContext } from './traceparent'

// A request's trace while it runs: the client's context, the upstream attempts as they end, and what the
// spans carry besides the usage row (content only when OTEL_CAPTURE_CONTENT is on).
export type RequestTracing = {
  context: TraceContext
  captureContent: boolean
  attempts: AttemptTrace[]
  finishReasons: string[]
  content: { input: unknown; output: string | null } | null
}

export function newTracing(context: TraceContext, captureContent: boolean): RequestTracing {
  return { context, captureContent, attempts: [], finishReasons: [], content: null }
}

export function attemptTrace(
  target: Target,
  result: Result<AttemptOk, AttemptError>,
  startedAt: number,
  endedAt: number,
): AttemptTrace {
  const error = result.ok ? null : result.error
  return {
    provider: target.provider,
    providerType: target.type,
    upstreamModel: target.upstreamModel,
    startedAt,
    endedAt,
    status: result.ok
      ? result.value.response.status
      : error?.reason === 'upstream_status'
        ? error.status
        : null,
    errorType: error ? (error.reason === 'upstream_status' ? String(error.status) : error.reason) : null,
  }
}

// The finish reasons of an OpenAI-shaped reply (what every adapter decodes to).
function finishReasonsOf(replyJson: string): string[] {
  try {
    const choices = (JSON.parse(replyJson) as { choices?: { finish_reason?: unknown }[] }).choices ?? []
    return choices.map((c) => c.finish_reason).filter((r): r is string => typeof r === 'string')
  } catch {
    return []
  }
}

// What a reply adds to the trace: its finish reasons (from a JSON reply; a stream has none here) and,
// with content capture on, the prompt as the client sent it and the completion text.
export function traceReply(
  tracing: RequestTracing,
  body: Record<string, unknown>,
  replyJson: string | null,
  output: string | null,
): void {
  if (replyJson !== null) tracing.finishReasons = finishReasonsOf(replyJson)
  if (tracing.captureContent) tracing.content = { input: body.messages ?? body.input ?? null, output }
}

export function draftSpans(draft: MeterView, tracing: RequestTracing, endedAt: number): Span[] {
  return requestSpans({
    context: tracing.context,
    route: draft.route,
    publicModel: draft.model,
    stream: draft.stream,
    status: draft.status,
    errorCode: draft.errorCode,
    startedAt: draft.startedAt,
    endedAt,
    apiKeyId: draft.apiKeyId,
    projectId: draft.projectId,
    responseModel: draft.upstreamModel,
    finishReasons: tracing.finishReasons,
    // prompt_tokens already counts every input bucket (uncached, cache read, cache writes).
    inputTokens: draft.promptTokens,
    outputTokens: draft.completionTokens,
    cacheReadTokens: draft.usage.cacheRead,
    cacheWriteTokens: draft.usage.cacheWrite5m + draft.usage.cacheWrite1h,
    reasoningTokens: draft.usage.reasoning,
    costUsd: picoToUsdString(draft.costPico),
    chargeUsd: picoToUsdString(draft.chargePico),
    attempts: tracing.attempts,
    content: tracing.captureContent && tracing.content ? tracing.content : undefined,
  })
}
