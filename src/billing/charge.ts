import { usdToMicros } from '../lib/money'

// What the key holder pays: cost × the project's price ratio, in integer pico-USD. The ratio has at most
// 6 decimals (numeric(12,6)), so cost × ratio-in-millionths is exact; dividing back by a million rounds
// half up to the pico-dollar (at ratio 1, or any ratio whose millionths divide the cost, nothing rounds).
export const RATIO_ONE = 1_000_000n

export function ratioMillionths(ratio: string | null | undefined): bigint {
  return ratio == null ? RATIO_ONE : BigInt(usdToMicros(ratio))
}

export function chargePico(costPico: bigint, ratio: bigint): bigint {
  if (ratio === RATIO_ONE) return costPico
  return (costPico * ratio + RATIO_ONE / 2n) / RATIO_ONE
}
