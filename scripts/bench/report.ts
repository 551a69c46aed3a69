// Aggregates the bench's measurements into latest.json, the printed tables and latest.md.
import os from 'node:os'
import type { ClosedLoopResult } from './load.ts'
import type { Profile, RoundTrips, streamSummary, timingSummary } from './measure.ts'
import { loads, NOISY, opts, t0, type Cell, type Target } from './options.ts'
import type { bundleComposition } from './profile.ts'
import type { Amortized } from './amortized.ts'
import { fmt, kb, markdownTable, median, pct, spread, table } from './stats.ts'
import type { Bundle } from './workerd.ts'
import { coldLine, type ColdStart } from './lone.ts'

export function buildReport(r: {
  bundle: Bundle
  readable: Bundle
  cells: Cell[]
  streaming: Record<'direct' | 'passthrough' | 'gateway', ReturnType<typeof streamSummary>>
  roundTrips: {
    free: RoundTrips
    limited: RoundTrips
    cold: { free: RoundTrips['first']; limited: RoundTrips['first'] }
  }
  redisCell: ClosedLoopResult
  keys: { free: string; limited: string }
  workerdVersion: string
  databaseKind: string
  profile: Profile | null
  floorTiming: Record<'passthrough' | 'direct', ReturnType<typeof timingSummary>>
  cpuPressure: number | null
  composition: ReturnType<typeof bundleComposition>
  tokenizerAssets: { rawBytes: number; gzipBytes: number }
  amortized: { c16: Amortized; burst: Amortized; floorBurst: Amortized }
  coldStart: { gateway: ColdStart; floor: ColdStart } | null
}) {
  const targets: Target[] = ['direct', 'passthrough', 'gateway', 'gateway+limits']
  type Agg = {
    target: Target
    load: string
    runs: number
    rps: number
    p50: number
    p95: number
    p99: number
    rpsSpread: number
    p50Spread: number
    errors: number
    cpuMsPerReq: number | null
    mockCpuMsPerReq: number | null
    storesCpuMsPerReq: number | null
    serverTimingGatewayP50: number | null
  }
  const nullableMedian = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null)
    return v.length ? median(v) : null
  }
  const aggs: Agg[] = []
  for (const { label } of loads) {
    for (const t of targets) {
      const runs = r.cells.filter((x) => x.target === t && x.load === label)
      if (!runs.length) continue
      aggs.push({
        target: t,
        load: label,
        runs: runs.length,
        rps: median(runs.map((x) => x.result.rps)),
        p50: median(runs.map((x) => x.result.latency.p50)),
        p95: median(runs.map((x) => x.result.latency.p95)),
        p99: median(runs.map((x) => x.result.latency.p99)),
        rpsSpread: spread(runs.map((x) => x.result.rps)),
        p50Spread: spread(runs.map((x) => x.result.latency.p50)),
        errors: runs.reduce((a, x) => a + x.result.errors, 0),
        cpuMsPerReq: nullableMedian(runs.map((x) => x.cpu.server)),
        mockCpuMsPerReq: nullableMedian(runs.map((x) => x.cpu.mock)),
        storesCpuMsPerReq: nullableMedian(runs.map((x) => x.cpu.stores)),
        serverTimingGatewayP50: nullableMedian(runs.map((x) => x.result.serverTiming?.gateway.p50 ?? null)),
      })
    }
  }
  const agg = (t: Target, c: string) => aggs.find((a) => a.target === t && a.load === c)
  const overhead = loads.map(({ label: c }) => {
    const d = agg('direct', c)!
    const p = agg('passthrough', c)!
    const g = agg('gateway', c)!
    const l = agg('gateway+limits', c)
    return {
      load: c,
      addedP50VsDirectMs: g.p50 - d.p50,
      addedP50VsPassthroughMs: g.p50 - p.p50,
      passthroughAddedP50VsDirectMs: p.p50 - d.p50,
      rpsRatioVsDirect: g.rps / d.rps,
      rpsRatioVsPassthrough: g.rps / p.rps,
      limitsAddedP50VsGatewayMs: l ? l.p50 - g.p50 : null,
      cpuRatioVsFloor: g.cpuMsPerReq !== null && p.cpuMsPerReq ? g.cpuMsPerReq / p.cpuMsPerReq : null,
      limitsCpuRatioVsFloor: l?.cpuMsPerReq != null && p.cpuMsPerReq ? l.cpuMsPerReq / p.cpuMsPerReq : null,
    }
  })
  const headline = aggs.filter((a) => a.target !== 'gateway+limits')
  const maxSpread = Math.max(...headline.map((a) => Math.max(a.rpsSpread, a.p50Spread)))
  const noisy = opts.repeats > 1 && maxSpread > NOISY
  const c1 = overhead.find((o) => o.load === '1') ?? overhead[0]!
  const paced = overhead.find((o) => o.load === '1 paced')
  const c16 = overhead.find((o) => o.load === '16')
  const redisP50 = r.redisCell.latency.p50
  const cpuRatios = overhead.map((o) => o.cpuRatioVsFloor).filter((x): x is number => x !== null)
  const cpuRatio = cpuRatios.length ? median(cpuRatios) : null
  const goals = {
    warmBlockingRoundTrips: {
      target: '1 Redis, 0 Postgres',
      measured: `${r.roundTrips.free.typicalBlocking.redis} Redis, ${r.roundTrips.free.typicalBlocking.postgres} Postgres (limits key: ${r.roundTrips.limited.typicalBlocking.redis} / ${r.roundTrips.limited.typicalBlocking.postgres})`,
      met:
        r.roundTrips.free.typicalBlocking.redis <= 1 &&
        r.roundTrips.free.typicalBlocking.postgres === 0 &&
        r.roundTrips.limited.typicalBlocking.redis <= 1 &&
        r.roundTrips.limited.typicalBlocking.postgres === 0,
    },
    subrequestsAtC16: {
      target: '≤ 2.3 subrequests per request, amortized at c=16',
      measured: `${fmt(r.amortized.c16.perRequest.subrequests)} (Redis ${fmt(r.amortized.c16.perRequest.redisCalls)}, Postgres ${fmt(r.amortized.c16.perRequest.postgres)}, upstream 1)`,
      met: r.amortized.c16.perRequest.subrequests <= 2.3,
    },
    postgresAtC16: {
      target: '≤ 0.1 Postgres statements per request at c=16',
      measured: fmt(r.amortized.c16.perRequest.postgres, 3),
      met: r.amortized.c16.perRequest.postgres <= 0.1,
    },
    addedP50AtC1: {
      target: '≤ floor + 1 ms at c=1, paced',
      measured: paced
        ? `${fmt(paced.addedP50VsPassthroughMs, 3)} ms over the floor paced (closed loop: ${fmt(c1.addedP50VsPassthroughMs, 3)} ms)`
        : 'n/a (no paced load)',
      met: paced !== undefined && paced.addedP50VsPassthroughMs <= 1,
    },
    rpsAtC16: {
      target: '≥ 0.5× the floor at c=16',
      measured: c16 ? `${fmt(c16.rpsRatioVsPassthrough)}×` : 'n/a (no c=16 load)',
      met: c16 !== undefined && c16.rpsRatioVsPassthrough >= 0.5,
    },
    cpuPerRequest: {
      target: '≤ 2× the floor',
      measured: cpuRatio === null ? 'n/a' : `${fmt(cpuRatio)}× (median over the loads)`,
      met: cpuRatio !== null && cpuRatio <= 2,
    },
    // Issue 25: kept below 200 KB while features land (issue 16 had aimed at 120 KB).
    loneRequestCpu: {
      target: `≤ 2× the floor for a lone request (paced, one every ${opts.pauseMs} ms)`,
      measured: paced?.cpuRatioVsFloor == null ? 'n/a (no paced load)' : `${fmt(paced.cpuRatioVsFloor)}×`,
      met: paced?.cpuRatioVsFloor != null && paced.cpuRatioVsFloor <= 2,
    },
    bundleGzip: {
      target: '< 200 KB gzipped',
      measured: kb(r.bundle.gzipBytes),
      met: r.bundle.gzipBytes < 200 * 1024,
    },
  }
  const cpus = os.cpus()
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    workerd: r.workerdVersion,
    loadavgAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))),
    cpuPressure: r.cpuPressure, // share of the run during which some task waited for a CPU
  }
  const json = {
    generatedAt: new Date().toISOString(),
    durationSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    machine,
    options: { ...opts, database: r.databaseKind, keysCreatedVia: r.keys },
    noise: { maxSpread, threshold: NOISY, noisy, verdict: noisy ? 'machine too noisy' : 'ok' },
    goals,
    bundle: {
      rawBytes: r.bundle.rawBytes,
      gzipBytes: r.bundle.gzipBytes,
      unminified: { rawBytes: r.readable.rawBytes, gzipBytes: r.readable.gzipBytes },
      composition: r.composition,
      // Not in the bundle: served from Workers assets and fetched only when an upstream reports no usage.
      tokenizerAssets: r.tokenizerAssets,
    },
    coldStart: r.coldStart,
    latencyBreakdown: {
      direct: r.floorTiming.direct,
      passthrough: r.floorTiming.passthrough,
      gateway: r.roundTrips.free.timing,
      'gateway+limits': r.roundTrips.limited.timing,
    },
    localRedisRoundTrip: r.redisCell.latency,
    amortized: r.amortized,
    nonStreaming: { summary: aggs, overhead, cells: r.cells },
    streaming: { scenario: `gap${opts.gapMs}+chunks${opts.chunks}`, ...r.streaming },
    roundTrips: r.roundTrips,
    profile: r.profile ? { concurrency: opts.profileConcurrency, ...r.profile } : null,
  }

  // Text and markdown tables.
  const latencyHeader = [
    'target',
    'conc',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'spread rps/p50',
    'workerd CPU ms/req',
    'store endpoints CPU ms/req',
    'errors',
  ]
  const latencyRows = aggs.map((a) => [
    a.target,
    a.load,
    fmt(a.rps, 0),
    fmt(a.p50),
    fmt(a.p95),
    fmt(a.p99),
    a.runs > 1 ? `${pct(a.rpsSpread)} / ${pct(a.p50Spread)}` : '(1 run)',
    a.cpuMsPerReq === null ? '—' : fmt(a.cpuMsPerReq, 3),
    a.storesCpuMsPerReq === null ? '—' : fmt(a.storesCpuMsPerReq, 3),
    a.errors,
  ])
  const overheadHeader = [
    'conc',
    'added p50 vs direct',
    'added p50 vs floor',
    'Server-Timing gateway p50',
    'req/s vs direct',
    'req/s vs floor',
    'CPU vs floor',
    'limits key: +p50, CPU vs floor',
  ]
  const overheadRows = overhead.map((o) => [
    o.load,
    `${fmt(o.addedP50VsDirectMs, 3)} ms`,
    `${fmt(o.addedP50VsPassthroughMs, 3)} ms`,
    `${fmt(agg('gateway', o.load)?.serverTimingGatewayP50, 0)} ms`,
    `${fmt(o.rpsRatioVsDirect)}×`,
    `${fmt(o.rpsRatioVsPassthrough)}×`,
    o.cpuRatioVsFloor === null ? '—' : `${fmt(o.cpuRatioVsFloor)}×`,
    `${fmt(o.limitsAddedP50VsGatewayMs, 3)} ms, ${o.limitsCpuRatioVsFloor === null ? '—' : `${fmt(o.limitsCpuRatioVsFloor)}×`}`,
  ])
  const streamHeader = [
    'target',
    'TTFB p50 ms',
    'total p50 ms',
    'gap p50 ms',
    'gap min ms',
    'bunched gaps',
    'timing preserved',
  ]
  const streamRows = (['direct', 'passthrough', 'gateway'] as const).map((t) => {
    const s = r.streaming[t]
    return [
      t,
      fmt(s.ttfb.p50),
      fmt(s.total.p50),
      fmt(s.gaps.p50),
      fmt(s.gaps.min),
      `${s.bunchedGaps}/${s.gapCount}`,
      s.preserved ? 'yes' : 'NO',
    ]
  })
  const rtHeader = [
    'key',
    'first request: blocking (total) redis/pg',
    'warm: blocking redis/pg',
    'warm: total redis/pg',
    'warm requests with other counts',
  ]
  const rtRow = (name: string, x: RoundTrips, first: RoundTrips['first']) => [
    name,
    `${first.blocking.redis} / ${first.blocking.postgres} (${first.total.redis} / ${first.total.postgres})`,
    `${x.typicalBlocking.redis} / ${x.typicalBlocking.postgres} (mean ${fmt(x.blocking.redis)} / ${fmt(x.blocking.postgres)})`,
    `${fmt(x.total.redis)} / ${fmt(x.total.postgres)}`,
    `${x.requestsWithOtherCounts.length} of ${x.requests}` +
      (x.requestsWithOtherCounts.length
        ? ` (${x.requestsWithOtherCounts.map((o) => `${o.blocking.redis}/${o.blocking.postgres}`).join(', ')})`
        : ''),
  ]
  const rtRows = [
    rtRow('no limits', r.roundTrips.free, r.roundTrips.cold.free),
    rtRow('rpm+tpm+budgets', r.roundTrips.limited, r.roundTrips.cold.limited),
  ]
  const amortizedHeader = [
    'load (gateway+limits key)',
    'req/s',
    'workerd CPU ms/req (after-response included)',
    'Redis calls / commands per req',
    'Postgres statements per req',
    'subrequests per req',
  ]
  const amortizedRow = (name: string, a: Amortized) => [
    `${name}: ${a.requests} requests, ${a.concurrency} in flight${a.errors ? `, ${a.errors} errors` : ''}`,
    fmt(a.rps, 0),
    fmt(a.cpuMsPerRequest, 3),
    `${fmt(a.perRequest.redisCalls)} / ${fmt(a.perRequest.redisCommands)}`,
    fmt(a.perRequest.postgres, 3),
    fmt(a.perRequest.subrequests),
  ]
  const amortizedRows = [
    amortizedRow('closed loop c=16', r.amortized.c16),
    amortizedRow('burst, one key', r.amortized.burst),
    [
      'passthrough floor, same burst',
      fmt(r.amortized.floorBurst.rps, 0),
      fmt(r.amortized.floorBurst.cpuMsPerRequest, 3),
      '—',
      '—',
      '1',
    ],
  ]
  const amortizedTitle =
    'Store calls and CPU per request under load, after-response work included (requests finishing together share one Redis call and one Postgres statement)'
  const goalRows = Object.entries(goals).map(([name, g]) => [
    name,
    g.target,
    g.measured,
    g.met ? 'met' : 'NOT met',
  ])
  const profileHeader = ['where (self time)', 'share', 'ms']
  const profileRows = (r.profile?.byPackage ?? [])
    .slice(0, 12)
    .map((p) => [p.name, pct(p.share), fmt(p.ms, 0)])
  const functionHeader = ['function', 'where', 'share']
  const functionRows = [
    ...(r.profile?.topFunctions ?? []).slice(0, 10),
    ...(r.profile?.topOwnFunctions ?? []).slice(0, 8),
  ].map((f) => [f.name, f.where, pct(f.share)])
  const profileTitle = `CPU profile of the gateway at c=${opts.profileConcurrency}${opts.profilePauseMs ? ` paced ${opts.profilePauseMs} ms` : ''} (its own workerd with the inspector on: ${fmt(r.profile?.rps, 0)} req/s, ${fmt(r.profile?.workerdCpuMsPerReq, 3)} ms workerd CPU/req while profiled); self time by where it ran, as a share of non-idle samples`
  const breakdownHeader = [
    'path',
    'before upstream p50 ms',
    'after upstream p50 ms',
    'total p50 ms',
    'added vs floor',
    'workerd CPU ms: before / response / after-response = total',
  ]
  const passP50 = r.floorTiming.passthrough.total.p50
  const breakdownRows = Object.entries(json.latencyBreakdown).map(([name, t]) => [
    name,
    fmt(t.beforeUpstream.p50, 3),
    fmt(t.afterUpstream.p50, 3),
    fmt(t.total.p50, 3),
    name.startsWith('gateway') ? `${fmt(t.total.p50 - passP50, 3)} ms` : '',
    t.cpuMeanMs.total === null
      ? '—'
      : `${fmt(t.cpuMeanMs.beforeUpstream, 3)} / ${fmt(t.cpuMeanMs.response, 3)} / ${fmt(t.cpuMeanMs.afterResponse, 3)} = ${fmt(t.cpuMeanMs.total, 3)}`,
  ])
  const compositionLine = `Bundle composition (raw bytes before minification): ${r.composition
    .slice(0, 6)
    .map((c) => `${c.name} ${pct(c.share)}`)
    .join(', ')}`
  const tokenizerShare = r.composition.find((c) => c.name === 'gpt-tokenizer')?.share ?? 0
  const bundleLine =
    `Bundle (wrangler deploy --dry-run): ${kb(r.bundle.rawBytes)} raw, ${kb(r.bundle.gzipBytes)} gzipped` +
    `; unminified: ${kb(r.readable.rawBytes)} raw, ${kb(r.readable.gzipBytes)} gzipped` +
    `; of it the tokenizer's core (imported lazily) ${pct(tokenizerShare)} of the raw unminified bytes` +
    `; its rank tables are Workers assets outside the bundle: ${kb(r.tokenizerAssets.rawBytes)} raw, ${kb(r.tokenizerAssets.gzipBytes)} gzipped`
  const machineLine = `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os}; Node ${machine.node}, workerd ${machine.workerd}; load average at end ${machine.loadavgAtEnd.join(' ')}; CPU pressure during the run ${r.cpuPressure === null ? 'n/a' : pct(r.cpuPressure)} (share of time some task waited for a CPU)`
  const setupLine = `Cells: ${opts.durationMs} ms after ${opts.warmupMs} ms warm-up, ${opts.repeats} runs each (median shown; limits key: 1 run); mock latency ${opts.mockLatencyMs} ms; database: ${r.databaseKind}; keys created via ${r.keys.free}`
  const noiseLine = noisy
    ? `Noise: MACHINE TOO NOISY — largest spread between repeated runs ${pct(maxSpread)} (> ${pct(NOISY)}); treat the figures as rough.`
    : `Noise: largest spread between repeated runs ${pct(maxSpread)} (≤ ${pct(NOISY)}).`
  const coldLines = r.coldStart
    ? [
        `Cold start (a fresh workerd per sample; first request with its after-response work): ${coldLine('gateway', r.coldStart.gateway)}`,
        `Cold start of the floor: ${coldLine('passthrough', r.coldStart.floor)}`,
      ]
    : []
  const redisLine = `One local Redis round trip through the Upstash endpoint (GET, c=1): p50 ${fmt(redisP50, 3)} ms, p99 ${fmt(r.redisCell.latency.p99, 3)} ms`

  const text = [
    '',
    machineLine,
    setupLine,
    noiseLine,
    '',
    'Non-streaming chat completions',
    table(latencyHeader, latencyRows),
    '',
    'Gateway overhead (CPU = workerd process CPU per request, gateway vs passthrough floor)',
    table(overheadHeader, overheadRows),
    '',
    `Streaming (${json.streaming.scenario}: the mock spaces events by ${opts.gapMs} ms), ${opts.streams} sequential streams each`,
    table(streamHeader, streamRows),
    '',
    'Store round trips per request (blocking = before the upstream call)',
    table(rtHeader, rtRows),
    redisLine,
    '',
    amortizedTitle,
    table(amortizedHeader, amortizedRows),
    '',
    'Latency breakdown: one request at a time to the probe upstream (which timestamps arrival and answer), after-response work settled in between; CPU = mean per request',
    table(breakdownHeader, breakdownRows),
    '',
    bundleLine,
    compositionLine,
    ...coldLines,
    '',
    ...(r.profile
      ? [profileTitle, table(profileHeader, profileRows), '', table(functionHeader, functionRows), '']
      : []),
    'Goals',
    table(['goal', 'target', 'measured', ''], goalRows),
    '',
  ].join('\n')

  const markdown = [
    '# nexusai benchmark — latest run',
    '',
    `Generated ${json.generatedAt} by \`npm run bench\` in ${json.durationSeconds} s.`,
    '',
    `- ${machineLine}`,
    `- ${setupLine}`,
    `- ${noiseLine}`,
    `- ${bundleLine}`,
    `- ${compositionLine}`,
    ...coldLines.map((l) => `- ${l}`),
    `- ${redisLine}`,
    '',
    '## Non-streaming chat completions',
    '',
    markdownTable(latencyHeader, latencyRows),
    '',
    '## Gateway overhead',
    '',
    markdownTable(overheadHeader, overheadRows),
    '',
    `## Streaming (${json.streaming.scenario})`,
    '',
    markdownTable(streamHeader, streamRows),
    '',
    '## Store round trips per request',
    '',
    markdownTable(rtHeader, rtRows),
    '',
    `## Amortized under load`,
    '',
    amortizedTitle + '.',
    '',
    markdownTable(amortizedHeader, amortizedRows),
    '',
    '## Latency breakdown (one request at a time, idle gateway)',
    '',
    "The probe upstream timestamps when the request reaches it and when it answers, on the client's clock; the workerd process's CPU time (all threads, /proc schedstat) is sampled at the same edges and once the after-response work has settled (mean per request).",
    '',
    markdownTable(breakdownHeader, breakdownRows),
    '',
    ...(r.profile
      ? [
          '## Where the gateway spends its CPU',
          '',
          profileTitle + '.',
          '',
          markdownTable(profileHeader, profileRows),
          '',
          markdownTable(functionHeader, functionRows),
          '',
        ]
      : []),
    '## Goals',
    '',
    markdownTable(['goal', 'target', 'measured', ''], goalRows),
    '',
  ].join('\n')
  return { json, text, markdown }
}
