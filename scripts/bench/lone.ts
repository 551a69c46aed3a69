// A lone request and a cold start (#25): what one request costs when it has no batch to join, and what the
// first request on a fresh isolate costs, each next to the floor (the bare passthrough Worker).
// - paced: one request every PACE_MS (the previous one's after-response work is over before the next
//   arrives), workerd CPU per request with that work included;
// - cold start: a fresh workerd per sample; how long it takes to listen (script compiled, top-level code
//   run) and the first request's latency and workerd CPU (after-response work included), then the second's.
// `npm run bench -- --lone` runs this alone (also a c=16 closed loop of both, for the ratio).
import { cpuMs } from './cpu.ts'
import type { LoadGenerator, Request } from './load.ts'
import { postOnce } from './measure.ts'
import { log } from './options.ts'
import { fmt, median, spread } from './stats.ts'
import { freePort, serve, sleep, type ServeOptions } from './workerd.ts'

const PACE_MS = 100

export type PacedResult = { cpuMsPerRequest: number; p50: number; p99: number; requests: number }

async function paced(
  loader: LoadGenerator,
  request: Request,
  pid: number,
  durationMs: number,
): Promise<PacedResult> {
  const r = await loader.closed({
    request,
    concurrency: 1,
    warmupMs: 3 * PACE_MS,
    durationMs,
    maxRequests: 100_000,
    pauseMs: PACE_MS,
    cpuPids: { server: pid },
  })
  if (r.errors) throw new Error(`paced run: ${r.errors} errors (first: ${r.firstError})`)
  return {
    cpuMsPerRequest: r.cpuMsPerRequest.server ?? NaN,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests,
  }
}

export type ColdSample = {
  listenMs: number
  firstMs: number
  firstCpuMs: number
  secondMs: number
  secondCpuMs: number
}
export type ColdStart = {
  samples: number
  listenMs: number
  firstMs: number
  firstCpuMs: number
  secondMs: number
  secondCpuMs: number
}

// workerd CPU of one request, its after-response work included (AFTER_MS of quiet after the response).
const AFTER_MS = 300
async function timedRequest(request: Request, pid: number): Promise<{ ms: number; cpu: number }> {
  const cpu0 = cpuMs(pid) ?? NaN
  const t0 = performance.now()
  const { res } = await postOnce(request)
  const ms = performance.now() - t0
  if (!res.ok) throw new Error(`cold start: HTTP ${res.status}`)
  await sleep(AFTER_MS)
  return { ms, cpu: (cpuMs(pid) ?? NaN) - cpu0 }
}

// `serveOptions` without a port; `path` is the request's path on that Worker.
export async function coldStart(
  serveOptions: Omit<ServeOptions, 'port'>,
  request: (origin: string) => Request,
  samples: number,
): Promise<ColdStart> {
  const out: ColdSample[] = []
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    const w = await serve({ ...serveOptions, name: `${serveOptions.name}-cold${i}`, port: await freePort() })
    try {
      const listenMs = performance.now() - t0
      await sleep(AFTER_MS) // startup CPU is not the first request's
      const first = await timedRequest(request(w.url), w.pid)
      const second = await timedRequest(request(w.url), w.pid)
      out.push({
        listenMs,
        firstMs: first.ms,
        firstCpuMs: first.cpu,
        secondMs: second.ms,
        secondCpuMs: second.cpu,
      })
    } finally {
      await w.close()
    }
  }
  const m = (f: (s: ColdSample) => number) => median(out.map(f))
  return {
    samples: out.length,
    listenMs: m((s) => s.listenMs),
    firstMs: m((s) => s.firstMs),
    firstCpuMs: m((s) => s.firstCpuMs),
    secondMs: m((s) => s.secondMs),
    secondCpuMs: m((s) => s.secondCpuMs),
  }
}

export function coldLine(name: string, c: ColdStart): string {
  return `${name}: listening after ${fmt(c.listenMs, 0)} ms; first request ${fmt(c.firstMs, 1)} ms, ${fmt(c.firstCpuMs, 2)} ms CPU; second ${fmt(c.secondMs, 1)} ms, ${fmt(c.secondCpuMs, 2)} ms CPU (median of ${c.samples})`
}

export type LoneReport = {
  paced: { gateway: PacedResult[]; floor: PacedResult[]; ratio: number; spread: number }
  c16: {
    gateway: { rps: number; cpu: number }[]
    floor: { rps: number; cpu: number }[]
    cpuRatio: number
    rpsRatio: number
  }
  cold: { gateway: ColdStart; floor: ColdStart }
}

// The whole --lone scenario: paced and c=16 for both (interleaved, `repeats` rounds), then cold starts.
export async function runLone(o: {
  loader: LoadGenerator
  gateway: {
    request: Request
    pid: number
    serve: Omit<ServeOptions, 'port'>
    cold: (origin: string) => Request
  }
  floor: {
    request: Request
    pid: number
    serve: Omit<ServeOptions, 'port'>
    cold: (origin: string) => Request
  }
  repeats: number
  durationMs: number
  coldSamples: number
}): Promise<LoneReport> {
  const pg: PacedResult[] = []
  const pf: PacedResult[] = []
  const cg: { rps: number; cpu: number }[] = []
  const cf: { rps: number; cpu: number }[] = []
  const closed = async (request: Request, pid: number) => {
    const r = await o.loader.closed({
      request,
      concurrency: 16,
      warmupMs: 300,
      durationMs: o.durationMs,
      maxRequests: 200_000,
      cpuPids: { server: pid },
    })
    if (r.errors) throw new Error(`c=16: ${r.errors} errors (first: ${r.firstError})`)
    return { rps: r.rps, cpu: r.cpuMsPerRequest.server ?? NaN }
  }
  for (let rep = 0; rep < o.repeats; rep++) {
    pf.push(await paced(o.loader, o.floor.request, o.floor.pid, o.durationMs))
    pg.push(await paced(o.loader, o.gateway.request, o.gateway.pid, o.durationMs))
    log(
      `  paced, round ${rep + 1}: gateway ${fmt(pg.at(-1)!.cpuMsPerRequest, 3)} ms CPU/req, floor ${fmt(pf.at(-1)!.cpuMsPerRequest, 3)}`,
    )
    cf.push(await closed(o.floor.request, o.floor.pid))
    cg.push(await closed(o.gateway.request, o.gateway.pid))
    log(
      `  c=16,  round ${rep + 1}: gateway ${fmt(cg.at(-1)!.rps, 0)} req/s ${fmt(cg.at(-1)!.cpu, 3)} ms CPU/req, floor ${fmt(cf.at(-1)!.rps, 0)} req/s ${fmt(cf.at(-1)!.cpu, 3)}`,
    )
  }
  // Per round ratios (the machine's load moves between rounds), then their median.
  const pacedRatios = pg.map((g, i) => g.cpuMsPerRequest / pf[i]!.cpuMsPerRequest)
  const cold = {
    gateway: await coldStart(o.gateway.serve, o.gateway.cold, o.coldSamples),
    floor: await coldStart(o.floor.serve, o.floor.cold, o.coldSamples),
  }
  return {
    paced: { gateway: pg, floor: pf, ratio: median(pacedRatios), spread: spread(pacedRatios) },
    c16: {
      gateway: cg,
      floor: cf,
      cpuRatio: median(cg.map((g, i) => g.cpu / cf[i]!.cpu)),
      rpsRatio: median(cg.map((g, i) => g.rps / cf[i]!.rps)),
    },
    cold,
  }
}

export function loneSummary(r: LoneReport): string {
  const mp = (xs: PacedResult[]) => median(xs.map((x) => x.cpuMsPerRequest))
  const mc = (xs: { rps: number; cpu: number }[], k: 'rps' | 'cpu') => median(xs.map((x) => x[k]))
  return [
    `lone request (paced, one every ${PACE_MS} ms): gateway ${fmt(mp(r.paced.gateway), 3)} ms CPU/req, floor ${fmt(mp(r.paced.floor), 3)}: ${fmt(r.paced.ratio)}× (spread of the ratio ${fmt(r.paced.spread * 100, 0)}%)`,
    `c=16: gateway ${fmt(mc(r.c16.gateway, 'rps'), 0)} req/s at ${fmt(mc(r.c16.gateway, 'cpu'), 3)} ms CPU/req, floor ${fmt(mc(r.c16.floor, 'rps'), 0)} req/s at ${fmt(mc(r.c16.floor, 'cpu'), 3)}: CPU ${fmt(r.c16.cpuRatio)}×, req/s ${fmt(r.c16.rpsRatio)}×`,
    `cold start: ${coldLine('gateway', r.cold.gateway)}`,
    `cold start: ${coldLine('floor', r.cold.floor)}`,
  ].join('\n')
}
