import { describe, expect, it } from 'vitest'
import { decodeFinish, type Settlement } from '../../src/redis/scripts/finish'
import { decodeGuard, holdOf, type GuardInput } from '../../src/redis/scripts/guard'

// The script wrappers' decoders: what the Lua answers → the typed decisions callers switch on. The
// scripts themselves run against Redis in the integration tests (guard, projects, circuit-breakers).
const NOW = Date.UTC(2026, 11, 6, 22, 0, 0)
const input: GuardInput = {
  version: '7',
  now: NOW,
  ticket: 'ev1',
  tokens: 120,
  costPico: 5_000_000n,
  period: { day: '20261206', month: '202612' },
  reservationTtlMs: 900_000,
  scopes: [
    {
      scope: { kind: 'key', id: 'k1' },
      limits: { rpm: 10, tpm: null, dailyPico: 10n ** 12n, monthlyPico: null },
    },
    {
      scope: { kind: 'project', id: 'team' },
      limits: { rpm: null, tpm: 1000, dailyPico: null, monthlyPico: null },
    },
  ],
  circuits: [],
  windows: [],
  balance: null,
  pinKey: 'nx:pin:c1',
}

describe('the guard decoder', () => {
  const limits = { requests: { remaining: 4, resetMs: 1000 }, tokens: { remaining: 0, resetMs: 60000 } }

  it('admits with the first scope’s limit state and each circuit read', () => {
    const reply = [
      'ok',
      4,
      1000,
      0,
      60000,
      [
        [0, -1, -1, 0],
        [1, 850, 120, 1],
        [2, 0, 900, 0],
      ],
      'id-b|key-2',
    ]
    expect(decodeGuard(reply, input)).toEqual({
      kind: 'ok',
      limits,
      circuits: [
        { route: 'use', successPermille: null, latencyMs: null, moved: false },
        { route: 'probe', successPermille: 850, latencyMs: 120, moved: true },
        { route: 'skip', successPermille: 0, latencyMs: 900, moved: false },
      ],
      pin: 'id-b|key-2',
    })
    // No pin stored (or none asked for) comes back as ''.
    expect(decodeGuard(['ok', 4, 1000, 0, 60000, [], ''], input)).toMatchObject({ kind: 'ok', pin: null })
  })

  it('names the scope of a refusal and of a rebuild', () => {
    expect(decodeGuard(['refused', 2, 4, 1000, 0, 60000, 'tpm', 1000, 30, 2500], input)).toEqual({
      kind: 'refused',
      by: 'tpm',
      scope: { kind: 'project', id: 'team' },
      limits,
      limit: 1000,
      remaining: 30,
      retryMs: 2500,
    })
    expect(decodeGuard(['rebuild', 1], input)).toEqual({ kind: 'rebuild', scope: { kind: 'key', id: 'k1' } })
    expect(decodeGuard(['stale', '9'], input)).toEqual({ kind: 'stale', version: '9' })
  })

  it('gives a budget refusal its window and the time until that window ends', () => {
    expect(decodeGuard(['refused', 1, 4, 1000, 0, 60000, 'budget', 1e12, 0, 'daily'], input)).toEqual({
      kind: 'refused',
      by: 'budget',
      scope: { kind: 'key', id: 'k1' },
      limits,
      window: 'daily',
      limitPico: 1e12,
      leftPico: 0,
      retryMs: 2 * 3600_000,
    })
  })

  it('throws on a reply it does not know, instead of guessing', () => {
    for (const reply of [
      null,
      ['rpm', 0, 0, 0, 0, 5],
      ['refused', 3, 0, 0, 0, 0, 'rpm', 1, 0, 5],
      ['ok', 1, 2, 3, 4],
    ])
      expect(() => decodeGuard(reply, input)).toThrow('unexpected guard reply')
  })

  it('holds tokens where a TPM limit counts them and a reservation where a budget applies', () => {
    expect(holdOf(input)).toEqual({
      ticket: 'ev1',
      period: input.period,
      scopes: [
        { scope: { kind: 'key', id: 'k1' }, tokens: null, reservation: 'ev1|20261206|202612|5000000' },
        { scope: { kind: 'project', id: 'team' }, tokens: 120, reservation: null },
      ],
      reservedPico: 5_000_000n,
      windows: [],
      balance: null,
    })
  })

  it('holds the reservation in each rolling window’s current bucket and against a prepaid balance', () => {
    const windows: GuardInput['windows'] = [
      {
        scope: { kind: 'key', id: 'k1' },
        period: '5h',
        bucketMs: 300_000,
        limitPico: null,
        limitRequests: 3,
      },
      {
        scope: { kind: 'project', id: 'team' },
        period: '7d',
        bucketMs: 10_080_000,
        limitPico: 1n,
        limitRequests: null,
      },
    ]
    const hold = holdOf({ ...input, windows, balance: { projectId: 'team' } })
    expect(hold.windows).toEqual([
      { key: 'nx:win:k:k1:5h', field: `c${Math.floor(NOW / 300_000)}` },
      { key: 'nx:win:p:team:7d', field: `c${Math.floor(NOW / 10_080_000)}` },
    ])
    expect(hold.balance).toEqual({ projectId: 'team', member: 'ev1|20261206|202612|5000000' })
  })

  it('decodes window and balance refusals', () => {
    const windows: GuardInput['windows'] = [
      {
        scope: { kind: 'project', id: 'team' },
        period: '1d',
        bucketMs: 1_440_000,
        limitPico: 9n,
        limitRequests: null,
      },
    ]
    const withEconomy = { ...input, windows, balance: { projectId: 'team' } }
    expect(
      decodeGuard(['refused', 0, 4, 1000, 0, 60000, 'window', 1, 'usd', 9, 120_000], withEconomy),
    ).toEqual({
      kind: 'refused',
      by: 'window',
      scope: { kind: 'project', id: 'team' },
      limits,
      period: '1d',
      over: 'usd',
      limit: 9,
      retryMs: 120_000,
    })
    expect(
      decodeGuard(['refused', 0, 4, 1000, 0, 60000, 'window', 1, 'requests', 0, -1], withEconomy),
    ).toMatchObject({
      retryMs: null,
    })
    expect(decodeGuard(['refused', 0, 4, 1000, 0, 60000, 'balance', 7], withEconomy)).toEqual({
      kind: 'refused',
      by: 'balance',
      scope: { kind: 'project', id: 'team' },
      limits,
      leftPico: 7,
    })
    expect(decodeGuard(['rebuild-balance'], withEconomy)).toEqual({ kind: 'rebuild-balance' })
  })
})

describe('the finish decoder', () => {
  const settlement = (ids: [string, string]): Settlement => ({
    ticket: 'ev1',
    period: input.period,
    actual: { tokens: 10, costPico: 1n },
    scopes: ids.map((id, i) => ({
      scope: { kind: i === 0 ? 'key' : 'project', id },
      held: null,
      alerts: { dailyPico: null, monthlyPico: null, fractions: '0.5', refused: null },
    })),
    outcomes: [],
    economy: { windows: [], reservedPico: 0n, balance: null },
    pin: null,
  })

  it('gives each request its breaker transitions, budget alerts (scopes named) and balance alerts', () => {
    const reply = [
      [[0, 2, 1, 0], []],
      [
        [],
        [
          [2, 'monthly', '0.5', '123000000000000000000'],
          [1, 'daily', 'exhausted', '7'],
        ],
      ],
      [
        [],
        [
          ['low', 120, '3'],
          ['exhausted', 0, '3'],
        ],
      ],
    ]
    expect(decodeFinish(reply, [settlement(['k1', 'p1']), settlement(['k2', 'p2'])])).toEqual([
      {
        moves: [
          { outcome: 0, to: 'open' },
          { outcome: 1, to: 'closed' },
        ],
        alerts: [],
        balance: [],
      },
      {
        moves: [],
        alerts: [
          { scope: 'project', window: 'monthly', crossed: '0.5', spentPico: 123000000000000000000n },
          { scope: 'key', window: 'daily', crossed: 'exhausted', spentPico: 7n },
        ],
        balance: [
          { kind: 'low', leftPico: 120n, cid: '3' },
          { kind: 'exhausted', leftPico: 0n, cid: '3' },
        ],
      },
    ])
  })
})
