import type { adminAudit, prices, usageLogs, UsageWindow } from '../../drizzle/schema'
import type { CreditRow } from '../db/credits'
import type { CodeRow } from '../db/redemption-codes'
import type { MappingRow, ProviderRow } from '../db/catalog'
import type { KeyRow } from '../db/keys'
import { providerBaseUrl, type Config } from '../env'
import { apiKeySource, type KeyView } from './provider-keys'
import type { ProjectRow } from '../db/projects'

// Rows → the admin wire format (snake_case). Fields are picked one by one, so a column added to a
// table (or a secret such as key_hash) never reaches a response or the audit log by accident.
const iso = (value: Date | string | null) => (value == null ? null : new Date(value).toISOString())
const usd = (value: string | null) => (value === null ? null : Number(value))

export function serializeKey(row: KeyRow) {
  return {
    id: row.id,
    object: 'api_key' as const,
    name: row.name,
    project_id: row.projectId,
    key_prefix: row.keyPrefix,
    allowed_models: row.allowedModels,
    rpm_limit: row.rpmLimit,
    tpm_limit: row.tpmLimit,
    daily_budget: usd(row.dailyBudget),
    monthly_budget: usd(row.monthlyBudget),
    budget_alerts: row.budgetAlerts,
    windows: serializeWindows(row.windows),
    status: row.status,
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  }
}

// has_api_key / api_key_source mirror how routing finds the key (src/upstream/targets.ts); stored keys
// appear only as {id, hint, state, last_used_at}.
export function serializeProject(row: ProjectRow) {
  return {
    id: row.id,
    object: 'project' as const,
    name: row.name,
    status: row.status,
    rpm_limit: row.rpmLimit,
    tpm_limit: row.tpmLimit,
    daily_budget: usd(row.dailyBudget),
    monthly_budget: usd(row.monthlyBudget),
    budget_alerts: row.budgetAlerts,
    price_ratio: Number(row.priceRatio),
    // Prepaid since its first credit (balance_usd then says what is left); null: postpaid.
    prepaid_since: iso(row.prepaidSince),
    balance_alert_usd: usd(row.balanceAlertUsd),
    windows: serializeWindows(row.windows),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  }
}

const serializeWindows = (list: UsageWindow[] | null) =>
  (list ?? []).map((w) => ({
    period: w.period,
    limit_usd: usd(w.limit_usd),
    limit_requests: w.limit_requests,
  }))

export function serializeCredit(row: CreditRow) {
  return {
    id: row.id,
    object: 'credit' as const,
    project_id: row.projectId,
    amount_usd: Number(row.amountUsd),
    kind: row.kind,
    note: row.note,
    code_id: row.codeId,
    actor: row.actor,
    created_at: iso(row.createdAt),
  }
}

// Never the hash: a code is shown once, when minted.
export function serializeCode(row: CodeRow) {
  return {
    id: row.id,
    object: 'redemption_code' as const,
    hint: row.hint,
    amount_usd: Number(row.amountUsd),
    project_id: row.projectId,
    state: row.state,
    expires_at: iso(row.expiresAt),
    redeemed_project_id: row.redeemedProjectId,
    redeemed_api_key_id: row.redeemedKeyId,
    redeemed_at: iso(row.redeemedAt),
    created_at: iso(row.createdAt),
  }
}

// `number` is null only in the audit entry of a provider being created (the database assigns it).
export function serializeProvider(
  row: Omit<ProviderRow, 'number'> & { number?: number },
  config: Config,
  keys: KeyView[] = [],
) {
  const source = apiKeySource(row, config, keys)
  return {
    id: row.id,
    object: 'provider' as const,
    number: row.number ?? null,
    name: row.name,
    type: row.type,
    base_url: row.baseUrl,
    // What routing really calls (e.g. the local mock).
    effective_base_url: providerBaseUrl(config, row),
    api_key_ref: row.apiKeyRef,
    has_api_key: source !== 'none',
    api_key_source: source,
    stored_keys: keys,
    enabled: row.enabled,
    timeout_ms: row.timeoutMs,
    max_retries: row.maxRetries,
    circuit: row.circuit,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  }
}

export function serializeMapping(row: MappingRow, providerName: string | null) {
  return {
    id: row.id,
    object: 'model_mapping' as const,
    model: row.model,
    provider_id: row.providerId,
    provider_name: providerName,
    upstream_model: row.upstreamModel,
    priority: row.priority,
    weight: row.weight,
    strategy: row.strategy,
    enabled: row.enabled,
    max_output_tokens: row.maxOutputTokens,
    capabilities: row.capabilities,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  }
}

const orNull = (usd: string | null) => (usd === null ? null : Number(usd))

export function serializePrice(row: typeof prices.$inferSelect, current: boolean) {
  return {
    object: 'price' as const,
    model: row.model,
    input_per_million: Number(row.inputPerMillion),
    output_per_million: Number(row.outputPerMillion),
    cache_read_per_million: orNull(row.cacheReadPerMillion),
    cache_write_5m_per_million: orNull(row.cacheWrite5mPerMillion),
    cache_write_1h_per_million: orNull(row.cacheWrite1hPerMillion),
    long_context_threshold: row.longContextThreshold,
    long_input_per_million: orNull(row.longInputPerMillion),
    long_output_per_million: orNull(row.longOutputPerMillion),
    effective_from: iso(row.effectiveFrom),
    current,
  }
}

export function serializeAudit(row: typeof adminAudit.$inferSelect) {
  return {
    id: row.id,
    object: 'audit_entry' as const,
    actor: row.actor,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    before: row.before,
    after: row.after,
    created_at: iso(row.createdAt),
  }
}

// One usage row, in the order the export's CSV columns take too.
export function serializeUsageLog(row: typeof usageLogs.$inferSelect) {
  return {
    id: row.id,
    object: 'usage_log' as const,
    created_at: iso(row.createdAt),
    // The X-Request-Id the client saw (a client may choose it); event_id below is the gateway's own.
    request_id: row.requestId,
    api_key_id: row.apiKeyId,
    project_id: row.projectId,
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
    tokens_estimated: row.tokensEstimated,
    tokens_method: row.tokensMethod,
    // Exact, as stored: numeric(20,12) USD.
    cost_usd: row.costUsd,
    charge_usd: row.chargeUsd,
    price_model: row.priceModel,
    price_effective_from: iso(row.priceEffectiveFrom),
    latency_ms: row.latencyMs,
    ttfb_ms: row.ttfbMs,
    attempts: row.attempts,
    // Whether the conversation's pin held: hit, new or moved (docs/affinity.md); null without one.
    affinity: row.affinity,
    event_id: row.eventId,
  }
}
