import { describe, expect, it } from 'vitest'
import {
  dayTag,
  formatResetDuration,
  monthTag,
  startOfNextUtcDay,
  startOfNextUtcMonth,
} from '../../src/lib/time'

describe('UTC windows and reset durations', () => {
  const at = Date.parse('2026-12-31T23:59:30Z')
  it('tags days and months in UTC', () => {
    expect(dayTag(at)).toBe('20261231')
    expect(monthTag(at)).toBe('202612')
    expect(new Date(startOfNextUtcDay(at)).toISOString()).toBe('2027-01-01T00:00:00.000Z')
    expect(new Date(startOfNextUtcMonth(at)).toISOString()).toBe('2027-01-01T00:00:00.000Z')
  })
  it.each([
    [20, '20ms'],
    [1000, '1s'],
    [1500, '2s'],
    [60_000, '1m0s'],
    [361_000, '6m1s'],
    [-5, '0ms'],
  ])('formats %i ms as %s', (ms, text) => expect(formatResetDuration(ms)).toBe(text))
})
