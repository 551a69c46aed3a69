import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import type { Deps } from '../deps'
import { GatewayError } from '../errors'
import { log } from '../lib/log'
import { requestIncrements } from '../metrics/counters'
import { circuitOutcomes } from '../upstream/circuit'
import type { Route } from '../usage/draft'
import { Meter } from '../usage/meter'
import { pinWrite } from '../usage/affinity'
import { telemetryOf } from '../telemetry/exporter'
import { draftSpans, newTracing } from '../telemetry/trace'
import { traceContext } from '../telemetry/traceparent'
import { finishLater } from '../usage/batch'
import { recordKeyEvents } from '../usage/key-events'
import { toRow } from '../usage/record'
import type { Hold } from '../redis/scripts/guard'
import type { EconomySettlement } from '../redis/scripts/finish'
import { usdToPico } from '../lib/money'
import { balanceEvents } from '../webhooks/balance-events'
import type { KeyRecord } from '../db/keys'
import { dayTag, monthTag } from '../lib/time'
import { alertBudgets, budgetEvents } from '../webhooks/alerts'
import { emitSafely } from '../webhooks/deliver'
import { circuitEvents, keyInvalidEvents } from '../webhooks/provider-events'

// Opens the request's Meter right after authentication and, once the response (or its stream)
// is over, settles the guard's hold, writes the usage row and counts the metrics — all in waitUntil, in
// a batch with the other requests finishing around the same time (usage/batch.ts).
// That work is registered before the request runs: on the production runtime a client that leaves
// before the response head cancels the handler (its continuation never runs), and only work already
// registered with waitUntil, woken by the request's abort signal, still happens.
export function account(route: Route) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const deps = c.get('deps')
    const telemetry = telemetryOf(deps)
    const tracing = telemetry
      ? newTracing(traceContext(c.req.header('traceparent')), telemetry.captureContent)
      : null
    const ids = { eventId: crypto.randomUUID(), requestId: c.get('requestId') }
    const meter = new Meter(ids, c.get('apiKey'), route, deps.now(), tracing)
    c.set('meter', meter)
    c.set('hold', null)
    c.set('limitHeaders', {})
    let handled: () => void = () => {}
    const responded = new Promise<'handled'>((resolve) => (handled = () => resolve('handled')))
    c.executionCtx.waitUntil(
      Promise.race([responded, clientGone(c.req.raw.signal)]).then(async (first) => {
        // A runtime that lets the handler go on (wrangler dev, tests) finishes it at once, since the
        // upstream call stops on the same signal; on the edge the grace just runs out.
        if (first === 'gone' && (await Promise.race([responded, sleep(GONE_GRACE_MS)])) !== 'handled')
          meter.ended({ status: 499, code: 'client_disconnected' })
        await meter.done
        await closeRequest(deps, meter, c.get('hold'), c.get('apiKey'))
      }),
    )
    try {
      await next()
      meter.responded(
        c.res.status,
        c.error instanceof GatewayError
          ? c.error.upstream
            ? 'upstream_client_error'
            : c.error.code
          : c.error
            ? 'internal_error'
            : undefined,
      )
      const { startedAt, upstreamMs } = meter.view
      const gatewayMs = Math.max(0, deps.now() - startedAt - upstreamMs)
      for (const [name, value] of Object.entries(c.get('limitHeaders'))) c.res.headers.set(name, value)
      c.res.headers.set('server-timing', `gateway;dur=${gatewayMs}, upstream;dur=${upstreamMs}`)
    } finally {
      handled()
    }
  })
}

const GONE_GRACE_MS = 1000
const sleep = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms))

// Resolves when the client goes away (never when the request has no signal or it never aborts).
function clientGone(signal: AbortSignal | undefined): Promise<'gone'> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve('gone')
    else signal?.addEventListener('abort', () => resolve('gone'), { once: true })
  })
}

// What the request reserved in its rolling windows and against its project's prepaid balance, and what
// the balance.* alerts need; a prepaid project's balance takes the charge even when nothing was held
// (Redis was unreachable and REDIS_FAIL_OPEN admitted the request).
function economyOf(hold: Hold | null, key: KeyRecord, balanceRefused: boolean): EconomySettlement {
  const project = key.project
  return {
    windows: hold?.windows ?? [],
    reservedPico: hold?.reservedPico ?? 0n,
    balance: project?.prepaidSince
      ? {
          projectId: key.projectId,
          member: hold?.balance?.member ?? null,
          alertPico: project.balanceAlertUsd === null ? null : usdToPico(project.balanceAlertUsd),
          refused: balanceRefused,
        }
      : null,
  }
}

async function closeRequest(deps: Deps, meter: Meter, hold: Hold | null, key: KeyRecord): Promise<void> {
  const endedAt = deps.now()
  const period = hold?.period ?? { day: dayTag(endedAt), month: monthTag(endedAt) }
  await meter.recount(deps.assets).catch((error) =>
    log('warn', 'tokenizer unavailable; tokens estimated from characters', {
      request_id: meter.view.requestId,
      error: String(error),
    }),
  )
  const draft = meter.view
  // What upstreams said about stored provider keys is rare and goes on beside the batch.
  const keyEvents = draft.keyEvents.length
    ? recordKeyEvents(deps, draft.requestId, draft.keyEvents).then(
        () => [],
        (error: unknown) => [error],
      )
    : []
  // A failed call has no tokens and no cost, so settling it releases the hold; a stream cut short is
  // charged for what the upstream produced before it ended.
  const { moves, alerts, balance, failures } = await finishLater(deps, {
    settlement: {
      keyId: draft.apiKeyId,
      projectId: draft.projectId,
      hold,
      actual: { tokens: draft.promptTokens + draft.completionTokens, costPico: draft.chargePico },
      outcomes: circuitOutcomes(draft.outcomes, draft.apiKeyId, draft.keyEvents),
      economy: economyOf(hold, key, draft.balanceRefused),
      period,
      alerts: alertBudgets(key, draft.budgetRefused),
      pin: pinWrite(draft),
    },
    increments: requestIncrements(draft, endedAt),
    row: toRow(draft, endedAt),
    spans: draft.tracing?.context.sampled ? draftSpans(draft, draft.tracing, endedAt) : undefined,
  })
  log('info', 'request', {
    request_id: draft.requestId,
    route: draft.route,
    model: draft.model,
    provider: draft.provider,
    status: draft.status,
    error_code: draft.errorCode,
    latency_ms: endedAt - draft.startedAt,
    attempts: draft.attempts,
    tokens: draft.promptTokens + draft.completionTokens,
  })
  for (const move of moves) {
    log(move.to === 'open' ? 'warn' : 'info', 'circuit transition', {
      request_id: draft.requestId,
      provider: draft.outcomes[move.outcome]?.target.provider,
      to: move.to,
    })
  }
  for (const failure of [...failures, ...(await keyEvents)])
    log('warn', 'after-response step failed', { request_id: draft.requestId, error: String(failure) })
  // Webhooks last, still after the response: a slow or failing receiver delays nothing a client waits for.
  await emitSafely(
    deps,
    [
      ...budgetEvents(alerts, key, period, endedAt),
      ...balanceEvents(balance, key, endedAt),
      ...circuitEvents(moves, draft.outcomes, endedAt),
      ...keyInvalidEvents(draft.keyEvents, endedAt),
    ],
    draft.requestId,
  )
}
