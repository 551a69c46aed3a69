import { describe, expect, it } from 'vitest'
import type { CircuitRead } from '../../src/redis/scripts/guard'
import type { KeyPool } from '../../src/secrets/pool'
import {
  affinityResult,
  decodePin,
  encodePin,
  inFixedOrder,
  seededKey,
  seededRandom,
} from '../../src/upstream/affinity'
import { CIRCUIT_DEFAULTS } from '../../src/upstream/circuit'
import { orderTargets } from '../../src/upstream/route-order'
import type { Target } from '../../src/upstream/targets'

const NOW = 1_000_000

function pooled(provider: string, keys: string[], taken: string, extra: Partial<Target> = {}): Target {
  const keyPool: KeyPool = {
    keys: keys.map((id) => ({ id, hint: id, secret: `sk-${id}`, coolUntil: 0 })),
    turn: 0,
  }
  return {
    provider,
    providerId: `id-${provider}`,
    type: 'anthropic',
    baseUrl: `http://${provider}/v1`,
    apiKey: `sk-${taken}`,
    keyId: taken,
    keyPool,
    timeoutMs: 1000,
    maxRetries: 0,
    upstreamModel: 'up',
    maxOutputTokens: null,
    priority: 1,
    weight: 1,
    strategy: 'weighted',
    circuit: CIRCUIT_DEFAULTS,
    capabilities: {},
    ...extra,
  }
}

const closed: CircuitRead = { route: 'use', successPermille: null, latencyMs: null, moved: false }
const open: CircuitRead = { route: 'skip', successPermille: null, latencyMs: null, moved: false }
const order = (targets: Target[], reads: CircuitRead[], pin: string | null, random = () => 0) =>
  orderTargets(targets, reads, 'weighted', random, decodePin(pin), NOW).map((t) => `${t.provider}/${t.keyId}`)

describe('a conversation pinned to a provider and one of its pooled keys', () => {
  const a = pooled('a', ['a1', 'a2', 'a3'], 'a1')
  const b = pooled('b', ['b1', 'b2', 'b3'], 'b1')

  it('goes first with its pinned key, whatever the weighted draw says', () => {
    expect(order([a, b], [closed, closed], null)).toEqual(['a/a1', 'b/b1'])
    expect(order([a, b], [closed, closed], 'id-b|b3')).toEqual(['b/b3', 'a/a1'])
    expect(order([a, b], [closed, closed], 'id-a|a2')).toEqual(['a/a2', 'b/b1'])
    const pinned = orderTargets([a, b], [closed, closed], 'weighted', () => 0, decodePin('id-b|b3'), NOW)[0]!
    expect(pinned.apiKey).toBe('sk-b3')
  })

  it('cannot hold while its breaker is open, its key is cooling or gone, or its provider is not a candidate', () => {
    expect(order([a, b], [closed, open], 'id-b|b3')).toEqual(['a/a1', 'b/b1'])
    const cooling = pooled('b', ['b1', 'b2', 'b3'], 'b1')
    cooling.keyPool!.keys[2]!.coolUntil = NOW + 1
    expect(order([a, cooling], [closed, closed], 'id-b|b3')).toEqual(['a/a1', 'b/b1'])
    const invalid = pooled('b', ['b1', 'b2'], 'b1')
    expect(order([a, invalid], [closed, closed], 'id-b|b3')).toEqual(['a/a1', 'b/b1'])
    expect(order([a], [closed], 'id-b|b3')).toEqual(['a/a1'])
  })

  it('pins a provider without a pool (its one key) as such, and not once it has a pool', () => {
    const single = { ...pooled('s', [], ''), keyId: null, keyPool: undefined }
    expect(order([a, single], [closed, closed], 'id-s|')).toEqual(['s/null', 'a/a1'])
    expect(order([a, b], [closed, closed], 'id-b|')).toEqual(['a/a1', 'b/b1'])
  })

  it('says whether the pin held', () => {
    expect(affinityResult(null, b)).toBe('new')
    expect(affinityResult(decodePin(encodePin(b)), b)).toBe('hit')
    expect(affinityResult(decodePin('id-b|b2'), b)).toBe('moved')
    expect(affinityResult(decodePin('id-a|a1'), b)).toBe('moved')
    expect(decodePin('')).toBeNull()
    expect(decodePin(null)).toBeNull()
  })
})

describe('a conversation before its first pin', () => {
  const id = (n: number) => n.toString(16).padStart(8, '0').repeat(4)

  it('draws the same target and pooled key in every isolate (whatever turn its pools are at, whatever order the catalog shuffled)', () => {
    const pick = (turn: number) => {
      const a = pooled('a', ['a1', 'a2', 'a3'], `a${(turn % 3) + 1}`)
      const b = pooled('b', ['b1', 'b2', 'b3'], `b${(turn % 3) + 1}`)
      const conversation = 'c0ffee01d00d0002' + '0'.repeat(16)
      const [targets, reads] = inFixedOrder(turn % 2 ? [a, b] : [b, a], [closed, closed])
      const [first] = orderTargets(targets, reads, 'weighted', seededRandom(conversation), null, NOW)
      const t = seededKey(first!, conversation, NOW)
      return `${t.provider}/${t.keyId}`
    }
    expect(new Set([0, 1, 2, 3, 4].map(pick)).size).toBe(1)
  })

  it('spreads conversations by the weights and over the keys', () => {
    const a = pooled('a', ['a1', 'a2', 'a3'], 'a1', { weight: 3 })
    const b = pooled('b', ['b1', 'b2', 'b3'], 'b1', { weight: 1 })
    const served = new Map<string, number>()
    for (let n = 0; n < 2000; n++) {
      const conversation = id(n * 2654435761)
      const [first] = orderTargets(
        [a, b],
        [closed, closed],
        'weighted',
        seededRandom(conversation),
        null,
        NOW,
      )
      const t = seededKey(first!, conversation, NOW)
      served.set(`${t.provider}/${t.keyId}`, (served.get(`${t.provider}/${t.keyId}`) ?? 0) + 1)
    }
    const onA = [...served].filter(([k]) => k.startsWith('a/')).reduce((s, [, v]) => s + v, 0)
    expect(onA / 2000).toBeGreaterThan(0.7)
    expect(onA / 2000).toBeLessThan(0.8)
    expect(served.size).toBe(6)
  })
})
