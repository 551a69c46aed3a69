import { describe, expect, it } from 'vitest'
import { costOfBuckets, maxCostPico, picoToUsdString, usdToMicros, usdToPico } from '../../src/lib/money'

describe('money is exact', () => {
  it.each([
    ['0.15', 150_000],
    ['10', 10_000_000],
    ['2.500000', 2_500_000],
    ['0.000001', 1],
    ['.5', 500_000],
    [0.6, 600_000],
  ])('usdToMicros(%s) = %i', (usd, micros) => expect(usdToMicros(usd)).toBe(micros))

  it('rejects text that is not a decimal amount', () => expect(() => usdToMicros('1e3')).toThrow())

  it('prices tokens in pico-USD without rounding', () => {
    const price = { inputMicrosPerMillion: 150_000, outputMicrosPerMillion: 600_000 }
    const cost = (input: number, output: number, p = price) =>
      costOfBuckets({ inputUncached: input, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output }, p)
    expect(cost(1, 0)).toBe(150_000n)
    expect(picoToUsdString(cost(1234, 567))).toBe('0.000525300000')
    expect(
      costOfBuckets(
        { inputUncached: 10, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 10 },
        undefined,
      ),
    ).toBe(0n)
  })

  it('reads a ledger sum (numeric with 12 decimals) as exact pico-USD for the budget counters', () => {
    expect(usdToPico('0.000000000001')).toBe(1n)
    expect(usdToPico('12.000525300000')).toBe(12_000_525_300_000n)
    expect(usdToPico('0')).toBe(0n)
    expect(usdToPico('123456.5')).toBe(123_456_500_000_000_000n)
    expect(usdToPico(picoToUsdString(987_654_321_012_345n))).toBe(987_654_321_012_345n)
  })
})

describe('costOfBuckets', () => {
  const buckets = { inputUncached: 100, cacheRead: 1000, cacheWrite5m: 10, cacheWrite1h: 1, output: 50 }
  it('charges each bucket at its own price, and at the input price when it has none', () => {
    expect(costOfBuckets(buckets, { inputMicrosPerMillion: 3, outputMicrosPerMillion: 15 })).toBe(
      1111n * 3n + 50n * 15n,
    )
    const full = {
      inputMicrosPerMillion: 3,
      outputMicrosPerMillion: 15,
      cacheReadMicrosPerMillion: 1,
      cacheWrite5mMicrosPerMillion: 4,
      cacheWrite1hMicrosPerMillion: 6,
    }
    expect(costOfBuckets(buckets, full)).toBe(300n + 1000n + 40n + 6n + 750n)
  })

  it('uses the long-context prices above the threshold of prompt tokens', () => {
    const price = {
      inputMicrosPerMillion: 3,
      outputMicrosPerMillion: 15,
      longContextThreshold: 1111,
      longInputMicrosPerMillion: 6,
      longOutputMicrosPerMillion: 22,
    }
    expect(costOfBuckets(buckets, price)).toBe(1111n * 3n + 50n * 15n)
    expect(costOfBuckets({ ...buckets, inputUncached: 101 }, price)).toBe(1112n * 6n + 50n * 22n)
  })
})

describe('maxCostPico (what a budget reserves)', () => {
  const price = {
    inputMicrosPerMillion: 3,
    outputMicrosPerMillion: 15,
    cacheReadMicrosPerMillion: 1,
    cacheWrite5mMicrosPerMillion: 4,
    cacheWrite1hMicrosPerMillion: 6,
    longContextThreshold: 1000,
    longInputMicrosPerMillion: 7,
    longOutputMicrosPerMillion: 22,
  }
  it('is never below what any split of the prompt into buckets settles at', () => {
    const prompt = 900
    const worst = maxCostPico(prompt, 50, price)
    for (const split of [
      { inputUncached: prompt, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 },
      { inputUncached: 0, cacheRead: prompt, cacheWrite5m: 0, cacheWrite1h: 0 },
      { inputUncached: 0, cacheRead: 0, cacheWrite5m: prompt, cacheWrite1h: 0 },
      { inputUncached: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: prompt },
    ])
      expect(costOfBuckets({ ...split, output: 50 }, price)).toBeLessThanOrEqual(worst)
    expect(worst).toBe(900n * 6n + 50n * 15n)
  })

  it('takes the long-context tier above its threshold', () => {
    expect(maxCostPico(2000, 10, price)).toBe(2000n * 7n + 10n * 22n)
    expect(
      costOfBuckets(
        { inputUncached: 2000, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 10 },
        price,
      ),
    ).toBe(maxCostPico(2000, 10, price))
  })
})
