import type { Usage } from './types'

// Only whole, non-negative counts are trusted from an upstream.
export const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0

// OpenAI's input and output counts with their details (Chat Completions and Responses name the counts
// differently, not the details) as disjoint buckets; null unless both counts are whole numbers.
export function openaiBuckets(
  input: unknown,
  output: unknown,
  inputDetails: { cached_tokens?: unknown; cache_write_tokens?: unknown } | null | undefined,
  outputDetails: { reasoning_tokens?: unknown } | null | undefined,
): Usage | null {
  if (!isCount(input) || !isCount(output)) return null
  const part = (n: unknown, max: number) => (isCount(n) ? Math.min(n, max) : 0)
  const cacheRead = part(inputDetails?.cached_tokens, input)
  const cacheWrite = part(inputDetails?.cache_write_tokens, input - cacheRead)
  return {
    inputUncached: input - cacheRead - cacheWrite,
    cacheRead,
    cacheWrite5m: cacheWrite,
    cacheWrite1h: 0,
    output,
    reasoning: part(outputDetails?.reasoning_tokens, output),
  }
}
