// The failover scenario: the first provider of a model is down (answering 500, or hanging until its
// timeout) and a backup serves. Sequential requests through the gateway, with circuit breakers (the
// defaults) and without them (the same outage behind a provider whose breaker threshold is out of reach),
// next to the backup's own latency. Providers, mappings and keys come from the admin API.
import { log } from './options.ts'
import { fmt, markdownTable, summarize, table, type Summary } from './stats.ts'

// A threshold no run reaches (the settings accept at most 1000): "without breakers" is an outage the
// breaker never acts on.
export const NO_BREAKER_THRESHOLD = '1000'

// Provider names whose PROVIDER_<NAME>_CIRCUIT_THRESHOLD the gateway gets at start (bench.ts).
export const FAILOVER_UNGUARDED = ['bench-nobreaker-fail500', 'bench-nobreaker-hang']

const OUTAGES = [
  { kind: 'fail500', scenario: 'status500', timeoutMs: 30_000, maxRetries: 1 },
  { kind: 'hang', scenario: 'hang', timeoutMs: 500, maxRetries: 0 },
] as const

type Row = {
  outage: string
  backupP50: number
  withBreakers: Summary
  withoutBreakers: Summary
  // Requests (with breakers) that reached the provider that is down: its breaker's fault count (the
  // admin API's health) over the attempts each request makes on it.
  reachedDown: number
  // Each request's latency in ms, in order.
  series: { withBreakers: number[]; withoutBreakers: number[] }
}

export type FailoverResult = { requests: number; rows: Row[] }

async function adminCall(url: string, token: string, method: string, path: string, body: unknown) {
  const res = await fetch(`${url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = (await res.json()) as Record<string, unknown>
  if (!res.ok) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`)
  return json
}

const round = (ms: number) => Math.round(ms * 10) / 10

async function timed(url: string, raw: string, model: string): Promise<number> {
  const started = performance.now()
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${raw}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
  })
  await res.text()
  if (res.status !== 200) throw new Error(`failover request for ${model}: HTTP ${res.status}`)
  return performance.now() - started
}

export async function runFailover(
  gatewayUrl: string,
  adminToken: string,
  mockUrl: string,
  requests: number,
): Promise<FailoverResult> {
  const call = (method: string, path: string, body: unknown) =>
    adminCall(gatewayUrl, adminToken, method, path, body)
  const backup = await call('POST', '/providers', {
    name: 'bench-failover-backup',
    base_url: `${mockUrl}/v1`,
    api_key_ref: 'PROVIDER_OPENAI_MAIN_API_KEY',
  })
  const models: string[] = ['bench-failover-backup-only']
  await call('POST', '/model-mappings', {
    model: models[0],
    provider_id: backup.id,
    upstream_model: 'gpt-4o-mini',
  })
  const plan: { kind: string; guarded: string; unguarded: string; downId: string; attempts: number }[] = []
  for (const [i, outage] of OUTAGES.entries()) {
    const names = { guarded: `bench-${outage.kind}`, unguarded: FAILOVER_UNGUARDED[i]! }
    const pair = {
      kind: outage.kind,
      guarded: '',
      unguarded: '',
      downId: '',
      attempts: outage.maxRetries + 1,
    }
    for (const which of ['guarded', 'unguarded'] as const) {
      const down = await call('POST', '/providers', {
        name: names[which],
        base_url: `${mockUrl}/s/${outage.scenario}~${names[which]}/v1`,
        api_key_ref: 'PROVIDER_OPENAI_MAIN_API_KEY',
        timeout_ms: outage.timeoutMs,
        max_retries: outage.maxRetries,
      })
      const model = `bench-failover-${names[which]}`
      await call('POST', '/model-mappings', {
        model,
        provider_id: down.id,
        upstream_model: 'gpt-4o-mini',
        priority: 1,
      })
      await call('POST', '/model-mappings', {
        model,
        provider_id: backup.id,
        upstream_model: 'gpt-4o-mini',
        priority: 2,
      })
      models.push(model)
      pair[which] = model
      if (which === 'guarded') pair.downId = String(down.id)
    }
    plan.push(pair)
  }
  const key = (await call('POST', '/api-keys', { name: 'bench (failover)', allowed_models: models })) as {
    raw_key: string
  }
  const series = async (model: string) => {
    const out: number[] = []
    for (let i = 0; i < requests; i++) out.push(await timed(gatewayUrl, key.raw_key, model))
    return out
  }
  // Warm the key and catalog caches first, on the healthy route only.
  for (let i = 0; i < 3; i++) await timed(gatewayUrl, key.raw_key, models[0]!)
  const backupOnly = summarize(await series(models[0]!))
  const rows: Row[] = []
  for (const p of plan) {
    const guarded = await series(p.guarded)
    const unguarded = await series(p.unguarded)
    const { data } = (await adminCall(gatewayUrl, adminToken, 'GET', '/providers', undefined)) as {
      data: { id: string; health: { failures: number } | null }[]
    }
    const failures = data.find((d) => d.id === p.downId)?.health?.failures ?? NaN
    rows.push({
      outage: p.kind,
      backupP50: backupOnly.p50,
      withBreakers: summarize(guarded),
      withoutBreakers: summarize(unguarded),
      reachedDown: failures / p.attempts,
      series: { withBreakers: guarded.map(round), withoutBreakers: unguarded.map(round) },
    })
    log(
      `  outage ${p.kind}: p50 ${fmt(summarize(guarded).p50)} ms with breakers, ${fmt(summarize(unguarded).p50)} ms without (backup alone ${fmt(backupOnly.p50)} ms); ${failures / p.attempts} of ${requests} requests reached the provider that is down`,
    )
  }
  return { requests, rows }
}

export function failoverSections(r: FailoverResult): { text: string; markdown: string } {
  const header = [
    'outage of the first provider',
    'backup alone p50',
    'with breakers p50',
    'with breakers p95',
    'without p50',
    'without p95',
    'requests that reached the down provider (with)',
  ]
  const rows = r.rows.map((row) => [
    row.outage === 'hang' ? 'hangs (timeout 500 ms, no retry)' : '500 (1 retry)',
    `${fmt(row.backupP50)} ms`,
    `${fmt(row.withBreakers.p50)} ms`,
    `${fmt(row.withBreakers.p95)} ms`,
    `${fmt(row.withoutBreakers.p50)} ms`,
    `${fmt(row.withoutBreakers.p95)} ms`,
    `${row.reachedDown} of ${r.requests}`,
  ])
  const title = `Failover (${r.requests} sequential requests per column; breakers at their defaults, "without" = a threshold never reached)`
  return {
    text: `${title}\n${table(header, rows)}\n`,
    markdown: `## Failover\n\n${title}.\n\n${markdownTable(header, rows)}\n`,
  }
}
