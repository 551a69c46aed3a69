import { describe, expect, it } from 'vitest'
import { costPico, picoToMicrosCeil, picoToUsdString, usdToMicros } from '../../src/lib/money'

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
    expect(costPico(1, 0, price)).toBe(150_000n)
    expect(picoToUsdString(costPico(1234, 567, price))).toBe('0.000525300000')
    expect(costPico(10, 10, undefined)).toBe(0n)
  })

  it('rounds pico-USD up to whole micro-USD for budget counters', () => {
    expect(picoToMicrosCeil(0n)).toBe(0)
    expect(picoToMicrosCeil(1n)).toBe(1)
    expect(picoToMicrosCeil(1_000_000n)).toBe(1)
    expect(picoToMicrosCeil(1_000_001n)).toBe(2)
  })
})
