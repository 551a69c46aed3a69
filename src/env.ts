import * as z from 'zod/mini'
import './lib/zod-en'

// The only reader of raw env strings: every var and secret is checked here once per env object.
const flag = z.pipe(
  z.optional(z.enum(['true', 'false', '1', '0', ''])),
  z.transform((v) => v === 'true' || v === '1'),
)
const positiveInt = (fallback: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((v: string | undefined, ctx) => {
      if (v === undefined || v === '') return fallback
      const n = Number(v)
      if (!Number.isInteger(n) || n <= 0) {
        ctx.issues.push({ code: 'custom', message: 'must be a positive integer', input: v })
        return z.NEVER
      }
      return n
    }),
  )
const nonEmptyString = z.string().check(z.minLength(1))

const EnvSchema = z.object({
  DATABASE_URL: nonEmptyString,
  UPSTASH_REDIS_REST_URL: z.url(),
  UPSTASH_REDIS_REST_TOKEN: nonEmptyString,
  ADMIN_TOKEN: nonEmptyString,
  METRICS_TOKEN: z.optional(z.string()),
  // Signs virtual keys (see lib/key-mac.ts); unset, a key derived from ADMIN_TOKEN signs them.
  KEY_MAC_SECRET: z.optional(z.string()),
  MAX_BODY_BYTES: z.pipe(positiveInt(32 * 1024 * 1024), z.number().check(z.lte(32 * 1024 * 1024))),
  REDIS_FAIL_OPEN: flag,
  // Conversation affinity (docs/affinity.md) off: pins are neither read nor written (a comparison switch).
  AFFINITY_DISABLED: flag,
  // Whether a request's first upstream attempt may start while the guard's Redis step is in flight
  // (pipeline/overlap.ts): auto (on while Redis is far from this isolate), on, or off.
  GUARD_OVERLAP: z._default(z.enum(['auto', 'on', 'off']), 'auto'),
  // A local deployment (npm run dev, tests): provider base_url may be a loopback or private address.
  ALLOW_PRIVATE_UPSTREAMS: flag,
  // Local stack only: where the Neon driver sends SQL-over-HTTP instead of Neon's servers.
  NEON_HTTP_ENDPOINT: z.optional(z.url()),
  // UTC months of usage rows kept, the current one included (src/usage/retention.ts); unset: all of them.
  USAGE_RETENTION_MONTHS: z.pipe(
    positiveInt(0),
    z.transform((n: number) => (n === 0 ? undefined : n)),
  ),
  // Shifts the gateway's clock; lets tests (and drills) cross a UTC day or month boundary.
  CLOCK_OFFSET_MS: z.pipe(
    z.optional(z.string()),
    z.transform((v) => Number(v ?? 0) || 0),
  ),
})

export type Config = z.infer<typeof EnvSchema> & {
  // Every string var by name: provider overrides (PROVIDER_<NAME>_*) and the secrets api_key_ref names.
  vars: Record<string, string>
}

const cache = new WeakMap<object, Config>()

export function readConfig(env: Record<string, unknown>): Config {
  const hit = cache.get(env)
  if (hit) return hit
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ')
    throw new Error(`invalid Worker configuration: ${names}`)
  }
  const vars: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') vars[name] = value
  const config = { ...parsed.data, vars }
  cache.set(env, config)
  return config
}

// `openai-main` → OPENAI_MAIN: the part of PROVIDER_<NAME>_* a provider's overrides use. Two providers
// with the same env name would share each other's overrides, so the admin API refuses the second.
export function providerEnvName(providerName: string): string {
  return providerName.toUpperCase().replace(/[^A-Z0-9]/g, '_')
}

// The seed's hyphenated spelling (PROVIDER_OPENAI-MAIN_API_KEY) is accepted too.
export function providerVar(config: Config, providerName: string, suffix: string): string | undefined {
  const canonical = providerEnvName(providerName)
  const hyphenated = providerName.toUpperCase()
  return config.vars[`PROVIDER_${canonical}_${suffix}`] ?? config.vars[`PROVIDER_${hyphenated}_${suffix}`]
}

// The base URL routing calls (and the admin API reports as effective_base_url): PROVIDER_<NAME>_BASE_URL
// wins over the row; no trailing slash, since the upstream path is appended to it.
export function providerBaseUrl(config: Config, provider: { name: string; baseUrl: string }): string {
  return (providerVar(config, provider.name, 'BASE_URL') ?? provider.baseUrl).replace(/\/+$/, '')
}

// What api_key_ref may name: a provider-key secret, never a store or admin credential (DATABASE_URL,
// UPSTASH_*, ADMIN_TOKEN, …), since whatever it names is sent to the provider's base_url.
export const PROVIDER_KEY_REF = /^PROVIDER_[A-Z0-9][A-Z0-9_-]{0,180}_API_KEY$/

// The upstream key routing sends: PROVIDER_<NAME>_API_KEY, else the secret api_key_ref names. A ref that
// does not fit the pattern (a row written before it was enforced) names nothing.
export function providerApiKey(
  config: Config,
  provider: { name: string; apiKeyRef: string | null },
): string | undefined {
  const ref = provider.apiKeyRef
  return (
    providerVar(config, provider.name, 'API_KEY') ??
    (ref && PROVIDER_KEY_REF.test(ref) ? config.vars[ref] : undefined)
  )
}
