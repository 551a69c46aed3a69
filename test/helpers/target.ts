import type { Capabilities } from '../../drizzle/columns'
import { CIRCUIT_DEFAULTS } from '../../src/upstream/circuit'
import type { Target } from '../../src/upstream/targets'

// A routing target as the catalog builds one, for the translators' table tests.
export function target(
  type: Target['type'],
  capabilities: Capabilities = {},
  extra: Partial<Target> = {},
): Target {
  return {
    provider: `${type}-main`,
    providerId: '00000000-0000-4000-8000-000000000001',
    type,
    baseUrl:
      type === 'gemini' ? 'https://generativelanguage.googleapis.com/v1beta' : `https://api.${type}.com/v1`,
    apiKey: 'sk-upstream',
    timeoutMs: 30_000,
    maxRetries: 1,
    upstreamModel: type === 'gemini' ? 'gemini-3.5-flash' : 'claude-sonnet-4-6',
    maxOutputTokens: null,
    priority: 1,
    weight: 1,
    strategy: 'priority',
    circuit: CIRCUIT_DEFAULTS,
    capabilities,
    ...extra,
  }
}
