import * as z from 'zod/mini'
import { PROVIDER_KEY_REF } from '../env'
import '../lib/zod-en'
import { PROVIDER_TYPES } from '../upstream/providers/types'
import { CIRCUIT_LIMITS } from '../upstream/circuit'
import { EVENT_TYPES } from '../webhooks/events'
import { STRATEGIES } from '../upstream/route-order'

// Admin request bodies. Every object refuses unknown fields (a typo such as `rpm` must not be a
// silent no-op) with the field as `param`; PATCH bodies are the same fields, all optional, not empty.
const unknownField = z.unknown().check(z.refine(() => false, { error: 'Unknown field.' }))
const strict = <S extends z.core.$ZodLooseShape>(shape: S) => z.catchall(z.object(shape), unknownField)
const notEmpty = (body: object) => Object.keys(body).length > 0
const NOTHING_TO_UPDATE = { error: 'The body has no fields to update.' }
// PATCH: every field optional, at least one present.
const patchOf = <S extends z.core.$ZodLooseShape>(fields: S) =>
  strict(z.partial(z.object(fields)).shape).check(z.refine(notEmpty, NOTHING_TO_UPDATE))

// Exact USD amounts as numeric(14,6): a JSON number or a decimal string, ≥ 0, at most 6 decimals.
const usd = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((value: number | string, ctx) => {
    const text = typeof value === 'number' ? String(value) : value.trim()
    if (/^\d{1,8}(\.\d{1,6})?$/.test(text)) return text
    ctx.issues.push({
      code: 'custom',
      message: 'must be a USD amount ≥ 0 with at most 6 decimals (below 100000000).',
      input: value,
    })
    return z.NEVER
  }),
)
// A credit or an adjustment: like usd, signed, not zero.
const signedUsd = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((value: number | string, ctx) => {
    const text = typeof value === 'number' ? String(value) : value.trim()
    if (/^-?\d{1,8}(\.\d{1,6})?$/.test(text) && !/^-?0*(\.0*)?$/.test(text)) return text
    ctx.issues.push({
      code: 'custom',
      message: 'must be a non-zero USD amount with at most 6 decimals (negative: an adjustment).',
      input: value,
    })
    return z.NEVER
  }),
)
// What a key holder pays per dollar of upstream cost: > 0, at most 6 decimals (numeric(12,6)).
const ratio = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((value: number | string, ctx) => {
    const text = typeof value === 'number' ? String(value) : value.trim()
    if (/^\d{1,6}(\.\d{1,6})?$/.test(text) && !/^0*(\.0*)?$/.test(text)) return text
    ctx.issues.push({
      code: 'custom',
      message: 'must be a number > 0 with at most 6 decimals (1 = cost, 1.5 = cost + 50%).',
      input: value,
    })
    return z.NEVER
  }),
)
const count = (max = 2_147_483_647) => z.int().check(z.gte(0), z.lte(max))
const datetime = z.pipe(
  z.iso.datetime({ offset: true }),
  z.transform((v: string) => new Date(v)),
)
// Postgres text cannot hold NUL or an unpaired UTF-16 surrogate: such input is the client's mistake
// (400 naming the field), not a database failure.
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
export const isStorableText = (value: string) => !BAD_TEXT.test(value)
export const storable = z.refine<string>(
  isStorableText,
  'must not contain NUL characters or unpaired surrogates.',
)
const trimmed = (...checks: z.core.$ZodCheck<string>[]) => z.string().check(z.trim(), storable, ...checks)
const model = trimmed(z.minLength(1), z.maxLength(200))
export const Uuid = z.guid()

const projectId = trimmed(z.minLength(1), z.maxLength(100))
// The seed's vocabulary says "enabled"; it is stored and answered as "active".
const status = z.pipe(
  z.enum(['active', 'enabled', 'disabled']),
  z.transform((status) => (status === 'enabled' ? 'active' : status)),
)

// Fractions of a budget at which budget.threshold webhooks fire; null: the default 0.5, 0.8, 1.0.
const budgetAlerts = z.nullable(
  z.pipe(
    z.array(z.number().check(z.gt(0), z.lte(1))).check(z.minLength(1), z.maxLength(10)),
    z.transform((list: number[]) => [...new Set(list)].sort((a, b) => a - b)),
  ),
)

// Rolling windows (src/billing/windows.ts): at most one per period, each with a dollar or request limit
// (or both).
const usageWindow = strict({
  period: z.enum(['5h', '1d', '7d', '30d']),
  limit_usd: z.optional(z.nullable(usd)),
  limit_requests: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(2_147_483_647)))),
})
const windows = z.pipe(
  z.array(usageWindow).check(
    z.maxLength(4),
    z.refine(
      (list) => new Set(list.map((w) => w.period)).size === list.length,
      'must name each period at most once.',
    ),
    z.refine(
      (list) => list.every((w) => w.limit_usd != null || w.limit_requests != null),
      'each window needs limit_usd or limit_requests.',
    ),
  ),
  z.transform((list) =>
    list.map((w) => ({
      period: w.period,
      limit_usd: w.limit_usd ?? null,
      limit_requests: w.limit_requests ?? null,
    })),
  ),
)

const keyFields = {
  name: trimmed(z.minLength(1), z.maxLength(200)),
  project_id: projectId,
  // "*" allows every model; an empty list allows none.
  allowed_models: z.pipe(
    z.array(model).check(z.maxLength(1000)),
    z.transform((list: string[]) => [...new Set(list)]),
  ),
  rpm_limit: z.nullable(count()),
  tpm_limit: z.nullable(count()),
  daily_budget: z.nullable(usd),
  monthly_budget: z.nullable(usd),
  budget_alerts: budgetAlerts,
  windows,
  status,
  expires_at: z.nullable(datetime),
}
export const KeyCreate = strict(z.required(z.partial(z.object(keyFields)), { name: true }).shape)
export const KeyPatch = patchOf(keyFields)
export type KeyCreate = z.infer<typeof KeyCreate>
export type KeyPatch = z.infer<typeof KeyPatch>

// A project's limits apply to all its keys together, on top of each key's own.
const projectFields = {
  name: trimmed(z.minLength(1), z.maxLength(200)),
  status,
  rpm_limit: z.nullable(count()),
  tpm_limit: z.nullable(count()),
  daily_budget: z.nullable(usd),
  monthly_budget: z.nullable(usd),
  budget_alerts: budgetAlerts,
  price_ratio: ratio,
  balance_alert_usd: z.nullable(usd),
  windows,
}
export const ProjectCreate = strict({ id: projectId, ...z.partial(z.object(projectFields)).shape })
export const ProjectPatch = patchOf(projectFields)
export type ProjectCreate = z.infer<typeof ProjectCreate>
export type ProjectPatch = z.infer<typeof ProjectPatch>

// The upstream key lives in a Worker secret; a URL with credentials would put it in responses and logs.
const baseUrl = z.url({ protocol: /^https?$/ }).check(
  z.refine((url) => {
    // zod runs refinements even after the URL check failed.
    const parsed = URL.canParse(url) ? new URL(url) : null
    return !parsed?.username && !parsed?.password
  }, 'must not contain credentials; put the key in the Worker secret named by api_key_ref.'),
  // The upstream path is appended to it (`/chat/completions`), which a query or fragment would break.
  z.refine((url) => {
    const parsed = URL.canParse(url) ? new URL(url) : null
    return !parsed || (!url.includes('?') && !url.includes('#'))
  }, 'must not contain a query string or a fragment.'),
)

// An upstream key as providers issue them: printable ASCII without spaces. Messages never echo it.
const UpstreamKey = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(1000),
    z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces.'),
  )
const MAX_POOL = 100
export const ProviderKeyAdd = strict({ api_key: UpstreamKey })
export const ProviderKeyPatch = strict({ state: z.enum(['active', 'disabled']) })
export type ProviderKeyAdd = z.infer<typeof ProviderKeyAdd>
export type ProviderKeyPatch = z.infer<typeof ProviderKeyPatch>

// Circuit breaker settings that differ from the defaults; a PATCH replaces the whole object.
const upTo = (max: number) => z.optional(z.int().check(z.gte(1), z.lte(max)))
const circuit = strict({
  threshold: upTo(CIRCUIT_LIMITS.threshold),
  window_ms: upTo(CIRCUIT_LIMITS.window_ms),
  failure_ratio: upTo(CIRCUIT_LIMITS.failure_ratio),
  cooldown_ms: upTo(CIRCUIT_LIMITS.cooldown_ms),
})

const providerFields = {
  // Not all digits and not a UUID: a provider is also addressed by its number and its id.
  name: trimmed(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_" or "-".'),
    z.refine((name) => !/^\d+$/.test(name), 'must not be all digits (numbers address providers by number).'),
    z.refine((name) => !Uuid.safeParse(name).success, 'must not be a UUID.'),
  ),
  type: z.enum(PROVIDER_TYPES),
  base_url: baseUrl,
  // The name of the secret, never its value; "" clears it like null (what z.preprocess does).
  api_key_ref: z.pipe(
    z.transform((v: unknown) => (v === '' ? null : v)),
    z.nullable(
      z
        .string()
        .check(
          z.regex(
            PROVIDER_KEY_REF,
            'must name a provider-key secret, PROVIDER_<NAME>_API_KEY (e.g. PROVIDER_OPENAI_API_KEY).',
          ),
        ),
    ),
  ),
  enabled: z.boolean(),
  timeout_ms: z.int().check(z.gte(100), z.lte(600_000)),
  max_retries: z.int().check(z.gte(0), z.lte(10)),
  // Write-only upstream keys, stored sealed (src/secrets/). On PATCH either one replaces the stored
  // pool; null or [] empties it.
  api_key: z.nullable(UpstreamKey),
  api_keys: z.array(UpstreamKey).check(z.maxLength(MAX_POOL)),
  circuit,
}
const oneKeyField = z.refine(
  (body: unknown) => {
    const b = body as { api_key?: unknown; api_keys?: unknown }
    return b.api_key === undefined || b.api_keys === undefined
  },
  {
    error: 'Send either api_key or api_keys, not both.',
    path: ['api_keys'],
  },
)
export const ProviderCreate = strict(
  z.required(z.partial(z.object(providerFields)), { name: true, base_url: true }).shape,
).check(oneKeyField)
export const ProviderPatch = patchOf(providerFields).check(oneKeyField)
export type ProviderCreate = z.infer<typeof ProviderCreate>
export type ProviderPatch = z.infer<typeof ProviderPatch>

// The flags of drizzle/columns.ts (Capabilities); a PATCH replaces the whole object.
const capabilities = strict({
  anthropic_version: z.optional(z.enum(['2023-06-01', '2026-10-21'])),
  sampling: z.optional(z.boolean()),
  thinking: z.optional(z.enum(['none', 'budget', 'adaptive', 'always'])),
  mid_conversation_system: z.optional(z.boolean()),
  default_max_tokens: z.optional(z.int().check(z.gte(1), z.lte(1_000_000))),
  embedding_task_type: z.optional(trimmed(z.minLength(1), z.maxLength(100))),
})

const mappingFields = {
  model,
  // The provider's id, number or name.
  provider_id: trimmed(z.minLength(1), z.maxLength(100)),
  upstream_model: model,
  priority: count(1_000_000),
  weight: count(1_000_000),
  strategy: z.enum(STRATEGIES),
  enabled: z.boolean(),
  // What a budget reserves for a request without max_tokens; null: the documented default.
  max_output_tokens: z.nullable(z.int().check(z.gte(1), z.lte(10_000_000))),
  capabilities,
}
export const MappingCreate = strict(
  z.required(z.partial(z.object(mappingFields)), { model: true, provider_id: true }).shape,
)
export const MappingPatch = patchOf(mappingFields)
export type MappingCreate = z.infer<typeof MappingCreate>
export type MappingPatch = z.infer<typeof MappingPatch>

export const PricePut = strict({
  input_per_million: usd,
  output_per_million: usd,
  // Absolute prices per bucket; absent: the input price.
  cache_read_per_million: z.optional(z.nullable(usd)),
  cache_write_5m_per_million: z.optional(z.nullable(usd)),
  cache_write_1h_per_million: z.optional(z.nullable(usd)),
  long_context_threshold: z.optional(z.nullable(count())),
  long_input_per_million: z.optional(z.nullable(usd)),
  long_output_per_million: z.optional(z.nullable(usd)),
  effective_from: z.optional(datetime),
})
export type PricePut = z.infer<typeof PricePut>
export const ModelName = model
export const MappingsQuery = z.object({ model: z.optional(model) })

// The URL's scheme is checked against the deployment in admin/webhooks.ts (http only to loopback, locally).
const webhookFields = {
  url: z.url({ protocol: /^https?$/ }).check(
    z.maxLength(2000),
    storable,
    z.refine((url) => {
      const parsed = URL.canParse(url) ? new URL(url) : null
      return !parsed?.username && !parsed?.password
    }, 'must not contain credentials.'),
  ),
  events: z.pipe(
    z.array(z.enum(EVENT_TYPES)).check(z.minLength(1)),
    z.transform((list: (typeof EVENT_TYPES)[number][]) => [...new Set(list)]),
  ),
  // Signs every delivery; generated (and shown once) when a webhook is created without one.
  secret: z.string().check(z.minLength(16), z.maxLength(200), storable),
  enabled: z.boolean(),
}
export const WebhookCreate = strict(
  z.required(z.partial(z.object(webhookFields)), { url: true, events: true }).shape,
)
export const WebhookPatch = patchOf(webhookFields)
export type WebhookCreate = z.infer<typeof WebhookCreate>
export type WebhookPatch = z.infer<typeof WebhookPatch>

// POST /admin/projects/:id/credits: a top-up (positive) or an adjustment (negative).
export const CreditCreate = strict({
  amount_usd: signedUsd,
  note: z.optional(z.nullable(trimmed(z.maxLength(500)))),
})
export type CreditCreate = z.infer<typeof CreditCreate>

// POST /admin/redemption-codes: `count` codes worth amount_usd each, redeemable by any project (or only by
// project_id), until expires_at.
export const CodesCreate = strict({
  amount_usd: usd.check(z.refine((v) => !/^0*(\.0*)?$/.test(v), 'must be more than 0.')),
  count: z.optional(z.int().check(z.gte(1), z.lte(1000))),
  project_id: z.optional(z.nullable(projectId)),
  expires_at: z.optional(z.nullable(datetime)),
})
export type CodesCreate = z.infer<typeof CodesCreate>
export const CodesQuery = z.object({
  state: z.optional(z.enum(['active', 'redeemed', 'revoked'])),
  project_id: z.optional(projectId),
})
