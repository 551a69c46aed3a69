import { picoToUsdString, usdToMicros } from '../lib/money'

// What the key holder pays: cost × the project's price ratio, in integer pico-USD. The ratio has at most
// 6 decimals (numeric(12,6)), so cost × ratio-in-millionths is exact; dividing back by a million rounds
// half up to the pico-dollar (at ratio 1, or any ratio whose millionths divide the cost, nothing rounds).
const RATIO_ONE = 1_000_000n

export function ratioMillionths(ratio: string | null | undefined): bigint {
  return ratio == null ? RATIO_ONE : BigInt(usdToMicros(ratio))
}

export function chargePico(costPico: bigint, ratio: bigint): bigint {
  if (ratio === RATIO_ONE) return costPico
  return (costPico * ratio + RATIO_ONE / 2n) / RATIO_ONE
}

// A reservation's worst case: rounded up, so it never falls short of the charge it stands for.
export function chargeCeilPico(costPico: bigint, ratio: bigint): bigint {
  if (ratio === RATIO_ONE) return costPico
  return (costPico * ratio + RATIO_ONE - 1n) / RATIO_ONE
}

// The charge as the caller sees it: `usage.cost` (a number of USD, OpenRouter's convention) and the
// x-nexusai-cost-usd header (the exact decimal, trailing zeros dropped).
export const costHeader = 'x-nexusai-cost-usd'

export function usdText(pico: bigint): string {
  return picoToUsdString(pico).replace(/\.?0+$/, '')
}

// A reply (or a stream event) with the charge in its `usage` (Chat Completions) or `response.usage`
// (a Responses API object or its response.completed event); false when it has neither.
export function addUsageCost(json: Record<string, unknown> | null, pico: bigint): boolean {
  const usage = (json?.usage ?? (json?.response as Record<string, unknown> | undefined)?.usage) as
    Record<string, unknown> | null | undefined
  if (!usage || typeof usage !== 'object') return false
  usage.cost = Number(usdText(pico))
  return true
}

// `parsed`: the text already parsed (it is changed), so it is not parsed twice.
export function withUsageCost(text: string, pico: bigint, parsed?: Record<string, unknown> | null): string {
  try {
    const json = parsed === undefined ? (JSON.parse(text) as Record<string, unknown>) : parsed
    return addUsageCost(json, pico) ? JSON.stringify(json) : text
  } catch {
    return text
  }
}
