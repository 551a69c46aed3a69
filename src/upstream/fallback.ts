import { err, ok, type Result } from '../lib/result'
import { attempt, type AttemptError, type AttemptOk } from './attempt'
import { PROVIDERS } from './providers'
import type { Operation } from './operation'
import type { ErrorDecision, OpenAIErrorObject } from './providers/types'
import { sameTarget, type HeadStart } from './head-start'
import type { Target } from './targets'

export type ForwardOk = AttemptOk & { target: Target; attempts: number }
export type ForwardError =
  // The upstream says the request itself is wrong (its provider's table decides): relayed to the
  // client in OpenAI's shape, no fallback.
  | { reason: 'client_error'; target: Target; attempts: number; status: number; error: OpenAIErrorObject }
  | { reason: 'all_targets_failed'; attempts: number; last: AttemptError; timedOut: boolean }
  | { reason: 'client_gone'; attempts: number }

export type ForwardEvents = {
  // Every attempt's result, for the provider's circuit breaker and health (upstream/circuit.ts), and
  // when it started (a trace's CLIENT span).
  onAttempt(target: Target, result: Result<AttemptOk, AttemptError>, startedAt: number): void
  onRetry(provider: string, reason: string): void
  onFallback(from: string, to: string): void
  // The same provider with another of its stored keys after this one was refused, or null.
  onKeyRefused?(target: Target, error: AttemptError): Target | null
}

const BACKOFF_BASE_MS = 100
const MAX_WAIT_MS = 10_000
const HEAD_DEADLINE_MS = 120_000
// Other keys of a pool tried after a key is refused, per target and request.
const MAX_REKEYS = 3

// One decision per failed attempt: the provider's table for an upstream status; a timeout or a broken
// connection is worth another try.
export function decide(target: Target, error: AttemptError): ErrorDecision {
  if (error.reason === 'rejected') return { action: 'relay', status: 400, error: error.error }
  if (error.reason !== 'upstream_status') return { action: 'retry' }
  const { status, body, headers } = error
  const decision = PROVIDERS[target.type].classifyError({ status, body, headers })
  // A provider's 401/403 is about the key we sent, never the client's: it is never relayed as theirs.
  if (decision.action === 'relay' && (decision.status === 401 || decision.status === 403))
    return { action: 'fallback' }
  return decision
}

function retryReason(error: AttemptError): string {
  return error.reason === 'upstream_status' ? String(error.status) : error.reason
}

// A back-off that ends early when the client goes away (the next attempt then returns client_gone).
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done)
  })
}

export async function forwardWithFallback(
  targets: Target[],
  op: Operation,
  signal: AbortSignal | undefined,
  readBody: boolean,
  events: ForwardEvents,
  // The first attempt, already started (upstream/head-start.ts); used only when its target is first.
  head?: HeadStart,
): Promise<Result<ForwardOk, ForwardError>> {
  let early = head && targets[0] && sameTarget(head.target, targets[0]) ? head : undefined
  if (head && !early) head.cancel()
  const deadline = Date.now() + HEAD_DEADLINE_MS
  let attempts = 0
  let last: AttemptError = { reason: 'network' }
  let timedOut = false
  for (const [index, first] of targets.entries()) {
    let target = first
    let rekeys = 0
    if (index > 0) events.onFallback(targets[index - 1]!.provider, target.provider)
    for (let retry = 0; retry <= target.maxRetries; retry++) {
      if (signal?.aborted) return err({ reason: 'client_gone', attempts })
      attempts++
      const startedAt = early?.startedAt ?? Date.now()
      const res = early ? await early.result : await attempt(target, op, signal, readBody)
      early = undefined
      events.onAttempt(target, res, startedAt)
      if (res.ok) return ok({ ...res.value, target, attempts })
      const error = res.error
      if (error.reason === 'client_gone') return err({ reason: 'client_gone', attempts })
      const decision = decide(target, error)
      if (decision.action === 'relay') {
        const { status, error: body } = decision
        return err({ reason: 'client_error', target, attempts, status, error: body })
      }
      last = error
      timedOut = error.reason === 'timeout'
      // A few other keys at most, within the head deadline: a pool must not turn one request into many calls.
      const rekeyed =
        rekeys < MAX_REKEYS && Date.now() < deadline ? events.onKeyRefused?.(target, error) : null
      if (rekeyed) {
        rekeys++
        // Another key of the same provider, at once: the refusal was about the key, not the request.
        events.onRetry(target.provider, retryReason(error))
        target = rekeyed
        retry--
        continue
      }
      if (decision.action === 'fallback' || retry === target.maxRetries) break
      const wait =
        error.reason === 'upstream_status' && error.retryAfterMs !== null
          ? error.retryAfterMs
          : BACKOFF_BASE_MS * 2 ** retry
      if (wait > MAX_WAIT_MS || Date.now() + wait > deadline) break
      events.onRetry(target.provider, retryReason(error))
      await sleep(wait, signal)
    }
  }
  return err({ reason: 'all_targets_failed', attempts, last, timedOut })
}
