import { createMiddleware } from 'hono/factory'
import { configVersion } from '../cache'
import type { AppEnv } from '../context'
import type { KeyRecord, KeyRow } from '../db/keys'
import type { ProjectRow } from '../db/projects'
import { GatewayError, quoted } from '../errors'
import { log } from '../lib/log'
import { maxCostPico, MICROS_TO_PICO, usdToMicros, usdToPico } from '../lib/money'
import { dayTag, formatResetDuration, monthTag } from '../lib/time'
import { labels } from '../metrics/counters'
import {
  holdOf,
  runGuard,
  type GuardDecision,
  type GuardInput,
  type LimitState,
  type ScopeLimits,
  type WindowInput,
} from '../redis/scripts/guard'
import { keys } from '../redis/keys'
import { decodePin, MIN_CACHEABLE_TOKENS, seededKey, seededRandom, inFixedOrder } from '../upstream/affinity'
import { orderTargets, strategyOf } from '../upstream/route-order'
import { coolSharedKeys } from '../upstream/key-faults'
import type { Route } from '../usage/draft'
import { rebuildProjectSpend, rebuildSpend } from '../usage/spend'
import type { UsageWindow } from '../../drizzle/schema'
import { syncBalance } from '../billing/balance'
import { chargeCeilPico, ratioMillionths } from '../billing/charge'
import { bucketMs } from '../billing/windows'
import type { Scope } from '../redis/keys'
import type { Target } from '../upstream/targets'
import { estimateRequest, reservedCompletion } from '../usage/tokens'
import { olderVersion, resolveRoute } from './allow-model'
import { resolveKey } from './authenticate'
import { headStartTarget, noteCircuits, noteRefused, observeGuardMs } from './overlap'
import { fromStore } from './stores'

// A reservation outlives any upstream call (heads time out, streams go idle) but not a crashed isolate.
const RESERVATION_TTL_MS = 15 * 60_000
const MAX_ROUNDS = 4

// A half-open probe's lease outlives the probe's own attempts; if it never reports, another request probes.
const probeLeaseMs = (t: Target) => t.timeoutMs * (t.maxRetries + 1) + 5_000

const budgetPico = (usd: string | null) => (usd === null ? null : BigInt(usdToMicros(usd)) * MICROS_TO_PICO)

const limitsOf = (row: KeyRow | ProjectRow | null): ScopeLimits => ({
  rpm: row?.rpmLimit ?? null,
  tpm: row?.tpmLimit ?? null,
  dailyPico: budgetPico(row?.dailyBudget ?? null),
  monthlyPico: budgetPico(row?.monthlyBudget ?? null),
})

// Pico-USD for people: dollars with up to 6 decimals (at least 2), rounded up to the micro-dollar.
const usd = (pico: number | bigint) => {
  const micros = (BigInt(Math.round(Number(pico))) + MICROS_TO_PICO - 1n) / MICROS_TO_PICO
  const text = (Number(micros) / 1e6).toFixed(6)
  return `$${text.replace(/0{1,4}$/, '')}`
}

// x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the limits the key has, from the
// script's view of both of its windows.
function limitHeaders(key: KeyRecord, limits: LimitState): Record<string, string> {
  const headers: Record<string, string> = {}
  const trio = (unit: string, limit: number, remaining: number, resetMs: number) => {
    headers[`x-ratelimit-limit-${unit}`] = String(limit)
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, remaining))
    headers[`x-ratelimit-reset-${unit}`] = formatResetDuration(resetMs)
  }
  if (key.rpmLimit !== null)
    trio('requests', key.rpmLimit, limits.requests.remaining, limits.requests.resetMs)
  if (key.tpmLimit !== null) trio('tokens', key.tpmLimit, limits.tokens.remaining, limits.tokens.resetMs)
  return headers
}

// OpenAI's shapes: a rate limit is retryable (Retry-After), except a request that can never fit the
// TPM limit; an exhausted budget is not (x-should-retry: false, which the OpenAI SDK honours). The
// message and x-nexusai-limit-scope say whether the key's own limit or its project's was hit.
function refuse(
  key: KeyRecord,
  refusal: Extract<GuardDecision, { kind: 'refused' }>,
  ask: { tokens: number; costPico: bigint },
): never {
  const project = refusal.scope.kind === 'project'
  const whose = project ? `this key's project '${refusal.scope.id}'` : 'this key'
  const headers = { ...limitHeaders(key, refusal.limits), 'x-nexusai-limit-scope': refusal.scope.kind }
  if (refusal.by === 'window') refuseByWindow(whose, refusal, headers, ask)
  if (refusal.by === 'balance') {
    throw new GatewayError({
      code: 'insufficient_quota',
      message:
        refusal.leftPico <= 0
          ? `The prepaid balance of ${whose} is used up. Top it up (or redeem a code: POST /v1/redeem) to continue.`
          : `This request's estimated charge (${usd(ask.costPico)}, from the prompt and max_tokens, or the model's maximum output when max_tokens is absent) is more than the prepaid balance of ${whose} has left (${usd(refusal.leftPico)}). Lower max_tokens, or top the balance up.`,
      headers: { ...headers, 'x-should-retry': 'false' },
    })
  }
  if (refusal.by !== 'budget') {
    const { by, limit, remaining, retryMs } = refusal
    const unit = by === 'rpm' ? 'requests' : 'tokens'
    if (by === 'tpm' && ask.tokens > limit) {
      throw new GatewayError({
        code: 'rate_limit_exceeded',
        message: `Request too large: it is estimated at ${ask.tokens} tokens (prompt + max_tokens), above the limit of ${whose} of ${limit} tokens per minute. Lower max_tokens or shorten the prompt.`,
        headers: { ...headers, 'x-should-retry': 'false' },
        type: unit,
      })
    }
    throw new GatewayError({
      code: 'rate_limit_exceeded',
      message: `Rate limit reached for ${unit} per minute of ${whose}: limit ${limit}, remaining ${remaining}. Please try again in ${formatResetDuration(retryMs)}.`,
      headers: {
        ...headers,
        'retry-after': String(Math.max(1, Math.ceil(retryMs / 1000))),
        'retry-after-ms': String(Math.max(0, retryMs)),
      },
      type: unit,
    })
  }
  const { window, limitPico: limit, leftPico: left } = refusal
  const resets = `It resets at the start of the next UTC ${window === 'daily' ? 'day' : 'month'}.`
  throw new GatewayError({
    code: 'insufficient_quota',
    message:
      left <= 0
        ? `You exceeded the ${window} budget of ${whose} (${usd(limit)}). ${resets}`
        : `This request's estimated cost (${usd(ask.costPico)}, from the prompt and max_tokens, or the model's maximum output when max_tokens is absent) is more than what is left of the ${window} budget of ${whose} (${usd(left)} of ${usd(limit)}). Lower max_tokens, or wait: ${resets}`,
    headers: { ...headers, 'x-should-retry': 'false' },
  })
}

// A rolling window is full: retry when enough of it has aged out, unless this request can never fit.
function refuseByWindow(
  whose: string,
  refusal: Extract<GuardDecision, { by: 'window' }>,
  headers: Record<string, string>,
  ask: { costPico: bigint },
): never {
  const { period, over, limit, retryMs } = refusal
  const what = over === 'usd' ? `spend (${usd(limit)})` : `requests (${limit})`
  if (retryMs === null)
    throw new GatewayError({
      code: 'rate_limit_exceeded',
      message:
        over === 'usd'
          ? `This request's estimated charge (${usd(ask.costPico)}) is more than the ${period} spend limit of ${whose} (${usd(limit)}). Lower max_tokens.`
          : `The ${period} request limit of ${whose} is ${limit}.`,
      headers: { ...headers, 'x-should-retry': 'false' },
    })
  throw new GatewayError({
    code: 'rate_limit_exceeded',
    message: `The rolling ${period} limit on ${what} of ${whose} is reached. Please try again in ${formatResetDuration(retryMs)}.`,
    headers: {
      ...headers,
      'retry-after': String(Math.max(1, Math.ceil(retryMs / 1000))),
      'retry-after-ms': String(Math.max(0, retryMs)),
    },
  })
}

const windowsOf = (scope: Scope, list: UsageWindow[] | null | undefined): WindowInput[] =>
  (list ?? []).map((w) => ({
    scope,
    period: w.period,
    bucketMs: bucketMs(w.period),
    limitPico: w.limit_usd === null ? null : usdToPico(w.limit_usd),
    limitRequests: w.limit_requests,
  }))

const hasBudget = (limits: Pick<KeyRow, 'dailyBudget' | 'monthlyBudget'> | null) =>
  limits !== null && (limits.dailyBudget !== null || limits.monthlyBudget !== null)

// Whether only priced targets may serve: anything that counts dollars (budgets, a balance, windows).
const mustPrice = (key: KeyRecord) =>
  hasBudget(key) ||
  hasBudget(key.project) ||
  Boolean(key.project?.prepaidSince) ||
  [...(key.windows ?? []), ...(key.project?.windows ?? [])].some((w) => w.limit_usd !== null)

// Routes whose handler is the relay, which waits for an overlapped guard's decision (pipeline/overlap.ts).
const OVERLAPPING = new Set<GuardRoute>(['chat', 'messages', 'embeddings'])

// What a budget reserves before the call: the most any candidate target could cost, since which one
// answers is decided later (the settlement uses the one that did).
// 'lookup': a call that generates nothing (reading a stored response): rate-limited, never reserved.
export type GuardRoute = Exclude<Route, 'models' | 'gemini'> | 'lookup'

function reservationPico(
  route: GuardRoute,
  body: Record<string, unknown>,
  prompt: number,
  targets: Target[],
): bigint {
  let most = 0n
  for (const target of targets) {
    if (route === 'count_tokens' || route === 'lookup') return 0n
    const completion = route === 'embeddings' ? 0 : reservedCompletion(body, target.maxOutputTokens)
    const cost = maxCostPico(prompt, completion, target.price)
    if (cost > most) most = cost
  }
  return most
}

// RPM, TPM and both budgets of the key and of its project in one atomic Redis step (one round trip on a
// warm key). A stale cache or a missing spend counter costs extra rounds, never a wrong decision. The
// same step reads the candidate providers' circuit breakers, which reorder the targets.
export function guard(route: GuardRoute) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const deps = c.get('deps')
    const meter = c.get('meter')
    const requestId = c.get('requestId')
    const estimate = estimateRequest(route, c.get('body'))
    c.set('estimate', estimate)
    const tokens = estimate.prompt + estimate.completion
    // The conversation's pin rides in the same step (docs/affinity.md); a stored response's follow-up
    // reads the response's pin instead (pipeline/pin-response.ts keeps it to that provider).
    const conversation =
      deps.config.AFFINITY_DISABLED || estimate.prompt < MIN_CACHEABLE_TOKENS
        ? undefined
        : c.get('conversation')
    const previous = (c.get('inbound') ?? c.get('body')).previous_response_id
    const pinKey =
      typeof previous === 'string' ? keys.response(previous) : conversation ? keys.pin(conversation.id) : null
    let key = c.get('apiKey')
    let version = c.get('configVersion')
    // Whether `version` is known to be the current one (the script said so, or it was just read).
    let current = false
    // The key and its route as of `fresh`, the config version Redis holds now.
    const reload = async (fresh: string) => {
      version = fresh
      current = true
      key = (await resolveKey(deps, requestId, key.keyHash, version)).key
      const resolved = await resolveRoute(deps, requestId, key, String(c.get('body').model), version)
      c.set('apiKey', key)
      c.set('targets', resolved.targets)
      version = olderVersion(version, resolved.version)
    }
    // Under a budget only targets with a price may serve: one without would cost 0 and the budget would
    // mean nothing.
    const servable = () => (mustPrice(key) ? c.get('targets').filter((t) => t.price) : c.get('targets'))
    // The first attempt may start while this step is in flight (pipeline/overlap.ts); the step then puts
    // that target first when its breaker allows, as it would a conversation's pin.
    const early =
      OVERLAPPING.has(route) && typeof previous !== 'string'
        ? headStartTarget(deps.config.GUARD_OVERLAP, key.id, servable(), deps.now(), conversation?.id)
        : null
    const admit = async (): Promise<void> => {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const targets = servable()
        if (targets.length === 0) {
          // Decided from the isolate's cache: a price set a moment ago must apply on this request.
          if (!current) {
            const latest = await fromStore('redis', requestId, () => configVersion(deps))
            current = true
            if (latest !== version) {
              await reload(latest)
              continue
            }
          }
          throw new GatewayError({
            code: 'service_unavailable',
            message: `No price is in effect for the model ${quoted(String(c.get('body').model))} or the upstream models it routes to, so this key's (or its project's) budget cannot be enforced. An operator must set one (PUT /admin/prices/{model}).`,
            headers: { 'x-should-retry': 'false' },
          })
        }
        const now = deps.now()
        const input: GuardInput = {
          version,
          now,
          // The request's event id: unique, and a round that is refused or retried commits nothing under it.
          ticket: meter.view.eventId,
          tokens,
          // The worst-case charge: the most the request can cost × the project's price ratio, rounded up.
          costPico: chargeCeilPico(
            reservationPico(route, c.get('body'), estimate.prompt, targets),
            ratioMillionths(key.project?.priceRatio),
          ),
          period: { day: dayTag(now), month: monthTag(now) },
          reservationTtlMs: RESERVATION_TTL_MS,
          scopes: [
            { scope: { kind: 'key', id: key.id }, limits: limitsOf(key) },
            { scope: { kind: 'project', id: key.projectId }, limits: limitsOf(key.project) },
          ],
          circuits: targets.map((t) => ({
            providerId: t.providerId,
            probeLeaseMs: probeLeaseMs(t),
            label: labels({ provider: t.provider }),
            requester: key.id,
          })),
          windows: [
            ...windowsOf({ kind: 'key', id: key.id }, key.windows),
            ...windowsOf({ kind: 'project', id: key.projectId }, key.project?.windows),
          ],
          balance: key.project?.prepaidSince ? { projectId: key.projectId } : null,
          pinKey,
        }
        c.set('hold', holdOf(input))
        let decision: GuardDecision
        try {
          const sent = Date.now()
          decision = await runGuard(deps.config, input)
          observeGuardMs(Date.now() - sent)
        } catch (error) {
          c.set('hold', null)
          if (!deps.config.REDIS_FAIL_OPEN) {
            log('error', 'redis unavailable; refusing (fail-closed)', {
              request_id: requestId,
              error: (error as Error).message,
            })
            throw new GatewayError({
              code: 'service_unavailable',
              message: 'Rate limits cannot be checked right now. Please retry shortly.',
            })
          }
          log('warn', 'redis unavailable; admitting without limits (REDIS_FAIL_OPEN)', {
            request_id: requestId,
          })
          return
        }
        if (decision.kind !== 'ok') c.set('hold', null)
        if (decision.kind === 'stale') {
          await reload(decision.version)
          continue
        }
        if (decision.kind === 'rebuild') {
          const { scope } = decision
          await fromStore('postgres', requestId, () =>
            scope.kind === 'project'
              ? rebuildProjectSpend(deps, scope.id, now)
              : rebuildSpend(deps, scope.id, now),
          )
          continue
        }
        if (decision.kind === 'rebuild-balance') {
          const since = key.project?.prepaidSince
          if (since)
            await fromStore('postgres', requestId, () => syncBalance(deps, key.projectId, new Date(since)))
          continue
        }
        if (decision.kind === 'refused') {
          noteRefused(key.id, deps.now())
          meter.refused({
            by: decision.by,
            budget:
              decision.by === 'budget' ? { scope: decision.scope.kind, window: decision.window } : undefined,
          })
          refuse(key, decision, { tokens, costPico: input.costPico })
        }
        c.set('limitHeaders', limitHeaders(key, decision.limits))
        decision.circuits.forEach(({ route, moved }, i) => {
          const provider = targets[i]?.provider
          if (moved) log('info', 'circuit transition', { request_id: requestId, provider, to: 'half_open' })
          if (route === 'probe') log('info', 'circuit probe', { request_id: requestId, provider })
        })
        noteCircuits(targets, decision.circuits)
        let pin = null
        if (typeof previous === 'string') c.set('responsePin', decision.pin)
        else if (conversation) {
          pin = decodePin(decision.pin)
          meter.conversation(conversation.id, pin)
        }
        // Pooled keys cool down on the isolate's wall clock (secrets/pool.ts). Stored keys another
        // isolate saw cooled by a 429 are set aside here too, before the first attempt.
        const wall = Date.now()
        const rekeyed = targets.map((t, i) => coolSharedKeys(t, decision.circuits[i]?.coolingKeys, wall))
        // A started first attempt goes first like a pin, when its breaker allows (pipeline/overlap.ts).
        const preferred = pin ?? (early && { providerId: early.providerId, keyId: early.keyId ?? null })
        // A conversation's draws and keys are seeded with its identity (upstream/affinity.ts): the same
        // target and key in every isolate before its first pin, and the same fallback after a move even
        // when that move's pin write is lost.
        const seed = conversation?.id
        const [candidates, reads] = seed
          ? inFixedOrder(rekeyed, decision.circuits)
          : [rekeyed, decision.circuits]
        const random = seed ? seededRandom(seed) : Math.random
        const ordered = orderTargets(candidates, reads, strategyOf(candidates), random, preferred, wall)
        if (seed)
          ordered.forEach((t, i) => {
            const held =
              i === 0 && preferred?.providerId === t.providerId && preferred.keyId === (t.keyId ?? null)
            if (!held) ordered[i] = seededKey(t, seed, wall)
          })
        c.set('targets', ordered)
        return
      }
      throw new GatewayError({
        code: 'service_unavailable',
        message: 'The gateway configuration is changing; please retry.',
      })
    }
    if (!early) {
      await admit()
      return next()
    }
    // The handler (pipeline/relay.ts) starts `early` and waits for the decision before anything else.
    const decided = admit()
    decided.catch(() => {})
    c.set('admission', { target: early, decided })
    return next()
  })
}
