// The far-Redis scenario: the Worker at an edge location far from the Upstash primary. The local Upstash
// endpoint delays each REST call by a one-way latency (request leg and reply leg), and a key with limits is
// timed at c=1 — what a lone request pays for exact global limits — beside the same request at 0 ms. Then
// 30 concurrent requests against rpm 10 at the farthest latency: limits must stay exact however long the
// guard's step takes.
import type { LoadGenerator, Request } from './load.ts'
import { createKey } from './setup.ts'
import { log } from './options.ts'
import { fmt, markdownTable, table, type Summary } from './stats.ts'

const FAR_REDIS_ONE_WAY_MS = [0, 20, 60]

type Row = { oneWayMs: number; latency: Summary; gatewayMs: number | null; errors: number }
export type FarRedisResult = {
  rows: Row[]
  exactness: { oneWayMs: number; sent: number; ok: number; refused: number; other: number; rpm: number }
}

export async function runFarRedis(opts: {
  loader: LoadGenerator
  latency: { oneWayMs: number }
  gatewayUrl: string
  adminToken: string
  request: Request // a key with limits, non-streaming
  durationMs: number
}): Promise<FarRedisResult> {
  const rows: Row[] = []
  try {
    for (const oneWayMs of FAR_REDIS_ONE_WAY_MS) {
      opts.latency.oneWayMs = oneWayMs
      const r = await opts.loader.closed({
        request: opts.request,
        concurrency: 1,
        warmupMs: 300 + 4 * oneWayMs,
        durationMs: Math.max(opts.durationMs, 40 * 2 * oneWayMs),
        maxRequests: 100_000,
        cpuPids: {},
      })
      rows.push({
        oneWayMs,
        latency: r.latency,
        gatewayMs: r.serverTiming?.gateway.p50 ?? null,
        errors: r.errors,
      })
      log(
        `  Redis ${oneWayMs} ms one way: p50 ${fmt(r.latency.p50)} ms, p99 ${fmt(r.latency.p99)} ms (${r.requests} requests${r.errors ? `, ${r.errors} errors: ${r.firstError}` : ''})`,
      )
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
    const sent = 30
    const statuses = await Promise.all(
      Array.from({ length: sent }, async () => {
        const res = await fetch(opts.request.url, {
          method: 'POST',
          headers: { ...opts.request.headers, authorization: `Bearer ${key.raw}` },
          body: opts.request.body,
        })
        await res.arrayBuffer()
        return res.status
      }),
    )
    const exactness = {
      oneWayMs: farthest,
      sent,
      ok: statuses.filter((s) => s === 200).length,
      refused: statuses.filter((s) => s === 429).length,
      other: statuses.filter((s) => s !== 200 && s !== 429).length,
      rpm,
    }
    log(
      `  ${sent} concurrent against rpm ${rpm} at ${farthest} ms: ${exactness.ok} answered, ${exactness.refused} refused, ${exactness.other} other`,
    )
    return { rows, exactness }
  } finally {
    opts.latency.oneWayMs = 0
  }
}

export function farRedisSections(r: FarRedisResult): { text: string; markdown: string } {
  const base = r.rows.find((row) => row.oneWayMs === 0)
  const header = ['Redis one way', 'p50', 'p99', 'added p50', 'added p99', 'gateway;dur p50']
  const rows = r.rows.map((row) => [
    `${row.oneWayMs} ms`,
    `${fmt(row.latency.p50)} ms`,
    `${fmt(row.latency.p99)} ms`,
    base ? `${fmt(row.latency.p50 - base.latency.p50)} ms` : '—',
    base ? `${fmt(row.latency.p99 - base.latency.p99)} ms` : '—',
    `${fmt(row.gatewayMs)} ms`,
  ])
  const e = r.exactness
  const title = `Far Redis (a key with rpm+tpm+budgets at c=1; the local Upstash endpoint delays each call by the one-way latency both ways)`
  const exact = `${e.sent} concurrent requests against rpm ${e.rpm} with Redis ${e.oneWayMs} ms away: ${e.ok} answered, ${e.refused} refused (429), ${e.other} other.`
  return {
    text: `${title}\n${table(header, rows)}\n${exact}\n`,
    markdown: `## Far Redis\n\n${title}.\n\n${markdownTable(header, rows)}\n\n${exact}\n`,
  }
}
