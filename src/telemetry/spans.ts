import { SpanKind, StatusCode, type Attributes, type Span } from './otlp'
import { newSpanId, type TraceContext } from './traceparent'

// What the pipeline knows of one request once it is over, in the GenAI semantic conventions' terms.
export type AttemptTrace = {
  provider: string // the provider's name in the catalog (openai-main)
  providerType: string // openai · anthropic · gemini
  upstreamModel: string
  startedAt: number
  endedAt: number
  // The upstream's HTTP status, or null when none came (timeout, network).
  status: number | null
  // Why the attempt failed (timeout, status_429, network, …); null when it served the request.
  errorType: string | null
}

export type RequestTrace = {
  context: TraceContext
  route: string // chat · embeddings · messages · responses · gemini · …
  publicModel: string
  stream: boolean
  status: number
  errorCode: string | null
  startedAt: number
  endedAt: number
  apiKeyId: string
  projectId: string
  responseModel: string | null
  finishReasons: string[]
  // All input, cached included (for Anthropic: input + cache read + cache write).
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  reasoningTokens: number
  costUsd: string
  chargeUsd: string
  attempts: AttemptTrace[]
  // Prompt and completion, only when OTEL_CAPTURE_CONTENT is on.
  content?: { input: unknown; output: string | null }
}

// gen_ai.operation.name by route (the conventions' well-known values).
const OPERATIONS: Record<string, string> = {
  chat: 'chat',
  messages: 'chat',
  responses: 'chat',
  embeddings: 'embeddings',
  gemini: 'generate_content',
}
// gen_ai.provider.name by provider type.
const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
}

const operationOf = (route: string) => OPERATIONS[route] ?? route
const usd = (value: string) => Number(value)

// One SERVER span for the request and one CLIENT span per upstream attempt, children of it (a fallback
// shows as siblings). The serving attempt is the last one.
export function requestSpans(trace: RequestTrace): Span[] {
  const serverId = newSpanId()
  const operation = operationOf(trace.route)
  const served = trace.attempts.at(-1)
  const failed = trace.status >= 400
  const common: Attributes = {
    'gen_ai.operation.name': operation,
    'gen_ai.request.stream': trace.stream,
    'nexusai.request.model': trace.publicModel,
    'nexusai.api_key_id': trace.apiKeyId,
    'nexusai.project_id': trace.projectId,
  }
  const server: Span = {
    traceId: trace.context.traceId,
    spanId: serverId,
    parentSpanId: trace.context.parentSpanId,
    name: `${operation} ${trace.publicModel}`.trim(),
    kind: SpanKind.SERVER,
    startMs: trace.startedAt,
    endMs: trace.endedAt,
    attributes: {
      ...common,
      'gen_ai.provider.name': served ? (PROVIDER_NAMES[served.providerType] ?? served.providerType) : null,
      'gen_ai.request.model': served?.upstreamModel ?? trace.publicModel,
      'gen_ai.response.model': trace.responseModel,
      'gen_ai.response.finish_reasons': trace.finishReasons.length > 0 ? trace.finishReasons : null,
      'gen_ai.usage.input_tokens': trace.inputTokens,
      'gen_ai.usage.output_tokens': trace.outputTokens,
      'gen_ai.usage.cache_read.input_tokens': trace.cacheReadTokens,
      'gen_ai.usage.cache_creation.input_tokens': trace.cacheWriteTokens,
      'gen_ai.usage.reasoning.output_tokens': trace.reasoningTokens,
      'http.response.status_code': trace.status,
      'error.type': failed ? (trace.errorCode ?? String(trace.status)) : null,
      'nexusai.provider': served?.provider ?? null,
      'nexusai.attempts': trace.attempts.length,
      'nexusai.cost_usd': usd(trace.costUsd),
      'nexusai.charge_usd': usd(trace.chargeUsd),
      ...(trace.content
        ? {
            'gen_ai.input.messages': JSON.stringify(trace.content.input),
            'gen_ai.output.messages':
              trace.content.output === null
                ? null
                : JSON.stringify([
                    { role: 'assistant', parts: [{ type: 'text', content: trace.content.output }] },
                  ]),
          }
        : {}),
    },
    status: failed
      ? { code: StatusCode.ERROR, message: trace.errorCode ?? undefined }
      : { code: StatusCode.UNSET },
  }
  const clients: Span[] = trace.attempts.map((attempt) => ({
    traceId: trace.context.traceId,
    spanId: newSpanId(),
    parentSpanId: serverId,
    name: `${operation} ${attempt.upstreamModel}`.trim(),
    kind: SpanKind.CLIENT,
    startMs: attempt.startedAt,
    endMs: attempt.endedAt,
    attributes: {
      ...common,
      'gen_ai.provider.name': PROVIDER_NAMES[attempt.providerType] ?? attempt.providerType,
      'gen_ai.request.model': attempt.upstreamModel,
      'http.response.status_code': attempt.status,
      'error.type': attempt.errorType,
      'nexusai.provider': attempt.provider,
    },
    status: attempt.errorType
      ? { code: StatusCode.ERROR, message: attempt.errorType }
      : { code: StatusCode.UNSET },
  }))
  return [server, ...clients]
}
