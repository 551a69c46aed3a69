import { z } from 'zod'

// Admin request bodies. Every object refuses unknown fields (a typo such as `rpm` must not be a
// silent no-op) with the field as `param`; PATCH bodies are the same fields, all optional, not empty.
const strict = <S extends z.ZodRawShape>(shape: S) =>
  z.object(shape).catchall(z.unknown().refine(() => false, { error: 'Unknown field.' }))
const notEmpty = (body: object) => Object.keys(body).length > 0
const NOTHING_TO_UPDATE = { error: 'The body has no fields to update.' }

// Exact USD amounts as numeric(14,6): a JSON number or a decimal string, ≥ 0, at most 6 decimals.
const usd = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim()
  if (/^\d{1,8}(\.\d{1,6})?$/.test(text)) return text
  ctx.addIssue({
    code: 'custom',
    message: 'must be a USD amount ≥ 0 with at most 6 decimals (below 100000000).',
  })
  return z.NEVER
})
const count = (max = 2_147_483_647) => z.number().int().min(0).max(max)
const datetime = z.iso.datetime({ offset: true }).transform((v) => new Date(v))
const model = z.string().trim().min(1).max(200)
export const Uuid = z.guid()

const keyFields = {
  name: z.string().trim().min(1).max(200),
  project_id: z.string().trim().min(1).max(100),
  // "*" allows every model; an empty list allows none.
  allowed_models: z
    .array(model)
    .max(1000)
    .transform((list) => [...new Set(list)]),
  rpm_limit: count().nullable(),
  tpm_limit: count().nullable(),
  daily_budget: usd.nullable(),
  monthly_budget: usd.nullable(),
  status: z.enum(['active', 'disabled']),
  expires_at: datetime.nullable(),
}
export const KeyCreate = strict(z.object(keyFields).partial().required({ name: true }).shape)
export const KeyPatch = strict(z.object(keyFields).partial().shape).refine(notEmpty, NOTHING_TO_UPDATE)
export type KeyCreate = z.infer<typeof KeyCreate>
export type KeyPatch = z.infer<typeof KeyPatch>

// The upstream key lives in a Worker secret; a URL with credentials would put it in responses and logs.
const baseUrl = z.url({ protocol: /^https?$/ }).refine((url) => {
  // zod runs refinements even after the URL check failed.
  const parsed = URL.canParse(url) ? new URL(url) : null
  return !parsed?.username && !parsed?.password
}, 'must not contain credentials; put the key in the Worker secret named by api_key_ref.')

const providerFields = {
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 letters, digits, ".", "_" or "-".'),
  type: z.enum(['openai']),
  base_url: baseUrl,
  // The name of the secret, never its value; "" clears it like null.
  api_key_ref: z.preprocess(
    (v) => (v === '' ? null : v),
    z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_-]{0,199}$/,
        'must be the name of a Worker secret, e.g. PROVIDER_OPENAI_API_KEY.',
      )
      .nullable(),
  ),
  enabled: z.boolean(),
  timeout_ms: z.number().int().min(100).max(600_000),
  max_retries: z.number().int().min(0).max(10),
}
export const ProviderCreate = strict(
  z.object(providerFields).partial().required({ name: true, base_url: true }).shape,
)
export const ProviderPatch = strict(z.object(providerFields).partial().shape).refine(
  notEmpty,
  NOTHING_TO_UPDATE,
)
export type ProviderCreate = z.infer<typeof ProviderCreate>
export type ProviderPatch = z.infer<typeof ProviderPatch>

const mappingFields = {
  model,
  provider_id: Uuid,
  upstream_model: model,
  priority: count(1_000_000),
  weight: count(1_000_000),
  enabled: z.boolean(),
}
export const MappingCreate = strict(
  z.object(mappingFields).partial().required({ model: true, provider_id: true }).shape,
)
export const MappingPatch = strict(z.object(mappingFields).partial().shape).refine(
  notEmpty,
  NOTHING_TO_UPDATE,
)
export type MappingCreate = z.infer<typeof MappingCreate>
export type MappingPatch = z.infer<typeof MappingPatch>

export const PricePut = strict({
  input_per_million: usd,
  output_per_million: usd,
  effective_from: datetime.optional(),
})
export type PricePut = z.infer<typeof PricePut>
export const ModelName = model
