import { err, ok, type Result } from '../lib/result'
import { attempt, type AttemptError, type AttemptOk } from './attempt'
import type { UpstreamRoute } from './providers'
import type { Target } from './targets'

export type ForwardOk = AttemptOk & { target: Target; attempts: number }
export type ForwardError =
  // The upstream says the request itself is wrong (400/404/413/422…): relayed to the client, no fallback.
  | {
      reason: 'client_error'
      target: Target
      attempts: number
      status: number
      body: string
      contentType: string
    }
  | { reason: 'all_targets_failed'; attempts: number; last: AttemptError; timedOut: boolean }
  | { reason: 'client_gone'; attempts: number }

export type ForwardEvents = {
  onRetry(provider: string, reason: string): void
  onFallback(from: string, to: string): void
}

const BACKOFF_BASE_MS = 100
const MAX_WAIT_MS = 10_000
const HEAD_DEADLINE_MS = 120_000

export function isRetryable(error: AttemptError): boolean {
  if (error.reason !== 'upstream_status') return error.reason !== 'client_gone'
  return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500
}

// Only these say the request itself is wrong; they are relayed to the client without fallback.
const CLIENT_FAULTS = new Set([400, 404, 413, 422])

// Any other 4xx (401/403 our key, 402 the provider's billing, 405/410/415 a broken base URL…) is the
// provider's problem: retrying it cannot help, the next provider might.
function isProviderFault(error: AttemptError): boolean {
  return error.reason === 'upstream_status' && !isRetryable(error) && !CLIENT_FAULTS.has(error.status)
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
  route: UpstreamRoute,
  body: Record<string, unknown>,
  signal: AbortSignal | undefined,
  readBody: boolean,
  events: ForwardEvents,
): Promise<Result<ForwardOk, ForwardError>> {
  const deadline = Date.now() + HEAD_DEADLINE_MS
  let attempts = 0
  let last: AttemptError = { reason: 'network' }
  let timedOut = false
  for (const [index, target] of targets.entries()) {
    if (index > 0) events.onFallback(targets[index - 1]!.provider, target.provider)
    for (let retry = 0; retry <= target.maxRetries; retry++) {
      if (signal?.aborted) return err({ reason: 'client_gone', attempts })
      attempts++
      const res = await attempt(target, route, body, signal, readBody)
      if (res.ok) return ok({ ...res.value, target, attempts })
      const error = res.error
      if (error.reason === 'client_gone') return err({ reason: 'client_gone', attempts })
      if (error.reason === 'upstream_status' && CLIENT_FAULTS.has(error.status)) {
        const { status, body: text, contentType } = error
        return err({ reason: 'client_error', target, attempts, status, body: text, contentType })
      }
      last = error
      timedOut = error.reason === 'timeout'
      if (isProviderFault(error) || retry === target.maxRetries) break
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
