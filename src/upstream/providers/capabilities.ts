import type { Capabilities } from '../../../drizzle/columns'

// The mapping's capability flags (their shape is the database's: drizzle/columns.ts, docs/providers.md §7).
export type { Capabilities }

export const DEFAULT_MAX_TOKENS = 4096

export function capabilitiesOf(value: unknown): Capabilities {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Capabilities) : {}
}
