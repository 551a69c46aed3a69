// npm run bench -- --economy: what a prepaid balance and two rolling windows add to the guard (#22,
// docs/selling.md). Two keys with the same limits and budgets; the second's project is prepaid (a balance
// no request reaches) with a 1-day dollar window, and the key has a 5-hour request window. Reported: the
// warm store round trips before the upstream call (the guard must stay one Redis step, no Postgres) and
// workerd CPU per request at c=16 with the after-response work included, alternating the two keys.
import type { Stack } from '../local/stack.ts'
import { amortized } from './amortized.ts'
import { startLoadGenerator } from './load.ts'
import { chatRequest, measureRoundTrips, type BenchKey, type ProbeState } from './measure.ts'
import { log } from './options.ts'
import type { Probe } from './probe.ts'
import { fmt } from './stats.ts'

const MODELS = ['gpt-4o-mini', 'bench-stream', 'bench-probe']
const LIMITS = {
  rpm_limit: 100_000_000,
  tpm_limit: 2_000_000_000,
  daily_budget: '1000000',
  monthly_budget: '10000000',
}

async function adminCall(url: string, token: string, method: string, path: string, body: unknown) {
  const res = await fetch(`${url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  })
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (res.status >= 300)
    throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`)
  return json
}

async function key(
  url: string,
  token: string,
  name: string,
  extra: Record<string, unknown>,
): Promise<BenchKey> {
  const body = await adminCall(url, token, 'POST', '/api-keys', {
    name,
    allowed_models: MODELS,
    ...LIMITS,
    ...extra,
  })
  const spec = {
    name,
    rpm: LIMITS.rpm_limit,
    tpm: LIMITS.tpm_limit,
    daily: LIMITS.daily_budget,
    monthly: LIMITS.monthly_budget,
  }
  return { raw: String(body.raw_key), spec, via: 'admin-api' }
}

export async function runEconomy(o: {
  stack: Stack
  probe: Probe
  probeState: ProbeState
  gatewayUrl: string
  pid: number
  adminToken: string
  repeats: number
  requests: number
}) {
  const { gatewayUrl: url, adminToken: token } = o
  await adminCall(url, token, 'POST', '/projects', {
    id: 'bench-shop',
    windows: [{ period: '1d', limit_usd: '1000000' }],
  })
  await adminCall(url, token, 'POST', '/projects/bench-shop/credits', { amount_usd: '10000000' })
  const limits = await key(url, token, 'bench (limits + budget)', { project_id: 'bench-plain' })
  const economy = await key(url, token, 'bench (limits + budget + balance + 2 windows)', {
    project_id: 'bench-shop',
    windows: [{ period: '5h', limit_requests: 1_000_000_000 }],
  })
  const rt = {
    limits: await measureRoundTrips(o.stack, o.probe, o.probeState, url, limits, 20, o.pid),
    economy: await measureRoundTrips(o.stack, o.probe, o.probeState, url, economy, 20, o.pid),
  }
  for (const [name, r] of Object.entries(rt))
    log(
      `  warm round trips before the upstream, ${name}: ${r.typicalBlocking.redis} Redis / ${r.typicalBlocking.postgres} Postgres`,
    )
  const loader = startLoadGenerator()
  try {
    const request = (k: BenchKey) => chatRequest(`${url}/v1/chat/completions`, k.raw, 'gpt-4o-mini', false)
    // Warm both keys' code paths and caches, then alternate so drift hits both alike.
    await amortized(loader, o.stack, request(limits), 16, 500, o.pid)
    await amortized(loader, o.stack, request(economy), 16, 500, o.pid)
    const cpu: Record<'limits' | 'economy', number[]> = { limits: [], economy: [] }
    for (let i = 0; i < o.repeats; i++) {
      for (const [name, k] of [
        ['limits', limits],
        ['economy', economy],
      ] as const) {
        const a = await amortized(loader, o.stack, request(k), 16, o.requests, o.pid)
        if (a.errors) throw new Error(`${name}: ${a.errors} errors (first: ${a.firstError})`)
        cpu[name].push(a.cpuMsPerRequest ?? NaN)
        log(
          `  ${name.padEnd(8)} c=16: ${fmt(a.rps, 0)} req/s, workerd CPU ${fmt(a.cpuMsPerRequest, 3)} ms/req, Redis ${fmt(a.perRequest.redisCalls)} calls/req`,
        )
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const result = {
      roundTrips: { limits: rt.limits.typicalBlocking, economy: rt.economy.typicalBlocking },
      cpuMsPerRequest: { limits: median(cpu.limits), economy: median(cpu.economy), samples: cpu },
      ratio: median(cpu.economy) / median(cpu.limits),
      // Each economy cell against the limits cell just before it: drift in the machine's load hits both.
      pairedRatio: median(cpu.economy.map((x, i) => x / cpu.limits[i]!)),
    }
    log(
      `economy: CPU per request ${fmt(result.cpuMsPerRequest.economy, 3)} ms vs ${fmt(result.cpuMsPerRequest.limits, 3)} ms without (×${fmt(result.ratio, 3)}; paired cells ×${fmt(result.pairedRatio, 3)}); round trips ${result.roundTrips.economy.redis}/${result.roundTrips.economy.postgres} vs ${result.roundTrips.limits.redis}/${result.roundTrips.limits.postgres}`,
    )
    return result
  } finally {
    loader.close()
  }
}
