import type { AppliedPrice } from '../db/catalog'
import type { KeyRecord } from '../db/keys'
import type { ErrorCode } from '../errors'
import type { ScopeKind } from '../redis/keys'
import type { BudgetWindow } from '../redis/scripts/guard'
import type { Pin } from '../upstream/affinity'
import type { Forwarded } from '../upstream/forward'
import { emptyUsage, promptTokensOf, type Usage } from '../upstream/providers/types'
import type { Target } from '../upstream/targets'
import { pinServed } from './affinity'
import { chargeUsage, newDraft, type Route, type UsageDraft } from './draft'
import { countWithTokenizer } from './tokenizer'
import { attemptTrace, traceReply, type RequestTracing } from '../telemetry/trace'

// Why a request's row says it failed, beyond the gateway's own error codes.
export type UsageErrorCode =
  | ErrorCode
  | 'upstream_client_error'
  | 'upstream_bad_response'
  | 'upstream_stream_broken'
  | 'client_disconnected'

// What the tokenizer counts after the response when the upstream reported no usage.
export type Recount = NonNullable<UsageDraft['recount']>

// The usage row as the stages may read it (never write it: they report to the Meter).
export type MeterView = {
  readonly [K in keyof UsageDraft]: UsageDraft[K] extends (infer T)[] ? readonly T[] : UsageDraft[K]
}

// One request's usage row, metrics and after-response facts, with the Meter as their only writer. Each
// stage reports what happened to it as one typed event; the row is read at the end (`view`).
export class Meter {
  #d: UsageDraft
  #streamEnded: () => void = () => {}
  // Resolves when the response is complete: at once, or when the stream the relay opened has ended.
  #done: Promise<void> = Promise.resolve()

  constructor(
    ids: { eventId: string; requestId: string },
    key: KeyRecord,
    route: Route,
    startedAt: number,
    tracing: RequestTracing | null = null,
  ) {
    this.#d = newDraft(ids.eventId, ids.requestId, key, route, startedAt)
    this.#d.tracing = tracing
  }

  get view(): MeterView {
    return this.#d
  }

  get done(): Promise<void> {
    return this.#done
  }

  // The model the client asked for (validation, a stored response's pin, a Gemini path); `metricModel`
  // once the catalog knows it (allowModel), so clients cannot blow up the metric labels.
  named(model: string, metricModel?: string): void {
    this.#d.model = model
    if (metricModel !== undefined) this.#d.metricModel = metricModel
  }

  // The conversation this request belongs to and the pin the guard read for it (affinity).
  conversation(id: string, pin: Pin | null): void {
    this.#d.conversationId = id
    this.#d.pin = pin
  }

  // A limit of the key or its project refused the request (a prepaid balance counts as a budget).
  refused(r: {
    by: 'rpm' | 'tpm' | 'budget' | 'window' | 'balance'
    budget?: { scope: ScopeKind; window: BudgetWindow }
  }): void {
    this.#d.rateLimited = r.by === 'balance' ? 'budget' : r.by
    if (r.by === 'balance') this.#d.balanceRefused = true
    if (r.budget) this.#d.budgetRefused = r.budget
  }

  // What the upstreams did. `asked`: the target a single-target operation went to, named on the row even
  // when it did not answer (count_tokens, stored responses).
  forwarded(f: Forwarded, opts: { stream?: boolean; asked?: Target } = {}): void {
    const d = this.#d
    const { log, result } = f
    d.stream = opts.stream ?? false
    d.attempts = log.attempts
    d.upstreamMs = log.upstreamMs
    d.retries.push(...log.retries)
    d.fallbacks.push(...log.fallbacks)
    d.outcomes.push(...log.outcomes)
    d.keyEvents.push(...log.keyEvents)
    d.headStart = log.headStart
    for (const t of log.tried)
      d.tracing?.attempts.push(attemptTrace(t.target, t.result, t.startedAt, t.endedAt))
    if (opts.asked) {
      d.provider = opts.asked.provider
      d.upstreamModel = opts.asked.upstreamModel
    }
    if (log.served) {
      d.provider = log.served.provider
      d.upstreamModel = log.served.upstreamModel
      d.providerKeyId = log.served.keyId ?? null
    }
    if (result.ok) {
      d.ttfbMs = result.value.ttfbMs
      pinServed(d, result.value.target)
    }
  }

  // The usage the row and the budget get: the upstream's own numbers, or the estimate when it sent none.
  // A stream cut short (`complete: false`) keeps the upstream's input numbers and counts at least the
  // output it delivered. `recount`: what the tokenizer may count exactly after the response.
  answered(a: {
    usage: Usage | null
    estimate: { prompt: number; completion: number }
    price: AppliedPrice | undefined
    complete: boolean
    recount: Recount | null
    // For the trace: the request, the reply's JSON (null: a stream) and the generated text.
    content: { body: Record<string, unknown>; reply: string | null; output: string | null }
  }): void {
    const d = this.#d
    const { usage, estimate, complete } = a
    const counted: Usage = usage
      ? { ...usage, output: complete ? usage.output : Math.max(usage.output, estimate.completion) }
      : { ...emptyUsage(), inputUncached: estimate.prompt, output: estimate.completion }
    d.usage = counted
    d.usageSource = usage === null ? 'estimated' : complete ? 'upstream' : 'partial'
    d.promptTokens = promptTokensOf(counted)
    d.completionTokens = counted.output
    d.tokensEstimated = usage === null
    d.tokensMethod = usage === null ? 'chars' : null
    d.price = a.price ?? null
    d.recount = a.recount
    chargeUsage(d)
    if (d.tracing) traceReply(d.tracing, a.content.body, a.content.reply, a.content.output)
  }

  // The overlapped guard refused the request after its first attempt had started (that call was cancelled).
  headRefused(): void {
    this.#d.headStart = 'refused'
  }

  // The response will end with a stream: the request closes once `ended` reports its end.
  streaming(): void {
    this.#done = new Promise<void>((resolve) => (this.#streamEnded = resolve))
  }

  // How the request ended when it did not end well (a code; a status when the response does not say it:
  // 499 for a client that left, 502 for a stream that broke after its 200), or a stream's end.
  ended(end: { status?: number; code?: UsageErrorCode } = {}): void {
    if (end.status !== undefined) this.#d.status = end.status
    if (end.code !== undefined) this.#d.errorCode = end.code
    this.#streamEnded()
  }

  // The response went out with `status` (kept when an event already set one); `code` when the gateway
  // answered with its own error.
  responded(status: number, code?: UsageErrorCode | 'internal_error'): void {
    this.#d.status ||= status
    if (code !== undefined) this.#d.errorCode = code
  }

  // After the response: the tokenizer's exact count when the upstream reported no usage.
  async recount(assets: Fetcher | undefined): Promise<void> {
    await countWithTokenizer(assets, this.#d)
  }
}
