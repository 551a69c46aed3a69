import { describe, expect, it } from 'vitest'
import {
  headStartTarget,
  noteCircuits,
  notePin,
  noteRefused,
  observeGuardMs,
} from '../../src/pipeline/overlap'
import type { CircuitRead } from '../../src/redis/scripts/guard'
import type { Target } from '../../src/upstream/targets'

// Only the fields the policy reads; the rest of a Target does not matter here.
const target = (providerId: string, keyId: string | null = null) =>
  ({ providerId, keyId, provider: providerId, weight: 1, priority: 1 }) as unknown as Target
const read = (route: CircuitRead['route']): CircuitRead => ({
  route,
  successPermille: null,
  latencyMs: null,
  moved: false,
})

// The policy is this isolate's memory: the cases run in order, each building on the one before.
describe('when the first attempt may overlap the guard (GUARD_OVERLAP)', () => {
  const a = target('a')
  const b = target('b')
  const now = 1_000_000

  it('auto waits until this isolate has seen the guard take 10 ms or more', () => {
    expect(headStartTarget('auto', 'k1', [a, b], now)).toBeNull()
    observeGuardMs(1)
    expect(headStartTarget('auto', 'k1', [a, b], now)).toBeNull()
    expect(headStartTarget('on', 'k1', [a, b], now)).toBe(a)
    for (let i = 0; i < 20; i++) observeGuardMs(60)
    expect(headStartTarget('auto', 'k1', [a, b], now)).toBe(a)
    expect(headStartTarget('off', 'k1', [a, b], now)).toBeNull()
  })

  it('skips a provider whose breaker the last guard step here saw open or half-open', () => {
    noteCircuits([a, b], [read('skip'), read('use')])
    expect(headStartTarget('on', 'k1', [a, b], now)).toBe(b)
    noteCircuits([a, b], [read('probe'), read('skip')])
    expect(headStartTarget('on', 'k1', [a, b], now)).toBeNull()
    noteCircuits([a, b], [read('use'), read('use')])
    expect(headStartTarget('on', 'k1', [a, b], now)).toBe(a)
  })

  it("starts a conversation's last server here, with its pooled key", () => {
    notePin('conv-1', target('b', 'key-2'))
    const pooled = {
      ...b,
      keyId: 'key-1',
      keyPool: {
        keys: [
          { id: 'key-1', coolUntil: 0 },
          { id: 'key-2', secret: 's2', coolUntil: 0 },
        ],
      },
    } as unknown as Target
    const chosen = headStartTarget('on', 'k1', [a, pooled], now, 'conv-1')
    expect(chosen?.providerId).toBe('b')
    expect(chosen?.keyId).toBe('key-2')
    // A conversation not served here lately: the target its identity draws, whatever the candidates' order.
    const id = 'c0ffee01d00d0002'.repeat(2)
    const drawn = headStartTarget('on', 'k1', [a, b], now, id)?.providerId
    expect(headStartTarget('on', 'k1', [b, a], now, id)?.providerId).toBe(drawn)
    const ids = Array.from({ length: 40 }, (_, i) => (i * 2654435761).toString(16).padStart(8, '0').repeat(4))
    expect(new Set(ids.map((c) => headStartTarget('on', 'k1', [a, b], now, c)?.providerId))).toEqual(
      new Set(['a', 'b']),
    )
  })

  it('a key refused here waits for the guard for a minute', () => {
    noteRefused('k2', now)
    expect(headStartTarget('on', 'k2', [a, b], now + 59_000)).toBeNull()
    expect(headStartTarget('on', 'k1', [a, b], now + 59_000)).toBe(a)
    expect(headStartTarget('on', 'k2', [a, b], now + 61_000)).toBe(a)
  })
})
