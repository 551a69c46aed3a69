import type { AppliedPrice } from '../db/catalog'
import type { KeyRecord } from '../db/keys'
import { chargePico, ratioMillionths } from '../billing/charge'
import { costOfBuckets } from '../lib/money'
import { emptyUsage, type Usage } from '../upstream/providers/types'
import type { ScopeKind } from '../redis/keys'
import type { BudgetWindow } from '../redis/scripts/guard'
import type { AttemptRecord } from '../upstream/circuit'
import type { KeyEvent } from '../upstream/key-faults'
import type { AffinityResult, Pin } from '../upstream/affinity'
import type { RequestTracing } from '../telemetry/trace'

export type Route =
  | 'chat'
  | 'embeddings'
  | 'models'
  | 'messages'
  | 'count_tokens'
  | 'responses'
  // Every call of the Gemini API (generate, stream, count, embed, list); the guard is given the operation.
  | 'gemini'

// Everything one request's usage row and metrics need, written only by its Meter (usage/meter.ts) as the
// stages report to it, and read when the response (or the stream) has ended.
export type UsageDraft = {
  eventId: string
  requestId: string
  apiKeyId: string
  projectId: string
  route: Route
  model: string
  // The model as a metric label: only names known to the catalog, so clients cannot blow up cardinality.
  metricModel: string
  provider: string | null
  upstreamModel: string | null
  status: number
  errorCode: string | null
  // The usage buckets; promptTokens and completionTokens are their sums (what OpenAI clients see).
  usage: Usage
  // Where the usage came from: the upstream, the upstream before a stream broke, or an estimate.
  usageSource: 'upstream' | 'partial' | 'estimated'
  promptTokens: number
  completionTokens: number
  tokensEstimated: boolean
  // How estimated tokens were counted (tokenizer encoding or 'chars'); null when the upstream reported them.
  tokensMethod: string | null
  // What the tokenizer counts after the response when the upstream reported no usage: the model (for its
  // encoding), the request body (prompt) and the generated text (null: keep the output count as it is).
  recount: {
    model: string
    route: 'chat' | 'embeddings'
    body: Record<string, unknown>
    output: string | null
  } | null
  costPico: bigint
  // What the key holder pays: costPico × the project's price ratio (in millionths), exact.
  priceRatio: bigint
  chargePico: bigint
  // The price costPico was computed with (recorded on the row), null when none applied.
  price: AppliedPrice | null
  startedAt: number
  ttfbMs: number | null
  // Time spent waiting on upstreams (head and body), for Server-Timing and the overhead figure.
  upstreamMs: number
  stream: boolean
  attempts: number
  retries: { provider: string; reason: string }[]
  fallbacks: { from: string; to: string }[]
  // What each upstream attempt said about its provider, for the circuit breakers.
  outcomes: AttemptRecord[]
  // 'window': a rolling window (docs/selling.md); a prepaid balance counts as 'budget'.
  rateLimited: 'rpm' | 'tpm' | 'budget' | 'window' | null
  // The guard refused the request for its project's prepaid balance (a balance.exhausted alert).
  balanceRefused: boolean
  // The stored upstream key that served the request (its last_used_at), and what upstreams said about
  // stored keys on the way (recorded after the response).
  providerKeyId: string | null
  keyEvents: KeyEvent[]
  // The budget that refused the request (a budget.exhausted alert).
  budgetRefused: { scope: ScopeKind; window: BudgetWindow } | null
  // The conversation's pin as the guard read it (null: none yet) and whether it held; the pin the
  // after-response step writes is the target that served (conversationId null: no pin kept).
  conversationId: string | null
  pin: Pin | null
  affinity: AffinityResult | null
  servedPin: string | null
  // Whether the first upstream attempt started while the guard decided (pipeline/overlap.ts), and its fate:
  // used, or cancelled because the guard refused the request or put another target first.
  headStart: 'used' | 'refused' | 'reordered' | null
  // The request's trace (OpenTelemetry), null when no OTLP endpoint is configured.
  tracing: RequestTracing | null
}

export function newDraft(
  eventId: string,
  requestId: string,
  key: KeyRecord,
  route: Route,
  startedAt: number,
): UsageDraft {
  return {
    eventId,
    requestId,
    apiKeyId: key.id,
    projectId: key.projectId,
    route,
    model: '',
    metricModel: 'other',
    provider: null,
    upstreamModel: null,
    status: 0,
    errorCode: null,
    usage: emptyUsage(),
    usageSource: 'upstream',
    promptTokens: 0,
    completionTokens: 0,
    tokensEstimated: false,
    tokensMethod: null,
    recount: null,
    costPico: 0n,
    priceRatio: ratioMillionths(key.project?.priceRatio),
    chargePico: 0n,
    price: null,
    startedAt,
    ttfbMs: null,
    upstreamMs: 0,
    stream: false,
    attempts: 0,
    retries: [],
    fallbacks: [],
    outcomes: [],
    rateLimited: null,
    balanceRefused: false,
    providerKeyId: null,
    keyEvents: [],
    budgetRefused: null,
    conversationId: null,
    pin: null,
    affinity: null,
    servedPin: null,
    headStart: null,
    tracing: null,
  }
}

// The cost of the draft's tokens at the price that applies to it (none: 0), and what it is charged.
export function chargeUsage(draft: UsageDraft): void {
  draft.costPico = costOfBuckets(draft.usage, draft.price ?? undefined)
  draft.chargePico = chargePico(draft.costPico, draft.priceRatio)
}
