import type { UsageWindow } from '../../drizzle/schema'
import type { KeyRecord } from '../db/keys'
import { chargeSpend, dailyCharges, generationOf } from '../db/self-service'
import type { Deps } from '../deps'
import { GatewayError } from '../errors'
import { picoToUsdString, usdToPico } from '../lib/money'
import { keys } from '../redis/keys'
import { readBalance } from './balance'
import { readWindowBuckets } from '../redis/scripts/windows'
import { windowUse } from './windows'

// What a key holder reads about their own key under it (GET /v1/me, OpenAI's dashboard billing endpoints,
// GET /v1/generations/{id}): limits, charges (what they pay, never the operator's cost), the balance.

const usd = (pico: bigint) => Number(picoToUsdString(pico))
const cents = (pico: bigint) => Number(picoToUsdString(pico * 100n))
const money = (text: string | null) => (text === null ? null : Number(text))

async function balanceOf(deps: Deps, key: KeyRecord) {
  const since = key.project?.prepaidSince
  return since ? (await readBalance(deps, key.projectId, new Date(since))).balancePico : null
}

async function windowsOf(deps: Deps, key: KeyRecord) {
  const all: { scope: 'key' | 'project'; w: UsageWindow; key: string }[] = [
    ...(key.windows ?? []).map((w) => ({
      scope: 'key' as const,
      w,
      key: keys.window('k', key.id, w.period),
    })),
    ...(key.project?.windows ?? []).map((w) => ({
      scope: 'project' as const,
      w,
      key: keys.window('p', key.projectId, w.period),
    })),
  ]
  const buckets = await readWindowBuckets(
    deps.config,
    all.map((a) => a.key),
  )
  const now = deps.now()
  return all.map(({ scope, w }, i) => {
    const use = windowUse(buckets[i] ?? [], w.period, now)
    return {
      scope,
      period: w.period,
      used_usd: usd(use.usedPico),
      limit_usd: money(w.limit_usd),
      used_requests: use.usedRequests,
      limit_requests: w.limit_requests,
      resets_at: use.resetsAt === null ? null : new Date(use.resetsAt).toISOString(),
    }
  })
}

export async function me(deps: Deps, key: KeyRecord) {
  const [spend, windows, balance] = await Promise.all([
    chargeSpend(deps.db, { keyId: key.id }, deps.now()),
    windowsOf(deps, key),
    balanceOf(deps, key),
  ])
  return {
    object: 'me' as const,
    key: {
      name: key.name,
      key_prefix: key.keyPrefix,
      project_id: key.projectId,
      allowed_models: key.allowedModels,
      rpm_limit: key.rpmLimit,
      tpm_limit: key.tpmLimit,
      expires_at: key.expiresAt ? new Date(key.expiresAt).toISOString() : null,
    },
    spend: {
      today_usd: Number(spend.day),
      month_usd: Number(spend.month),
      daily_budget: money(key.dailyBudget),
      monthly_budget: money(key.monthlyBudget),
    },
    windows,
    project: {
      id: key.projectId,
      balance_usd: balance === null ? null : usd(balance),
      price_ratio: Number(key.project?.priceRatio ?? '1'),
    },
  }
}

// What "no limit" reads as in the dashboard endpoints (new-api's convention): clients show it as unlimited.
const UNLIMITED_USD = 100_000_000

// The limit a chat client shows for this key, and whose charges count against it: a prepaid project's
// balance plus what it was charged this month; else the tightest monthly budget (the key's or its project's).
async function limitOf(deps: Deps, key: KeyRecord) {
  const balance = await balanceOf(deps, key)
  if (balance !== null) {
    const spend = await chargeSpend(deps.db, { projectId: key.projectId }, deps.now())
    return { hardPico: balance + usdToPico(spend.month), scope: { projectId: key.projectId } }
  }
  const own = key.monthlyBudget === null ? null : usdToPico(key.monthlyBudget)
  const shared = key.project?.monthlyBudget == null ? null : usdToPico(key.project.monthlyBudget)
  if (shared !== null && (own === null || shared < own))
    return { hardPico: shared, scope: { projectId: key.projectId } }
  return { hardPico: own, scope: { keyId: key.id } }
}

export async function subscription(deps: Deps, key: KeyRecord) {
  const { hardPico } = await limitOf(deps, key)
  const hard = hardPico === null ? UNLIMITED_USD : usd(hardPico)
  return {
    object: 'billing_subscription' as const,
    has_payment_method: true,
    hard_limit_usd: hard,
    soft_limit_usd: hard,
    system_hard_limit_usd: hard,
    access_until: key.expiresAt ? Math.floor(new Date(key.expiresAt).getTime() / 1000) : 0,
  }
}

const DAY = /^\d{4}-\d\d-\d\d$/
const MAX_DAYS = 100

function parseDay(value: string | undefined, name: string, fallback: string): number {
  const text = value ?? fallback
  const ms = DAY.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text)
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `Invalid value for '${name}': use YYYY-MM-DD.`,
      param: name,
    })
  return ms
}

// OpenAI's legacy usage endpoint: charges per day and model in [start_date, end_date), in cents.
export async function usage(deps: Deps, key: KeyRecord, query: { start_date?: string; end_date?: string }) {
  const now = deps.now()
  const today = new Date(now).toISOString().slice(0, 10)
  const from = parseDay(query.start_date, 'start_date', `${today.slice(0, 8)}01`)
  const to = parseDay(
    query.end_date,
    'end_date',
    new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10),
  )
  if (to <= from || (to - from) / 86_400_000 > MAX_DAYS)
    throw new GatewayError({
      code: 'invalid_request_error',
      message: `end_date must be after start_date and at most ${MAX_DAYS} days later.`,
      param: 'end_date',
    })
  const { scope } = await limitOf(deps, key)
  const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  const rows = await dailyCharges(deps.db, scope, ymd(from), ymd(to))
  let total = 0n
  const daily = []
  for (let day = from; day < to; day += 86_400_000) {
    const items = rows.filter((r) => r.day === ymd(day))
    total += items.reduce((sum, r) => sum + usdToPico(r.usd), 0n)
    daily.push({
      timestamp: day / 1000,
      line_items: items.map((r) => ({ name: r.model, cost: cents(usdToPico(r.usd)) })),
    })
  }
  return { object: 'list' as const, total_usage: cents(total), daily_costs: daily }
}

// A request's usage row, for the key that made it (404 to any other, as if it did not exist).
export async function generation(deps: Deps, key: KeyRecord, requestId: string | undefined) {
  const row = requestId ? await generationOf(deps.db, requestId, key.id) : undefined
  if (!row)
    throw new GatewayError({
      code: 'not_found',
      message: `No generation with id '${String(requestId ?? '').slice(0, 200)}' for this key.`,
      param: 'id',
    })
  return {
    data: {
      id: row.requestId,
      object: 'generation' as const,
      created_at: new Date(row.createdAt).toISOString(),
      route: row.route,
      model: row.model,
      provider: row.provider,
      upstream_model: row.upstreamModel,
      status: row.status,
      error_code: row.errorCode,
      stream: row.stream,
      prompt_tokens: row.promptTokens,
      completion_tokens: row.completionTokens,
      total_tokens: row.totalTokens,
      cache_read_tokens: row.cacheReadTokens,
      cache_write_5m_tokens: row.cacheWrite5mTokens,
      cache_write_1h_tokens: row.cacheWrite1hTokens,
      reasoning_tokens: row.reasoningTokens,
      usage_source: row.usageSource,
      cost_usd: row.costUsd,
      charge_usd: row.chargeUsd,
      latency_ms: row.latencyMs,
      ttfb_ms: row.ttfbMs,
      attempts: row.attempts,
    },
  }
}
