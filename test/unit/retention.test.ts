import { describe, expect, it } from 'vitest'
import { planLedger } from '../../src/usage/retention'

const at = (iso: string) => Date.parse(iso)
const months = (plan: ReturnType<typeof planLedger>) => plan.create.map((c) => c.month)

describe('the usage ledger plan', () => {
  it('creates the current month and two ahead when they are missing, with UTC month bounds', () => {
    const plan = planLedger(at('2026-12-31T23:59:59Z'), ['2026-12'], undefined)
    expect(months(plan)).toEqual(['2027-01', '2027-02'])
    expect(plan.create[0]).toEqual({
      month: '2027-01',
      from: new Date('2027-01-01T00:00:00Z'),
      to: new Date('2027-02-01T00:00:00Z'),
    })
    expect(plan.drop).toBeNull()
  })

  it('keeps everything when no retention is set', () => {
    const plan = planLedger(
      at('2026-06-15T00:00:00Z'),
      ['2019-01', '2026-06', '2026-07', '2026-08'],
      undefined,
    )
    expect(plan).toEqual({ create: [], drop: null })
  })

  it('keeps N months counting the current one, and cuts the rest at the first kept month', () => {
    const existing = ['2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05']
    const plan = planLedger(at('2026-03-10T12:00:00Z'), existing, 3)
    expect(plan.drop).toEqual({ months: ['2025-12'], cutoff: new Date('2026-01-01T00:00:00Z') })
    expect(planLedger(at('2026-03-10T12:00:00Z'), existing, 1).drop!.months).toEqual([
      '2025-12',
      '2026-01',
      '2026-02',
    ])
  })
})
