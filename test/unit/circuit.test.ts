import { describe, expect, it } from 'vitest'
import { err, ok } from '../../src/lib/result'
import type { CircuitRead } from '../../src/redis/scripts/guard'
import type { AttemptError } from '../../src/upstream/attempt'
import { CIRCUIT_DEFAULTS, outcomeOf } from '../../src/upstream/circuit'
import { orderTargets, strategyOf } from '../../src/upstream/route-order'
import type { Target } from '../../src/upstream/targets'

const target = (provider: string, extra: Partial<Target> = {}): Target => ({
  provider,
  providerId: provider,
  type: 'openai',
  baseUrl: `http://${provider}/v1`,
  apiKey: 'sk',
  timeoutMs: 1000,
  maxRetries: 0,
  upstreamModel: 'up',
  maxOutputTokens: null,
  priority: 1,
  weight: 1,
  strategy: 'priority',
  circuit: CIRCUIT_DEFAULTS,
  capabilities: {},
  ...extra,
})

const status = (code: number, retryAfterMs: number | null = null): AttemptError => ({
  reason: 'upstream_status',
  status: code,
  retryAfterMs,
  body: '{"error":{"message":"x"}}',
  contentType: 'application/json',
  headers: new Headers({ 'content-type': 'application/json' }),
})

describe('whose fault an attempt was', () => {
  const t = target('a')
  it.each([
    ['500', status(500), 'fault'],
    ['502', status(502), 'fault'],
    ['529 overloaded', status(529), 'fault'],
    ['401 our provider key', status(401), 'fault'],
    ['403 our provider key', status(403), 'fault'],
    ['timeout', { reason: 'timeout' } as AttemptError, 'fault'],
    ['network error', { reason: 'network' } as AttemptError, 'fault'],
    ['400 the client', status(400), null],
    ['404 the client', status(404), null],
    ['413 the client', status(413), null],
    ['422 the client', status(422), null],
    ['client gone', { reason: 'client_gone' } as AttemptError, null],
    ['429 without Retry-After', status(429), null],
  ])('%s', (_name, error, kind) => {
    expect(outcomeOf(t, err(error))?.kind ?? null).toBe(kind)
  })

  it('a timeout is not a fault when the request made it likely: no stream and more output than 50 tokens/s write before the timeout', () => {
    const timeout = err({ reason: 'timeout' } as AttemptError)
    const slow = target('s', { timeoutMs: 60_000 })
    expect(outcomeOf(slow, timeout, { stream: false, requestedOutputTokens: 3000 })).toBeNull()
    expect(outcomeOf(slow, timeout, { stream: false, requestedOutputTokens: 2999 })?.kind).toBe('fault')
    expect(outcomeOf(slow, timeout, { stream: true, requestedOutputTokens: 100_000 })?.kind).toBe('fault')
    expect(outcomeOf(slow, timeout, { stream: false, requestedOutputTokens: null })?.kind).toBe('fault')
    // Only a timeout: a large request that meets a 5xx is still the provider's fault.
    expect(outcomeOf(slow, err(status(500)), { stream: false, requestedOutputTokens: 100_000 })?.kind).toBe(
      'fault',
    )
  })

  it('a 429 with Retry-After cools the provider that long, at most 10 minutes', () => {
    expect(outcomeOf(t, err(status(429, 7000)))).toEqual({ kind: 'cool', retryAfterMs: 7000 })
    expect(outcomeOf(t, err(status(429, 3_600_000)))).toEqual({ kind: 'cool', retryAfterMs: 600_000 })
  })

  it('a success carries its latency to the response head', () => {
    const reply = ok({ response: new Response('{}'), ttfbMs: 42, text: '{}' })
    expect(outcomeOf(t, reply)).toEqual({ kind: 'ok', latencyMs: 42 })
  })
})

const names = (targets: Target[]) => targets.map((t) => t.provider)
const read = (route: 0 | 1 | 2, permille = -1, latency = -1): CircuitRead => ({
  route: (['use', 'probe', 'skip'] as const)[route],
  successPermille: permille < 0 ? null : permille,
  latencyMs: latency < 0 ? null : latency,
  moved: false,
})

describe('ordering targets by breakers and health', () => {
  const a = target('a', { priority: 1 })
  const b = target('b', { priority: 2 })
  const c = target('c', { priority: 3 })

  it('moves skipped providers last and keeps a probing one in place', () => {
    expect(names(orderTargets([a, b, c], [read(2), read(0), read(1)], 'priority'))).toEqual(['b', 'c', 'a'])
  })

  it('tries every provider in order when all are skipped', () => {
    expect(names(orderTargets([a, b, c], [read(2), read(2), read(2)], 'priority'))).toEqual(['a', 'b', 'c'])
  })

  it('weights equal priorities by success ratio', () => {
    const x = target('x')
    const y = target('y')
    // The same draw lands on y when both look equally healthy, on x when y mostly fails (0.1 vs 0.9).
    const draw = () => 0.3
    expect(names(orderTargets([y, x], [read(0, 900), read(0, 900)], 'priority', draw))).toEqual(['y', 'x'])
    expect(names(orderTargets([y, x], [read(0, 100), read(0, 900)], 'priority', draw))).toEqual(['x', 'y'])
  })

  it('latency: fastest recent successes first, across priorities', () => {
    const reads = [read(0, 1000, 900), read(0, 1000, 100), read(0, 1000, 300)]
    expect(names(orderTargets([a, b, c], reads, 'latency'))).toEqual(['b', 'c', 'a'])
  })

  it('weighted: weights only, across priorities', () => {
    const heavy = target('heavy', { priority: 9, weight: 99 })
    expect(names(orderTargets([a, heavy], [read(0), read(0)], 'weighted', () => 0.5))).toEqual(['heavy', 'a'])
    expect(names(orderTargets([a, heavy], [read(0), read(0)], 'priority', () => 0.5))).toEqual(['a', 'heavy'])
  })

  it("a set's strategy is the first one named in priority order", () => {
    expect(strategyOf([a, b])).toBe('priority')
    expect(strategyOf([a, target('l', { strategy: 'latency' })])).toBe('latency')
    expect(strategyOf([target('u', { strategy: 'nonsense' })])).toBe('priority')
  })
})
