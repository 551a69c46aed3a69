// Exact money. Prices and budgets arrive as decimal USD strings (Postgres numeric) and become integer
// micro-USD; a request's cost is tokens × micro-USD-per-million, i.e. integer pico-USD (1e-12), as bigint.

export function usdToMicros(usd: string | number): number {
  const text = typeof usd === 'number' ? usd.toFixed(6) : usd.trim()
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text)
  if (!match) throw new Error(`not a decimal amount: ${text}`)
  const [, sign, whole = '', frac = ''] = match
  const micros = Number(whole || '0') * 1_000_000 + Number(frac.slice(0, 6).padEnd(6, '0'))
  return sign === '-' ? -micros : micros
}

// A decimal USD amount with up to 12 decimals (Postgres numeric(_, 12)) as integer pico-USD, exactly.
export function usdToPico(usd: string): bigint {
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(usd.trim())
  if (!match) throw new Error(`not a decimal amount: ${usd}`)
  const [, sign, whole = '', frac = ''] = match
  const pico = BigInt(whole || '0') * 1_000_000_000_000n + BigInt(frac.slice(0, 12).padEnd(12, '0'))
  return sign === '-' ? -pico : pico
}

export type Price = {
  inputMicrosPerMillion: number
  outputMicrosPerMillion: number
  // Absolute per-bucket prices; absent or null: the input price.
  cacheReadMicrosPerMillion?: number | null
  cacheWrite5mMicrosPerMillion?: number | null
  cacheWrite1hMicrosPerMillion?: number | null
  // Above this many prompt tokens, the long prices apply to uncached input and output.
  longContextThreshold?: number | null
  longInputMicrosPerMillion?: number | null
  longOutputMicrosPerMillion?: number | null
}

// One request's tokens in disjoint buckets (src/upstream/providers/types.ts Usage).
export type TokenBuckets = {
  inputUncached: number
  cacheRead: number
  cacheWrite5m: number
  cacheWrite1h: number
  output: number
}

// Σ bucket × its price, in integer pico-USD: exact, and each token priced once.
export function costOfBuckets(u: TokenBuckets, price: Price | undefined): bigint {
  if (!price) return 0n
  const prompt = u.inputUncached + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h
  const long = price.longContextThreshold != null && prompt > price.longContextThreshold
  const input = (long ? price.longInputMicrosPerMillion : null) ?? price.inputMicrosPerMillion
  const output = (long ? price.longOutputMicrosPerMillion : null) ?? price.outputMicrosPerMillion
  const term = (tokens: number, micros: number | null | undefined) => BigInt(tokens) * BigInt(micros ?? input)
  return (
    term(u.inputUncached, input) +
    term(u.cacheRead, price.cacheReadMicrosPerMillion) +
    term(u.cacheWrite5m, price.cacheWrite5mMicrosPerMillion) +
    term(u.cacheWrite1h, price.cacheWrite1hMicrosPerMillion) +
    term(u.output, output)
  )
}

// The most `prompt` input and `completion` output tokens can cost at `price`, however the upstream splits
// the prompt into cache buckets (a cache write may cost more than plain input) and with the long-context
// tier when the prompt is above its threshold: what a budget reserves before the call.
export function maxCostPico(prompt: number, completion: number, price: Price | undefined): bigint {
  if (!price) return 0n
  const long = price.longContextThreshold != null && prompt > price.longContextThreshold
  const input = (long ? price.longInputMicrosPerMillion : null) ?? price.inputMicrosPerMillion
  const output = (long ? price.longOutputMicrosPerMillion : null) ?? price.outputMicrosPerMillion
  const perPromptToken = Math.max(
    input,
    price.cacheWrite5mMicrosPerMillion ?? input,
    price.cacheWrite1hMicrosPerMillion ?? input,
  )
  return BigInt(prompt) * BigInt(perPromptToken) + BigInt(completion) * BigInt(output)
}

export function picoToUsdString(pico: bigint): string {
  const negative = pico < 0n
  const abs = negative ? -pico : pico
  const whole = abs / 1_000_000_000_000n
  const frac = (abs % 1_000_000_000_000n).toString().padStart(12, '0')
  return `${negative ? '-' : ''}${whole}.${frac}`
}

export const MICROS_TO_PICO = 1_000_000n
