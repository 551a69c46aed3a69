import { sql } from 'drizzle-orm'
import type { Capabilities, CircuitOverrides } from './columns'
import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'

// Money: prices and budgets are USD `numeric` (exact); per-request cost is numeric(20,12), i.e. exact
// down to 1e-12 USD, which is what tokens × (USD per 1M tokens with 6 decimals) needs.
const usd = (name: string) => numeric(name, { precision: 14, scale: 6 })
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

export const providers = pgTable('providers', {
  id: uuid('id').primaryKey().defaultRandom(),
  // A short number for people and the seed's curls (`PATCH /admin/providers/1`): 1 is the first made.
  number: integer('number').generatedAlwaysAsIdentity().notNull().unique(),
  name: text('name').notNull().unique(),
  type: text('type').notNull().default('openai'),
  baseUrl: text('base_url').notNull(),
  // Name of the Worker secret holding the key (e.g. PROVIDER_OPENAI_MAIN_API_KEY), never the key itself.
  apiKeyRef: text('api_key_ref'),
  enabled: boolean('enabled').notNull().default(true),
  timeoutMs: integer('timeout_ms').notNull().default(30000),
  maxRetries: integer('max_retries').notNull().default(1),
  // Circuit breaker settings that differ from the defaults (src/upstream/circuit.ts), e.g. {"threshold": 3}.
  circuit: jsonb('circuit').$type<CircuitOverrides>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
})

// Upstream keys an operator stored through the admin API, sealed with AES-256-GCM under the Worker
// secret SECRETS_KEY (src/secrets/): `ciphertext` is base64(iv ‖ sealed key ‖ tag), `kek_version` names the
// SECRETS_KEY that sealed it, and the provider id is bound as additional data. `hint` is the key's last 4
// characters, for recognition. `state`: active, disabled (by an operator) or invalid (the upstream
// answered 401/403 for it).
export const providerKeys = pgTable(
  'provider_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    providerId: uuid('provider_id')
      .notNull()
      .references(() => providers.id, { onDelete: 'cascade' }),
    ciphertext: text('ciphertext').notNull(),
    kekVersion: text('kek_version').notNull(),
    hint: text('hint').notNull(),
    state: text('state').notNull().default('active'),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('provider_keys_provider_idx').on(t.providerId)],
)

export const modelMappings = pgTable(
  'model_mappings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    model: text('model').notNull(),
    providerId: uuid('provider_id')
      .notNull()
      .references(() => providers.id, { onDelete: 'cascade' }),
    upstreamModel: text('upstream_model').notNull(),
    // Lower priority is tried first; weight picks among mappings of equal priority.
    priority: integer('priority').notNull().default(1),
    weight: integer('weight').notNull().default(1),
    // The most output tokens this upstream model may produce: what a budget reserves when a request sets no
    // max_tokens (null: DEFAULT_MAX_OUTPUT_TOKENS).
    maxOutputTokens: integer('max_output_tokens'),
    // How the model's mapping set orders its targets (priority · weighted · latency); the first mapping in
    // priority order that names another strategy than 'priority' sets it for the whole set.
    strategy: text('strategy').notNull().default('priority'),
    enabled: boolean('enabled').notNull().default(true),
    // What the upstream model accepts (columns.ts), e.g. {"sampling": false}.
    capabilities: jsonb('capabilities').$type<Capabilities>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('model_mappings_model_provider_idx').on(t.model, t.providerId)],
)

export const prices = pgTable(
  'prices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    model: text('model').notNull(),
    inputPerMillion: usd('input_per_million').notNull(),
    outputPerMillion: usd('output_per_million').notNull(),
    // Absolute prices per bucket (docs/providers.md §4.3), never a multiple of the input price; null: the
    // input price (what a version without them has always meant).
    cacheReadPerMillion: usd('cache_read_per_million'),
    cacheWrite5mPerMillion: usd('cache_write_5m_per_million'),
    cacheWrite1hPerMillion: usd('cache_write_1h_per_million'),
    // Optional long-context tier: above this many prompt tokens, input and output use the long prices.
    longContextThreshold: integer('long_context_threshold'),
    longInputPerMillion: usd('long_input_per_million'),
    longOutputPerMillion: usd('long_output_per_million'),
    effectiveFrom: timestamp('effective_from', { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('prices_model_effective_idx').on(t.model, t.effectiveFrom)],
)

// Rolling windows (src/economy/windows.ts): a sliding limit over the last `period` on dollars (the charge,
// exact decimal USD) and/or requests, stored as the admin API writes them.
export type WindowPeriod = '5h' | '1d' | '7d' | '30d'
export type UsageWindow = { period: WindowPeriod; limit_usd: string | null; limit_requests: number | null }

// A team's shared limits and budgets. `id` is the slug keys carry as project_id (no foreign key: a key
// names its project by slug, and creating a key under an unknown slug creates the project, without limits).
export const projects = pgTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  status: text('status').notNull().default('active'),
  rpmLimit: integer('rpm_limit'),
  tpmLimit: integer('tpm_limit'),
  dailyBudget: usd('daily_budget'),
  monthlyBudget: usd('monthly_budget'),
  budgetAlerts: real('budget_alerts').array(),
  // What a key holder pays per dollar of upstream cost: charge = cost × price_ratio (exact, 6 decimals).
  priceRatio: numeric('price_ratio', { precision: 12, scale: 6 }).notNull().default('1'),
  // Prepaid since the first credit (null: postpaid, budgets only); the balance is the credits minus the
  // charges of usage rows from then on.
  prepaidSince: timestamp('prepaid_since', { withTimezone: true }),
  // Below this balance a balance.low webhook fires (once per crossing).
  balanceAlertUsd: usd('balance_alert_usd'),
  windows: jsonb('windows').$type<UsageWindow[]>().notNull().default([]),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
})

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    keyHash: text('key_hash').notNull(),
    keyPrefix: text('key_prefix').notNull(),
    name: text('name').notNull(),
    projectId: text('project_id').notNull().default('default'),
    allowedModels: text('allowed_models')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    rpmLimit: integer('rpm_limit'),
    tpmLimit: integer('tpm_limit'),
    dailyBudget: usd('daily_budget'),
    monthlyBudget: usd('monthly_budget'),
    // Fractions of a budget at which a budget.threshold webhook fires (null: 0.5, 0.8, 1.0).
    budgetAlerts: real('budget_alerts').array(),
    windows: jsonb('windows').$type<UsageWindow[]>().notNull().default([]),
    status: text('status').notNull().default('active'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    // The key may be in the format issued before keys carried a MAC (`lgw_` + 40): true for every row
    // older than this column until it is seen signed or rotated. While none is, that format is refused
    // without a lookup.
    legacy: boolean('legacy').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('api_keys_hash_idx').on(t.keyHash), index('api_keys_project_idx').on(t.projectId)],
)

// Partitioned by month on created_at (migrations/0011_usage_ledger_partitions.sql; drizzle-kit cannot express
// partitions, so that migration is hand-written): retention drops a whole month (src/usage/retention.ts).
// A unique index on a partitioned table must contain the partition key, hence (created_at, id) and
// (event_id, created_at); a row's created_at is fixed when the request starts, so a replayed spool row
// meets its twin. The id comes from a sequence (identity columns need Postgres 17 on a partitioned table).
export const usageLogs = pgTable(
  'usage_logs',
  {
    id: bigserial('id', { mode: 'number' }).notNull(),
    // Gateway-generated and unique, so replaying the Redis spool never writes a row twice; request_id
    // is the X-Request-Id the client saw (it may pass its own, even twice).
    eventId: uuid('event_id').notNull(),
    requestId: text('request_id').notNull(),
    apiKeyId: uuid('api_key_id').notNull(),
    projectId: text('project_id').notNull(),
    route: text('route').notNull(),
    model: text('model').notNull(),
    provider: text('provider'),
    upstreamModel: text('upstream_model'),
    status: integer('status').notNull(),
    errorCode: text('error_code'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    // The parts of prompt_tokens read from and written to the provider's cache, and the reasoning part
    // of completion_tokens; each is billed at its own price.
    cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
    cacheWrite5mTokens: integer('cache_write_5m_tokens').notNull().default(0),
    cacheWrite1hTokens: integer('cache_write_1h_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    // upstream | partial (a stream cut after the first byte) | estimated (the upstream reported none).
    usageSource: text('usage_source').notNull().default('upstream'),
    tokensEstimated: boolean('tokens_estimated').notNull().default(false),
    // How estimated tokens were counted: the tokenizer's encoding (o200k_base, cl100k_base) or 'chars'
    // (~4 characters a token); null when the upstream reported them.
    tokensMethod: text('tokens_method'),
    costUsd: numeric('cost_usd', { precision: 20, scale: 12 }).notNull().default('0'),
    // What the key holder pays: cost_usd × the project's price ratio (equal to cost_usd until ratios exist).
    chargeUsd: numeric('charge_usd', { precision: 20, scale: 12 }).notNull().default('0'),
    // Which price was applied: the model whose price it is (the public model, else the serving upstream
    // model) and that price version's effective_from; null when no price applied.
    priceModel: text('price_model'),
    priceEffectiveFrom: timestamp('price_effective_from', { withTimezone: true }),
    latencyMs: integer('latency_ms').notNull(),
    ttfbMs: integer('ttfb_ms'),
    stream: boolean('stream').notNull().default(false),
    attempts: integer('attempts').notNull().default(0),
    // Whether the conversation's pin to a provider and pooled key held (docs/affinity.md): hit, new (no pin
    // yet) or moved (it could not hold; the serving target is the new pin); null without a conversation.
    affinity: text('affinity'),
    createdAt: createdAt(),
  },
  // Each index serves an admin read: the request log and the export page by (created_at, id), alone
  // or after one filter (key, project, model, request id); errors are few, so they get a partial index.
  (t) => [
    primaryKey({ name: 'usage_logs_pkey', columns: [t.createdAt, t.id] }),
    uniqueIndex('usage_logs_event_idx').on(t.eventId, t.createdAt),
    index('usage_logs_request_idx').on(t.requestId),
    index('usage_logs_key_created_idx').on(t.apiKeyId, t.createdAt, t.id),
    index('usage_logs_project_created_idx').on(t.projectId, t.createdAt, t.id),
    index('usage_logs_model_created_idx').on(t.model, t.createdAt, t.id),
    index('usage_logs_errors_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.status} >= 400`),
  ],
)

// Daily rollup maintained in the same statement as each usage row, so reports and statements never scan
// raw rows. Keyed by project as well as key (a key moved between projects keeps each part under its
// project) and by the price version applied ('' when none), so a statement can list the versions.
export const usageDaily = pgTable(
  'usage_daily',
  {
    day: date('day').notNull(),
    projectId: text('project_id').notNull(),
    apiKeyId: uuid('api_key_id').notNull(),
    model: text('model').notNull(),
    provider: text('provider').notNull().default(''),
    // "<price model>@<effective_from, ISO 8601 UTC with milliseconds>", or '' when no price applied.
    priceVersion: text('price_version').notNull().default(''),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    success: bigint('success', { mode: 'number' }).notNull().default(0),
    failed: bigint('failed', { mode: 'number' }).notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
    totalTokens: bigint('total_tokens', { mode: 'number' }).notNull().default(0),
    cacheReadTokens: bigint('cache_read_tokens', { mode: 'number' }).notNull().default(0),
    cacheWriteTokens: bigint('cache_write_tokens', { mode: 'number' }).notNull().default(0),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull().default(0),
    costUsd: numeric('cost_usd', { precision: 24, scale: 12 }).notNull().default('0'),
    chargeUsd: numeric('charge_usd', { precision: 24, scale: 12 }).notNull().default('0'),
  },
  (t) => [
    primaryKey({
      name: 'usage_daily_pkey',
      columns: [t.day, t.projectId, t.apiKeyId, t.model, t.provider, t.priceVersion],
    }),
    index('usage_daily_project_idx').on(t.projectId, t.day),
    index('usage_daily_key_idx').on(t.apiKeyId, t.day),
  ],
)

// The same sums per project without the key: reports that neither group nor filter by key, statements
// and project spend read this one, whose size depends on projects × models × days only.
export const usageProjectDaily = pgTable(
  'usage_project_daily',
  {
    day: date('day').notNull(),
    projectId: text('project_id').notNull(),
    model: text('model').notNull(),
    provider: text('provider').notNull().default(''),
    priceVersion: text('price_version').notNull().default(''),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    success: bigint('success', { mode: 'number' }).notNull().default(0),
    failed: bigint('failed', { mode: 'number' }).notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
    totalTokens: bigint('total_tokens', { mode: 'number' }).notNull().default(0),
    cacheReadTokens: bigint('cache_read_tokens', { mode: 'number' }).notNull().default(0),
    cacheWriteTokens: bigint('cache_write_tokens', { mode: 'number' }).notNull().default(0),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull().default(0),
    costUsd: numeric('cost_usd', { precision: 24, scale: 12 }).notNull().default('0'),
    chargeUsd: numeric('charge_usd', { precision: 24, scale: 12 }).notNull().default('0'),
  },
  (t) => [
    primaryKey({
      name: 'usage_project_daily_pkey',
      columns: [t.day, t.projectId, t.model, t.provider, t.priceVersion],
    }),
    index('usage_project_daily_project_idx').on(t.projectId, t.day),
  ],
)

// The same sums per key and day, without model, provider or price: reports grouped or filtered by key
// alone read this one (keys × days rows, a fraction of usage_daily's keys × models × days).
export const usageKeyDaily = pgTable(
  'usage_key_daily',
  {
    day: date('day').notNull(),
    projectId: text('project_id').notNull(),
    apiKeyId: uuid('api_key_id').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    success: bigint('success', { mode: 'number' }).notNull().default(0),
    failed: bigint('failed', { mode: 'number' }).notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
    totalTokens: bigint('total_tokens', { mode: 'number' }).notNull().default(0),
    cacheReadTokens: bigint('cache_read_tokens', { mode: 'number' }).notNull().default(0),
    cacheWriteTokens: bigint('cache_write_tokens', { mode: 'number' }).notNull().default(0),
    reasoningTokens: bigint('reasoning_tokens', { mode: 'number' }).notNull().default(0),
    costUsd: numeric('cost_usd', { precision: 24, scale: 12 }).notNull().default('0'),
    chargeUsd: numeric('charge_usd', { precision: 24, scale: 12 }).notNull().default('0'),
  },
  (t) => [
    primaryKey({ name: 'usage_key_daily_pkey', columns: [t.day, t.projectId, t.apiKeyId] }),
    index('usage_key_daily_key_idx').on(t.apiKeyId, t.day),
  ],
)

export const adminAudit = pgTable(
  'admin_audit',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    createdAt: createdAt(),
  },
  (t) => [index('admin_audit_created_idx').on(t.createdAt)],
)

// Signed notifications of budget and provider events (docs/webhooks.md). The secret signs deliveries
// (HMAC-SHA256); it is shown once, at creation.
export const webhooks = pgTable('webhooks', {
  id: uuid('id').primaryKey().defaultRandom(),
  url: text('url').notNull(),
  events: text('events').array().notNull(),
  // The signing secret sealed like a provider key (AES-GCM under SECRETS_KEY, the webhook id bound), with
  // the fingerprint of the key that sealed it; a row without kek_version predates sealing and holds it
  // as given until POST /admin/secrets/rotate seals it.
  secret: text('secret').notNull(),
  kekVersion: text('kek_version'),
  secretHint: text('secret_hint'),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
})

// One row per event per webhook: (webhook_id, event_id) is unique, so an event decided twice is delivered
// once. Pending rows are retried with backoff by the cron until they succeed or their time runs out.
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    // The exact JSON body that is signed and sent.
    body: text('body').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_idx').on(t.webhookId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
  ],
)

// The prepaid balance's credit ledger: append-only (a trigger refuses UPDATE and DELETE); a correction is
// a negative row. kind: topup (an operator's positive credit), adjustment (negative), redemption (a code).
export const credits = pgTable(
  'credits',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    projectId: text('project_id').notNull(),
    amountUsd: numeric('amount_usd', { precision: 14, scale: 6 }).notNull(),
    kind: text('kind').notNull(),
    note: text('note'),
    codeId: uuid('code_id'),
    // The admin token's fingerprint, or "key:<api key id>" for a redemption.
    actor: text('actor').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('credits_project_idx').on(t.projectId, t.id)],
)

// Codes a key holder redeems for credit (POST /v1/redeem). Only the SHA-256 of a code is stored; `hint`
// is its last 4 characters. state: active, redeemed, revoked. project_id: only that project may redeem it.
export const redemptionCodes = pgTable(
  'redemption_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    codeHash: text('code_hash').notNull(),
    hint: text('hint').notNull(),
    amountUsd: usd('amount_usd').notNull(),
    projectId: text('project_id'),
    state: text('state').notNull().default('active'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    redeemedProjectId: text('redeemed_project_id'),
    redeemedKeyId: uuid('redeemed_key_id'),
    redeemedAt: timestamp('redeemed_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('redemption_codes_hash_idx').on(t.codeHash),
    index('redemption_codes_created_idx').on(t.createdAt),
  ],
)
