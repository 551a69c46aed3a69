// The far-Redis scenario: the Worker at an edge location far from the Upstash primary. The local Upstash
// endpoint delays each REST call by a one-way latency (request leg and reply leg). A key with limits asks
// for a model whose upstream answers after `upstreamMs` (a model's time to first token), at c=1, on the
// gateway as deployed (GUARD_OVERLAP=auto: the first attempt starts while the guard's step is in flight
// once Redis looks far) and on the same bundle with GUARD_OVERLAP=off; each beside its own 0 ms figure.
// Then 30 concurrent requests against rpm 10 at the farthest latency: limits must stay exact however the
// guard's step overlaps, and the calls the guard's refusals cancelled are counted.
import type { LoadGenerator, Request } from './load.ts'
import { createKey } from './setup.ts'
import { log } from './options.ts'
import { fmt, markdownTable, table, type Summary } from './stats.ts'

const FAR_REDIS_ONE_WAY_MS = [0, 20, 60]

type Variant = 'overlap' | 'noOverlap'
type Row = { oneWayMs: number; latency: Record<Variant, Summary> }
export type FarRedisResult = {
  upstreamMs: number
  rows: Row[]
  exactness: {
    oneWayMs: number
    sent: number
    ok: number
    refused: number
    other: number
    rpm: number
    cancelled: number
  }
}

async function headStarts(gatewayUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^nexusai_head_start_total\{result="(\w+)"\} (\d+)/gm))
    out[m[1]!] = Number(m[2])
  return out
}

export async function runFarRedis(opts: {
  loader: LoadGenerator
  latency: { oneWayMs: number }
  gatewayUrl: string
  adminToken: string
  // The same key and model on the gateway as deployed and on one with GUARD_OVERLAP=off.
  requests: Record<Variant, Request>
  upstreamMs: number
  durationMs: number
}): Promise<FarRedisResult> {
  const rows: Row[] = []
  try {
    for (const oneWayMs of FAR_REDIS_ONE_WAY_MS) {
      opts.latency.oneWayMs = oneWayMs
      const latency = {} as Record<Variant, Summary>
      for (const variant of ['overlap', 'noOverlap'] as const) {
        const r = await opts.loader.closed({
          request: opts.requests[variant],
          concurrency: 1,
          // About 20 requests per cell after 4 of warm-up (each takes the upstream's time and more).
          warmupMs: 4 * opts.upstreamMs,
          durationMs: Math.max(opts.durationMs, 20 * (opts.upstreamMs + 2 * oneWayMs)),
          maxRequests: 100_000,
          cpuPids: {},
        })
        latency[variant] = r.latency
        log(
          `  Redis ${oneWayMs} ms one way, ${variant === 'overlap' ? 'overlap (auto)' : 'no overlap'}: p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms (${r.requests} requests${r.errors ? `, ${r.errors} errors: ${r.firstError}` : ''})`,
        )
      }
      rows.push({ oneWayMs, latency })
    }
    const farthest = FAR_REDIS_ONE_WAY_MS[FAR_REDIS_ONE_WAY_MS.length - 1]!
    opts.latency.oneWayMs = farthest
    const rpm = 10
    const key = await createKey(opts.gatewayUrl, opts.adminToken, {
      name: 'bench (rpm 10, far Redis)',
      rpm,
      tpm: null,
      daily: null,
      monthly: null,
    })
    const request = opts.requests.overlap
    const before = await headStarts(opts.gatewayUrl)
    const sent = 30
    const statuses = await Promise.all(
      Array.from({ length: sent }, async () => {
        const res = await fetch(request.url, {
          method: 'POST',
          headers: { ...request.headers, authorization: `Bearer ${key.raw}` },
          body: request.body,
        })
        await res.arrayBuffer()
        return res.status
      }),
    )
    await new Promise((r) => setTimeout(r, 1000)) // metrics are written after the response
    const after = await headStarts(opts.gatewayUrl)
    const exactness = {
      oneWayMs: farthest,
      sent,
      ok: statuses.filter((s) => s === 200).length,
      refused: statuses.filter((s) => s === 429).length,
      other: statuses.filter((s) => s !== 200 && s !== 429).length,
      rpm,
      cancelled: (after.refused ?? 0) - (before.refused ?? 0),
    }
    log(
      `  ${sent} concurrent against rpm ${rpm} at ${farthest} ms: ${exactness.ok} answered, ${exactness.refused} refused, ${exactness.other} other; ${exactness.cancelled} started calls cancelled`,
    )
    return { upstreamMs: opts.upstreamMs, rows, exactness }
  } finally {
    opts.latency.oneWayMs = 0
  }
}

export function farRedisSections(r: FarRedisResult): { text: string; markdown: string } {
  const base = r.rows.find((row) => row.oneWayMs === 0)
  const added = (row: Row, v: Variant, p: 'p50' | 'p99') =>
    base ? `${fmt(row.latency[v][p] - base.latency[v][p])} ms` : '—'
  const header = [
    'Redis one way',
    'overlap p50',
    'overlap p99',
    'overlap added p50',
    'no overlap p50',
    'no overlap p99',
    'no overlap added p50',
  ]
  const rows = r.rows.map((row) => [
    `${row.oneWayMs} ms`,
    `${fmt(row.latency.overlap.p50)} ms`,
    `${fmt(row.latency.overlap.p99)} ms`,
    added(row, 'overlap', 'p50'),
    `${fmt(row.latency.noOverlap.p50)} ms`,
    `${fmt(row.latency.noOverlap.p99)} ms`,
    added(row, 'noOverlap', 'p50'),
  ])
  const e = r.exactness
  const title = `Far Redis (a key with rpm+tpm+budgets at c=1, an upstream answering after ${r.upstreamMs} ms; the local Upstash endpoint delays each call by the one-way latency both ways; overlap = GUARD_OVERLAP=auto, as deployed)`
  const exact = `${e.sent} concurrent requests against rpm ${e.rpm} with Redis ${e.oneWayMs} ms away: ${e.ok} answered, ${e.refused} refused (429), ${e.other} other; ${e.cancelled} started upstream calls cancelled by the refusals.`
  return {
    text: `${title}\n${table(header, rows)}\n${exact}\n`,
    markdown: `## Far Redis\n\n${title}.\n\n${markdownTable(header, rows)}\n\n${exact}\n`,
  }
}
