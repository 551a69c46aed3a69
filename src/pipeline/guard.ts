import { createMiddleware } from 'hono/factory'
import { configVersion } from '../cache'
import type { AppEnv } from '../context'
import type { KeyRecord, KeyRow } from '../db/keys'
import { OpenAIError, quoted } from '../errors'
import { log } from '../lib/log'
import { maxCostPico, MICROS_TO_PICO, usdToMicros } from '../lib/money'
import { dayTag, formatResetDuration, monthTag, startOfNextUtcDay, startOfNextUtcMonth } from '../lib/time'
import { labels } from '../metrics/counters'
import { keys } from '../redis/keys'
import { runHotScript } from '../redis/hot-script'
import { guardScript, type GuardReply } from '../redis/scripts'
import { orderTargets, strategyOf } from '../upstream/route-order'
import type { Route } from '../usage/draft'
import { rebuildProjectSpend, rebuildSpend, type Hold } from '../usage/spend'
import type { Target } from '../upstream/targets'
import { estimateRequest, reservedCompletion } from '../usage/tokens'
import { olderVersion, resolveRoute } from './allow-model'
import { resolveKey } from './authenticate'
import { fromStore } from './stores'

// A reservation outlives any upstream call (heads time out, streams go idle) but not a crashed isolate.
const RESERVATION_TTL_MS = 15 * 60_000
const MAX_ROUNDS = 4

// A half-open probe's lease outlives the probe's own attempts; if it never reports, another request probes.
const probeLeaseMs = (t: Target) => t.timeoutMs * (t.maxRetries + 1) + 5_000

const limitOrNone = (n: number | null) => (n === null ? -1 : n)
const budgetPico = (usd: string | null) => (usd === null ? -1n : BigInt(usdToMicros(usd)) * MICROS_TO_PICO)

// Pico-USD for people: dollars with up to 6 decimals (at least 2), rounded up to the micro-dollar.
const usd = (pico: number | bigint) => {
  const micros = (BigInt(Math.round(Number(pico))) + MICROS_TO_PICO - 1n) / MICROS_TO_PICO
  const text = (Number(micros) / 1e6).toFixed(6)
  return `$${text.replace(/0{1,4}$/, '')}`
}

// x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the limits the key has, from the
// script's view of both windows (the same four numbers lead every reply but 'stale'/'rebuild').
function limitHeaders(key: KeyRecord, reply: GuardReply): Record<string, string> {
  const [, rpmRemaining, rpmResetMs, tpmRemaining, tpmResetMs] = reply as [
    string,
    number,
    number,
    number,
    number,
    ...unknown[],
  ]
  const headers: Record<string, string> = {}
  const trio = (unit: string, limit: number, remaining: number, resetMs: number) => {
    headers[`x-ratelimit-limit-${unit}`] = String(limit)
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, remaining))
    headers[`x-ratelimit-reset-${unit}`] = formatResetDuration(resetMs)
  }
  if (key.rpmLimit !== null) trio('requests', key.rpmLimit, rpmRemaining, rpmResetMs)
  if (key.tpmLimit !== null) trio('tokens', key.tpmLimit, tpmRemaining, tpmResetMs)
  return headers
}

// OpenAI's shapes: a rate limit is retryable (Retry-After), except a request that can never fit the
// TPM limit; an exhausted budget is not (x-should-retry: false, which the OpenAI SDK honours). The
// message and x-nexusai-limit-scope say whether the key's own limit or its project's was hit.
function refuse(key: KeyRecord, reply: GuardReply, ask: { tokens: number; costPico: bigint }): never {
  const project = (reply as unknown[]).includes('project')
  const whose = project ? `this key's project '${key.projectId}'` : 'this key'
  const headers = { ...limitHeaders(key, reply), 'x-nexusai-limit-scope': project ? 'project' : 'key' }
  if (reply[0] === 'rpm' || reply[0] === 'tpm') {
    const [kind, rpmRemaining, , tpmRemaining, , retryMs = 0, , projectLimit = 0, projectRemaining = 0] =
      reply
    const unit = kind === 'rpm' ? 'requests' : 'tokens'
    const limit = project ? projectLimit : ((kind === 'rpm' ? key.rpmLimit : key.tpmLimit) ?? 0)
    if (kind === 'tpm' && ask.tokens > limit) {
      throw new OpenAIError(
        'rate_limit_exceeded',
        `Request too large: it is estimated at ${ask.tokens} tokens (prompt + max_tokens), above the limit of ${whose} of ${limit} tokens per minute. Lower max_tokens or shorten the prompt.`,
        null,
        { ...headers, 'x-should-retry': 'false' },
        unit,
      )
    }
    const remaining = project ? projectRemaining : kind === 'rpm' ? rpmRemaining : tpmRemaining
    throw new OpenAIError(
      'rate_limit_exceeded',
      `Rate limit reached for ${unit} per minute of ${whose}: limit ${limit}, remaining ${remaining}. Please try again in ${formatResetDuration(retryMs)}.`,
      null,
      {
        ...headers,
        'retry-after': String(Math.max(1, Math.ceil(retryMs / 1000))),
        'retry-after-ms': String(Math.max(0, retryMs)),
      },
      unit,
    )
  }
  const [, , , , , window, limit, , left] = reply as Extract<GuardReply, ['budget', ...unknown[]]>
  const resets = `It resets at the start of the next UTC ${window === 'daily' ? 'day' : 'month'}.`
  throw new OpenAIError(
    'insufficient_quota',
    left <= 0
      ? `You exceeded the ${window} budget of ${whose} (${usd(limit)}). ${resets}`
      : `This request's estimated cost (${usd(ask.costPico)}, from the prompt and max_tokens, or the model's maximum output when max_tokens is absent) is more than what is left of the ${window} budget of ${whose} (${usd(left)} of ${usd(limit)}). Lower max_tokens, or wait: ${resets}`,
    null,
    { ...headers, 'x-should-retry': 'false' },
  )
}

const hasBudget = (limits: Pick<KeyRow, 'dailyBudget' | 'monthlyBudget'> | null) =>
  limits !== null && (limits.dailyBudget !== null || limits.monthlyBudget !== null)

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
    const draft = c.get('draft')
    const requestId = c.get('requestId')
    const estimate = estimateRequest(route, c.get('body'))
    c.set('estimate', estimate)
    const tokens = estimate.prompt + estimate.completion
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
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Under a budget only targets with a price may serve: one without would cost 0 and the budget would
      // mean nothing.
      const budgeted = hasBudget(key) || hasBudget(key.project)
      const targets = budgeted ? c.get('targets').filter((t) => t.price) : c.get('targets')
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
        throw new OpenAIError(
          'service_unavailable',
          `No price is in effect for the model ${quoted(String(c.get('body').model))} or the upstream models it routes to, so this key's (or its project's) budget cannot be enforced. An operator must set one (PUT /admin/prices/{model}).`,
          null,
          { 'x-should-retry': 'false' },
        )
      }
      const now = deps.now()
      // The request's event id: unique, and a round that is refused or retried commits nothing under it.
      const ticket = draft.eventId
      const cost = reservationPico(route, c.get('body'), estimate.prompt, targets)
      const day = dayTag(now)
      const month = monthTag(now)
      const project = key.project
      const projectId = key.projectId
      // Known before the call: a client that leaves while the script runs cancels this handler on the
      // edge, and the after-response step must still find the hold to release (releasing a hold the
      // script did not take is a no-op).
      const hold: Hold = {
        keyId: key.id,
        ticket,
        tokens,
        tpm: key.tpmLimit !== null,
        reservation: hasBudget(key) ? `${ticket}|${day}|${month}|${cost}` : null,
        day,
        month,
        project: {
          id: projectId,
          tokens: project?.tpmLimit != null ? tokens : null,
          reservation: hasBudget(project) ? `${ticket}|${day}|${month}|${cost}` : null,
        },
      }
      c.set('hold', hold)
      let reply: GuardReply
      try {
        reply = await runHotScript<GuardReply>(
          deps.config,
          guardScript,
          [
            keys.configVersion(),
            keys.rpm(key.id),
            keys.tpm(key.id),
            keys.spendDay(key.id, day),
            keys.spendMonth(key.id, month),
            keys.reservations(key.id),
            keys.tpmTotal(key.id),
            keys.metrics(),
            keys.projectRpm(projectId),
            keys.projectTpm(projectId),
            keys.projectTpmTotal(projectId),
            keys.projectSpendDay(projectId, day),
            keys.projectSpendMonth(projectId, month),
            keys.projectReservations(projectId),
            ...targets.map((t) => keys.circuit(t.providerId)),
          ],
          [
            version,
            now,
            ticket,
            limitOrNone(key.rpmLimit),
            limitOrNone(key.tpmLimit),
            tokens,
            budgetPico(key.dailyBudget),
            budgetPico(key.monthlyBudget),
            cost,
            RESERVATION_TTL_MS,
            day,
            month,
            startOfNextUtcDay(now) - now,
            startOfNextUtcMonth(now) - now,
            limitOrNone(project?.rpmLimit ?? null),
            limitOrNone(project?.tpmLimit ?? null),
            budgetPico(project?.dailyBudget ?? null),
            budgetPico(project?.monthlyBudget ?? null),
            ...targets.flatMap((t) => [probeLeaseMs(t), labels({ provider: t.provider })]),
          ].map(String),
        )
      } catch (error) {
        c.set('hold', null)
        if (!deps.config.REDIS_FAIL_OPEN) {
          log('error', 'redis unavailable; refusing (fail-closed)', {
            request_id: requestId,
            error: (error as Error).message,
          })
          throw new OpenAIError(
            'service_unavailable',
            'Rate limits cannot be checked right now. Please retry shortly.',
          )
        }
        log('warn', 'redis unavailable; admitting without limits (REDIS_FAIL_OPEN)', {
          request_id: requestId,
        })
        return next()
      }
      const kind = reply[0]
      if (kind !== 'ok') c.set('hold', null)
      if (kind === 'stale') {
        await reload(String(reply[1]))
        continue
      }
      if (kind === 'rebuild') {
        await fromStore('postgres', requestId, () =>
          reply[1] === 'project'
            ? rebuildProjectSpend(deps, projectId, now)
            : rebuildSpend(deps, key.id, now),
        )
        continue
      }
      if (kind !== 'ok') {
        draft.rateLimited = kind
        if (kind === 'budget')
          draft.budgetRefused = `${(reply as unknown[]).includes('project') ? 'project' : 'key'}|${reply[5]}`
        refuse(key, reply, { tokens, costPico: cost })
      }
      c.set('limitHeaders', limitHeaders(key, reply))
      const circuits = (reply as Extract<GuardReply, ['ok', ...unknown[]]>)[5]
      circuits.forEach(([route, , , moved], i) => {
        const provider = targets[i]?.provider
        if (moved) log('info', 'circuit transition', { request_id: requestId, provider, to: 'half_open' })
        if (route === 1) log('info', 'circuit probe', { request_id: requestId, provider })
      })
      c.set('targets', orderTargets(targets, circuits, strategyOf(targets)))
      return next()
    }
    throw new OpenAIError('service_unavailable', 'The gateway configuration is changing; please retry.')
  })
}
