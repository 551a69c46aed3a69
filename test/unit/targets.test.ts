import { describe, expect, it } from 'vitest'
import type { Catalog } from '../../src/db/catalog'
import { readConfig } from '../../src/env'
import { pickTargets } from '../../src/upstream/targets'

const config = readConfig({
  DATABASE_URL: 'postgres://u:p@h/db',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: 't',
  ADMIN_TOKEN: 'a',
  PROVIDER_MAIN_BASE_URL: 'http://override/v1/',
  PROVIDER_MAIN_API_KEY: 'sk-main',
  'PROVIDER_SIDE-B_API_KEY': 'sk-hyphen',
  PROVIDER_SHARED_API_KEY: 'sk-ref',
})

function catalog(
  mappings: { provider: string; priority: number; weight?: number; enabled?: boolean }[],
  disabled: string[] = [],
): Catalog {
  const names = [...new Set(mappings.map((m) => m.provider))]
  const now = new Date()
  return {
    providers: new Map(
      names.map((name) => [
        name,
        {
          id: name,
          name,
          type: 'openai',
          baseUrl: `http://${name}/v1`,
          apiKeyRef: 'PROVIDER_SHARED_API_KEY',
          enabled: !disabled.includes(name),
          timeoutMs: 1000,
          maxRetries: 1,
          createdAt: now,
          updatedAt: now,
        } as never,
      ]),
    ),
    mappingsByModel: new Map([
      [
        'm',
        mappings.map((m, i) => ({
          id: String(i),
          model: 'm',
          providerId: m.provider,
          upstreamModel: `up-${m.provider}`,
          priority: m.priority,
          weight: m.weight ?? 1,
          strategy: 'priority',
          capabilities: {},
          enabled: m.enabled ?? true,
          maxOutputTokens: null,
          createdAt: now,
          updatedAt: now,
        })),
      ],
    ]),
    pricesByModel: new Map(),
    legacyKeys: false,
  }
}

describe('pickTargets', () => {
  it('orders by priority, lower first', () => {
    const order = pickTargets(
      catalog([
        { provider: 'b', priority: 2 },
        { provider: 'main', priority: 1 },
      ]),
      'm',
      config,
    ).map((t) => t.provider)
    expect(order).toEqual(['main', 'b'])
  })

  it('skips disabled mappings and disabled providers', () => {
    const c = catalog(
      [
        { provider: 'a', priority: 1, enabled: false },
        { provider: 'b', priority: 2 },
        { provider: 'c', priority: 3 },
      ],
      ['b'],
    )
    expect(pickTargets(c, 'm', config).map((t) => t.provider)).toEqual(['c'])
  })

  it('chooses among equal priorities by weight', () => {
    const c = catalog([
      { provider: 'a', priority: 1, weight: 3 },
      { provider: 'b', priority: 1, weight: 1 },
    ])
    expect(pickTargets(c, 'm', config, () => 0.5)[0]?.provider).toBe('a')
    expect(pickTargets(c, 'm', config, () => 0.8)[0]?.provider).toBe('b')
    expect(pickTargets(c, 'm', config, () => 0.8).map((t) => t.provider)).toEqual(['b', 'a'])
  })

  it('lets PROVIDER_<NAME>_* override the database and falls back to api_key_ref', () => {
    const targets = pickTargets(
      catalog([
        { provider: 'main', priority: 1 },
        { provider: 'side-b', priority: 2 },
        { provider: 'c', priority: 3 },
      ]),
      'm',
      config,
    )
    expect(targets[0]).toMatchObject({
      baseUrl: 'http://override/v1',
      apiKey: 'sk-main',
      upstreamModel: 'up-main',
    })
    expect(targets[1]?.apiKey).toBe('sk-hyphen')
    expect(targets[2]?.apiKey).toBe('sk-ref')
  })

  it('returns nothing for an unmapped model', () =>
    expect(pickTargets(catalog([]), 'other', config)).toEqual([]))
})
