// The bench's measurements: closed-loop cells, streams, store round trips and the per-phase breakdown.
import type { Stack } from '../local/stack.ts'
import { cpuMs } from './cpu.ts'
import type { LoadGenerator, Request, StreamResult } from './load.ts'
import { log, MOCK_KEY, opts, type Cell, type Cpu, type Load, type Target } from './options.ts'
import type { Probe } from './probe.ts'
import type { Attribution } from './profile.ts'
import { fmt, median, summarize } from './stats.ts'
import { sleep } from './workerd.ts'

// One request outside the load generator (setup checks, idle measurements), bounded in time.
export async function postOnce(req: Request): Promise<{ res: Response; text: string }> {
  const res = await fetch(req.url, {
    method: 'POST',
    headers: req.headers,
    body: req.body,
    signal: AbortSignal.timeout(15_000),
  })
  return { res, text: await res.text() }
}

export type KeySpec = {
  name: string
  rpm: number | null
  tpm: number | null
  daily: string | null
  monthly: string | null
}
export type BenchKey = { raw: string; spec: KeySpec; via: 'admin-api' }

export function chatRequest(url: string, auth: string, model: string, stream: boolean): Request {
  const body: Record<string, unknown> = {
    model,
    messages: [{ role: 'user', content: 'Say hello.' }],
    max_tokens: 16,
  }
  if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } })
  return {
    url,
    headers: {
      authorization: `Bearer ${auth}`,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    },
    body: JSON.stringify(body),
  }
}

export type Counters = { postgres: number; redis: number }

// Wall time on this process's clock, and CPU time of the Worker's workerd process, by phase: before the
// upstream call (request → probe arrival), the response (probe arrival → body read by the client) and
// after the response (until the after-response work has settled).
export type Timing = {
  beforeUpstreamMs: number
  afterUpstreamMs: number
  totalMs: number
  cpuBeforeMs: number | null
  cpuResponseMs: number | null
  cpuAfterMs: number | null
}
export const timingSummary = (xs: Timing[]) => {
  const cpu = (f: (x: Timing) => number | null) => {
    const v = xs.map(f).filter((x): x is number => x !== null)
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null // mean: CPU adds up
  }
  const before = cpu((x) => x.cpuBeforeMs)
  const response = cpu((x) => x.cpuResponseMs)
  const after = cpu((x) => x.cpuAfterMs)
  return {
    beforeUpstream: summarize(xs.map((x) => x.beforeUpstreamMs)),
    afterUpstream: summarize(xs.map((x) => x.afterUpstreamMs)),
    total: summarize(xs.map((x) => x.totalMs)),
    cpuMeanMs: {
      beforeUpstream: before,
      response,
      afterResponse: after,
      total: before === null || response === null || after === null ? null : before + response + after,
    },
  }
}

export type ProbeState = { arrived: Counters | null; serverPid: number | null; cpuAtArrival: number | null }

// One sequential request through `url` to the probe upstream, timed on this process's clock: from sending
// to the probe seeing it (everything before the upstream call) and from the probe answering to the body
// being read (everything after). `pid`: the workerd whose CPU is sampled at each edge.
async function probeRequest(probe: Probe, state: ProbeState, req: Request, pid: number | null) {
  const arrivalsBefore = probe.arrivals
  state.arrived = null
  state.cpuAtArrival = null
  state.serverPid = pid
  const cpuSent = pid === null ? null : cpuMs(pid)
  const sent = performance.now()
  const { res, text } = await postOnce(req)
  const done = performance.now()
  const cpuDone = pid === null ? null : cpuMs(pid)
  if (probe.arrivals === arrivalsBefore)
    throw new Error(
      `${req.url}: the probe upstream was not called (HTTP ${res.status} ${text.slice(0, 300)})`,
    )
  const sub = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b)
  const timing: Timing = {
    beforeUpstreamMs: probe.lastArrivedAt - sent,
    afterUpstreamMs: done - probe.lastRespondedAt,
    totalMs: done - sent,
    cpuBeforeMs: sub(state.cpuAtArrival, cpuSent),
    cpuResponseMs: sub(cpuDone, state.cpuAtArrival),
    cpuAfterMs: null,
  }
  return { status: res.status, text, timing, cpuDone }
}

// Store round trips per request: `blocking` = reached the stores before the upstream call (sampled by the
// probe upstream the moment the gateway calls it), `total` = once everything after the response settled.
// Requests are sequential and each waits for the previous one's after-response writes, so the timings
// are those of an idle gateway.
export async function measureRoundTrips(
  stack: Stack,
  probe: Probe,
  probeState: ProbeState,
  url: string,
  key: BenchKey,
  n: number,
  pid: number,
) {
  const read = (): Counters => ({ postgres: stack.neon.stats.requests, redis: stack.upstash.stats.requests })
  const diff = (a: Counters, b: Counters): Counters => ({
    postgres: a.postgres - b.postgres,
    redis: a.redis - b.redis,
  })
  async function settle(): Promise<Counters> {
    // Counters unchanged for 200 ms (at most 5 s): the after-response writes (waitUntil) are done.
    let last = read()
    let stableSince = performance.now()
    const deadline = performance.now() + 5000
    while (performance.now() < deadline) {
      await sleep(20)
      const now = read()
      if (now.postgres !== last.postgres || now.redis !== last.redis) {
        last = now
        stableSince = performance.now()
      } else if (performance.now() - stableSince >= 200) break
    }
    return last
  }
  const samples: { blocking: Counters; total: Counters; timing: Timing }[] = []
  const req = chatRequest(`${url}/v1/chat/completions`, key.raw, 'bench-probe', false)
  await settle()
  for (let i = 0; i < n; i++) {
    const before = read()
    const { timing, status, text, cpuDone } = await probeRequest(probe, probeState, req, pid)
    if (status !== 200)
      throw new Error(`round trips (${key.spec.name}): HTTP ${status} ${text.slice(0, 300)}`)
    const blocking = diff(probeState.arrived!, before)
    const total = diff(await settle(), before)
    const cpuSettled = cpuMs(pid)
    timing.cpuAfterMs = cpuSettled === null || cpuDone === null ? null : cpuSettled - cpuDone
    samples.push({ blocking, total, timing })
  }
  const avg = (f: (s: (typeof samples)[number]) => number) =>
    samples.reduce((a, s) => a + f(s), 0) / samples.length
  // The usual count (a key or catalog entry past its 60 s TTL is reloaded now and then: counted apart).
  const label = (c: Counters) => `${c.redis}/${c.postgres}`
  const counts = new Map<string, number>()
  for (const x of samples) counts.set(label(x.blocking), (counts.get(label(x.blocking)) ?? 0) + 1)
  const typical = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0]
  const [typRedis, typPg] = typical.split('/').map(Number) as [number, number]
  return {
    requests: n,
    first: samples[0]!,
    typicalBlocking: { redis: typRedis, postgres: typPg },
    requestsWithOtherCounts: samples
      .filter((x) => label(x.blocking) !== typical)
      .map((x) => ({ blocking: x.blocking, total: x.total })),
    blocking: { redis: avg((s) => s.blocking.redis), postgres: avg((s) => s.blocking.postgres) },
    total: { redis: avg((s) => s.total.redis), postgres: avg((s) => s.total.postgres) },
    timing: timingSummary(samples.map((s) => s.timing)),
  }
}

// The same timing through the passthrough floor (pid: its workerd) and straight to the probe (pid null).
export async function measureFloorTiming(
  probe: Probe,
  probeState: ProbeState,
  url: string,
  n: number,
  pid: number | null,
) {
  const req = chatRequest(url, MOCK_KEY, 'gpt-4o-mini', false)
  const xs: Timing[] = []
  for (let i = 0; i <= n; i++) {
    const { timing, status, cpuDone } = await probeRequest(probe, probeState, req, pid)
    if (status !== 200) throw new Error(`${url}: HTTP ${status}`)
    await sleep(50)
    const cpuSettled = pid === null ? null : cpuMs(pid)
    timing.cpuAfterMs = cpuSettled === null || cpuDone === null ? null : cpuSettled - cpuDone
    if (i > 0) xs.push(timing) // the first one opens the connections
  }
  return timingSummary(xs)
}

export type Profile = Attribution & { rps: number | null; workerdCpuMsPerReq: number | null }
export type RoundTrips = Awaited<ReturnType<typeof measureRoundTrips>>

export type Pids = { server: number | null; mock: number }

export async function closedCell(
  loader: LoadGenerator,
  target: Target,
  req: Request,
  load: Load,
  rep: number,
  pids: Pids,
): Promise<Cell> {
  const { concurrency, pauseMs } = load
  const cpuPids: Record<string, number> = { mock: pids.mock }
  if (pids.server !== null) cpuPids.server = pids.server
  if (target.startsWith('gateway')) cpuPids.stores = process.pid // this process hosts the Neon and Upstash endpoints
  const result = await loader.closed({
    request: req,
    concurrency,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    maxRequests: opts.maxRequestsPerCell,
    pauseMs,
    cpuPids,
  })
  const cpu: Cpu = {
    server: result.cpuMsPerRequest.server ?? null,
    mock: result.cpuMsPerRequest.mock ?? null,
    stores: result.cpuMsPerRequest.stores ?? null,
  }
  if (result.errors > 0)
    log(`  ${target} c=${load.label}: ${result.errors} errors (first: ${result.firstError})`)
  log(
    `  ${target.padEnd(14)} c=${load.label.padEnd(8)} run ${rep + 1}: ${fmt(result.rps, 0)} req/s, p50 ${fmt(result.latency.p50)} ms, p99 ${fmt(result.latency.p99)} ms` +
      (cpu.server !== null ? `, workerd CPU ${fmt(cpu.server, 3)} ms/req` : ''),
  )
  return { target, load: load.label, concurrency, rep, result, cpu }
}

export function streamSummary(r: StreamResult, gapMs: number) {
  const gaps = r.samples.flatMap((s) => s.gapsMs)
  const bunched = gaps.filter((g) => g < gapMs / 2).length
  const g = summarize(gaps)
  return {
    streams: r.samples.length,
    errors: r.errors,
    firstError: r.firstError,
    events: median(r.samples.map((s) => s.events)),
    ttfb: summarize(r.samples.map((s) => s.ttfbMs)),
    total: summarize(r.samples.map((s) => s.totalMs)),
    gaps: g,
    bunchedGaps: bunched,
    gapCount: gaps.length,
    // A buffering relay shows most gaps near 0; scheduling noise on a busy machine delays the odd event.
    preserved:
      gaps.length > 0 && Math.abs(g.p50 - gapMs) <= Math.max(5, gapMs * 0.2) && bunched <= gaps.length * 0.25,
  }
}
