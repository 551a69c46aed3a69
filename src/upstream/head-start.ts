import type { Result } from '../lib/result'
import { attempt, type AttemptError, type AttemptOk } from './attempt'
import type { Target } from './targets'

// A request's first upstream attempt, started while the guard's Redis step is still in flight
// (pipeline/overlap.ts decides when). With Redis far away the request then waits for the slower of the
// two instead of their sum. Nothing of it reaches the client unless the guard admits the request and
// puts the same target (provider, key and model) first; otherwise it is cancelled. An upstream may bill
// the part of a prompt it read before the cancel: that is the trade-off GUARD_OVERLAP sets.
export type HeadStart = {
  target: Target
  startedAt: number
  result: Promise<Result<AttemptOk, AttemptError>>
  cancel(): void
}

export function startHead(
  target: Target,
  op: Parameters<typeof attempt>[1],
  signal: AbortSignal | undefined,
  readBody: boolean,
): HeadStart {
  const controller = new AbortController()
  const cancel = () => controller.abort()
  if (signal?.aborted) cancel()
  else signal?.addEventListener('abort', cancel, { once: true })
  const startedAt = Date.now()
  const result = attempt(target, op, controller.signal, readBody)
  return { target, startedAt, result, cancel }
}

export const sameTarget = (a: Target, b: Target) =>
  a.providerId === b.providerId &&
  a.baseUrl === b.baseUrl &&
  (a.keyId ?? null) === (b.keyId ?? null) &&
  a.apiKey === b.apiKey &&
  a.upstreamModel === b.upstreamModel
