import {
  claimDue,
  insertDeliveries,
  recordAttempt,
  subscribers,
  webhooksById,
  type DeliveryRow,
  type WebhookRow,
} from '../db/webhooks'
import { describeDbError } from '../db/errors'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import type { WebhookEvent } from './events'
import { webhookUrlProblem } from './address'
import { keyringFor } from '../secrets/keyring'
import { openFor, webhookSecret } from '../secrets/seal'
import { signatureHeader } from './sign'

// Deliveries happen after the response (waitUntil) or from the cron, never on a client's request path.
// A failed attempt is retried with exponential backoff (30 s, 1 min, 2 min, … at most 1 h apart, by the
// cron) for 24 hours, then the delivery is marked failed.
const TIMEOUT_MS = 5_000
const LEASE_MS = 60_000
const RETRY_FOR_MS = 24 * 3_600_000
const FIRST_BACKOFF_MS = 30_000
const MAX_BACKOFF_MS = 3_600_000
const CRON_BATCH = 50

const backoff = (attempts: number) => Math.min(FIRST_BACKOFF_MS * 2 ** (attempts - 1), MAX_BACKOFF_MS)

// The signing secret: opened with the configured SECRETS_KEY(s), or as stored on a row from before
// sealing; null when no configured key opens it (the attempt fails and is retried).
async function signingSecret(deps: Deps, hook: WebhookRow): Promise<string | null> {
  if (hook.kekVersion === null) return hook.secret
  const ring = await keyringFor(deps.config)
  return openFor(ring, webhookSecret(hook.id), { ciphertext: hook.secret, kekVersion: hook.kekVersion })
}

async function post(hook: WebhookRow, secret: string, delivery: DeliveryRow, now: number) {
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'nexusai-webhooks/1',
        'x-nexusai-event': delivery.eventType,
        'x-nexusai-delivery': String(delivery.id),
        'x-nexusai-signature': await signatureHeader(secret, delivery.body, now),
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    await res.body?.cancel()
    return { status: res.status, error: null }
  } catch (e) {
    const error =
      (e as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS} ms` : 'connection failed'
    return { status: null, error }
  }
}

async function attempt(deps: Deps, delivery: DeliveryRow, hook: WebhookRow): Promise<boolean> {
  const now = deps.now()
  // A url written while the deployment was local is never posted to once it is not: failed at once.
  const refused = webhookUrlProblem(hook.url, deps.config.ALLOW_PRIVATE_UPSTREAMS)
  const secret = refused ? null : await signingSecret(deps, hook)
  const { status, error } = refused
    ? { status: null, error: `url not allowed: ${refused}` }
    : secret === null
      ? { status: null, error: 'signing secret unreadable: no configured SECRETS_KEY opens it' }
      : await post(hook, secret, delivery, now)
  const ok = status !== null && status >= 200 && status < 300
  const attempts = delivery.attempts + 1
  const done = ok || refused !== null || now - new Date(delivery.createdAt).getTime() >= RETRY_FOR_MS
  await recordAttempt(deps.db, delivery.id, {
    attempts,
    lastStatus: status,
    lastError: ok ? null : (error ?? `HTTP ${status}`),
    status: ok ? 'delivered' : done ? 'failed' : 'pending',
    deliveredAt: ok ? new Date(now) : null,
    nextAttemptAt: new Date(now + (done ? 0 : backoff(attempts))),
  })
  if (!ok) log('warn', 'webhook delivery failed', { delivery: delivery.id, status, error, attempts })
  return ok
}

// Records the events for every enabled webhook subscribed to them and makes the first attempt at once.
// Events already recorded for a webhook (the same announcement decided twice) are not sent again.
export async function emit(deps: Deps, events: WebhookEvent[]): Promise<void> {
  if (events.length === 0) return
  const hooks = await subscribers(deps.db, [...new Set(events.map((e) => e.type))])
  const now = deps.now()
  const rows = hooks.flatMap((hook) =>
    events
      .filter((e) => hook.events.includes(e.type))
      .map((e) => ({
        webhookId: hook.id,
        eventId: e.id,
        eventType: e.type,
        body: JSON.stringify(e),
        // Claimed by this sender: the cron leaves it alone until the lease runs out.
        nextAttemptAt: new Date(now + LEASE_MS),
        createdAt: new Date(now),
      })),
  )
  const fresh = await insertDeliveries(deps.db, rows)
  const byId = new Map(hooks.map((h) => [h.id, h]))
  await Promise.allSettled(fresh.map((d) => attempt(deps, d, byId.get(d.webhookId)!)))
}

// The cron's share: due retries (and first attempts whose sender died), a batch per run.
export async function retryDue(deps: Deps): Promise<number> {
  const now = deps.now()
  const due = await claimDue(deps.db, new Date(now), new Date(now + LEASE_MS), CRON_BATCH)
  const hooks = await webhooksById(deps.db, [...new Set(due.map((d) => d.webhookId))])
  const results = await Promise.allSettled(
    due.map((d) => {
      const hook = hooks.get(d.webhookId)
      return hook?.enabled
        ? attempt(deps, d, hook)
        : recordAttempt(deps.db, d.id, { status: 'failed', lastError: 'webhook disabled' })
    }),
  )
  return results.length
}

// Emission never fails the caller: it runs after the response, and a broken store only loses the alert.
export async function emitSafely(deps: Deps, events: WebhookEvent[], requestId?: string): Promise<void> {
  try {
    await emit(deps, events)
  } catch (error) {
    log('warn', 'webhook events not recorded', { request_id: requestId, ...describeDbError(error) })
  }
}
