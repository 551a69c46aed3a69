import { redactSecrets, removeSecrets } from '../lib/redact'
import { err, type Result } from '../lib/result'
import { outcomeOf, type AttemptRecord, type RequestShape } from './circuit'
import { requestedCompletion } from '../usage/tokens'
import type { AttemptError, AttemptOk } from './attempt'
import { forwardWithFallback, type ForwardError, type ForwardOk } from './fallback'
import { sameTarget, type HeadStart } from './head-start'
import { refusedStoredKey, rekey, type KeyEvent } from './key-faults'
import { serves, type Operation } from './operation'
import type { Target } from './targets'

export type { Operation }

// What the upstreams did for one request, for its usage row, metrics, breakers and key pools.
export type ForwardLog = {
  attempts: number
  retries: { provider: string; reason: string }[]
  fallbacks: { from: string; to: string }[]
  // What each attempt said about its provider's health (the circuit breakers).
  outcomes: AttemptRecord[]
  // What upstreams said about stored provider keys on the way (recorded after the response).
  keyEvents: KeyEvent[]
  // Time spent waiting on upstreams for the head (and the body, when it was read).
  upstreamMs: number
  // The target that answered, or that refused the request itself; null when none did.
  served: Target | null
  // Every attempt as it went, in order (telemetry's upstream spans).
  tried: Tried[]
  // A head start given (pipeline/overlap.ts): used, or cancelled because another target came first.
  headStart: 'used' | 'reordered' | null
}

export type Tried = {
  target: Target
  result: Result<AttemptOk, AttemptError>
  startedAt: number
  endedAt: number
}

// Removes every provider key this request sent from text going to the client: `message` for a message
// quoting an upstream (anything shaped like a key goes too), `body` for bytes relayed as they came.
export type Redact = { message(text: string): string; body(text: string): string }

export type Forwarded = {
  // `unserved`: no target's provider offers the operation; nothing was sent.
  result: Result<ForwardOk, ForwardError | { reason: 'unserved'; attempts: 0 }>
  log: ForwardLog
  redact: Redact
}

// What about the request bears on whose fault a timeout is (upstream/circuit.ts slowByRequest).
function requestShape(op: Operation): RequestShape | undefined {
  if (op.kind !== 'exchange' || op.exchange.route === 'embeddings') return undefined
  return { stream: op.exchange.stream, requestedOutputTokens: requestedCompletion(op.exchange.body as never) }
}

// The one way to an upstream: the targets in order, with retries, fallback and key-pool turns
// (upstream/fallback.ts); no redirect followed (attempt.ts); breaker outcomes and key events logged; the
// keys sent removed from whatever comes back (a non-streamed body here, a stream through `redact`), and
// a provider's 401/403 never relayed as the client's own (fallback.ts `decide`). `readBody`: read a 2xx
// body within the attempt (everything but a stream).
export async function forward(
  candidates: readonly Target[],
  op: Operation,
  opts: { signal?: AbortSignal; readBody: boolean; head?: HeadStart },
): Promise<Forwarded> {
  const sent: string[] = []
  const redact: Redact = {
    message: (text) => redactSecrets(text, sent),
    body: (text) => removeSecrets(text, sent),
  }
  const log: ForwardLog = {
    attempts: 0,
    retries: [],
    fallbacks: [],
    outcomes: [],
    keyEvents: [],
    upstreamMs: 0,
    served: null,
    tried: [],
    headStart: null,
  }
  const targets = candidates.filter((t) => serves(t, op))
  const { head } = opts
  if (head) log.headStart = targets[0] && sameTarget(head.target, targets[0]) ? 'used' : 'reordered'
  if (targets.length === 0) return { result: err({ reason: 'unserved', attempts: 0 }), log, redact }
  const started = Date.now()
  const triedKeys = new Set<string>()
  const result = await forwardWithFallback(
    targets,
    op,
    opts.signal,
    opts.readBody,
    {
      onAttempt: (target, res, startedAt) => {
        log.tried.push({ target, result: res, startedAt, endedAt: Date.now() })
        if (target.apiKey && !sent.includes(target.apiKey)) sent.push(target.apiKey)
        if (refusedStoredKey(target, res)) return
        const outcome = outcomeOf(target, res, requestShape(op))
        if (outcome) log.outcomes.push({ target, outcome })
      },
      onRetry: (provider, reason) => log.retries.push({ provider, reason }),
      onFallback: (from, to) => log.fallbacks.push({ from, to }),
      onKeyRefused: (target, error) => rekey(target, error, triedKeys, log.keyEvents),
    },
    head,
  )
  log.upstreamMs = Date.now() - started
  log.attempts = result.ok ? result.value.attempts : result.error.attempts
  if (result.ok) {
    log.served = result.value.target
    const { text } = result.value
    return {
      result: text === null ? result : { ok: true, value: { ...result.value, text: redact.body(text) } },
      log,
      redact,
    }
  }
  const error = result.error
  if (error.reason !== 'client_error') return { result, log, redact }
  log.served = error.target
  const scrub = (text: string | null) => text && redact.message(text)
  const { message, type, param, code } = error.error
  const safe = {
    message: redact.message(message),
    type: redact.message(type),
    param: scrub(param),
    code: scrub(code),
  }
  return { result: err({ ...error, error: safe }), log, redact }
}
