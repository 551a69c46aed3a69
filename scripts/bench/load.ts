// The load generator. The bench forks this file as a separate Node process (so the client never shares
// an event loop with the servers it measures) and drives it over IPC: one job at a time, each bounded
// by time and by request count. Plain node:http with keep-alive sockets, no dependencies.
import { fork, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { cpuMs } from './cpu.ts'
import { summarize, type Summary } from './stats.ts'
import { stopChild } from '../local/util.ts'
import { track } from './workerd.ts'

export type Request = { url: string; headers: Record<string, string>; body: string }

export type ClosedLoopJob = {
  kind: 'closed'
  request: Request
  concurrency: number
  warmupMs: number
  durationMs: number
  maxRequests: number
  pauseMs?: number // pause after each request (per worker): a paced, not a closed, loop
  // Processes whose CPU time (/proc) is sampled exactly at the window's edges.
  cpuPids: Record<string, number>
}

export type StreamJob = { kind: 'stream'; request: Request; count: number; timeoutMs: number }

export type ClosedLoopResult = {
  requests: number
  errors: number
  firstError: string | null
  seconds: number
  rps: number
  latency: Summary
  // The gateway's own Server-Timing (gateway;dur / upstream;dur), when the target sends it.
  serverTiming: { gateway: Summary; upstream: Summary } | null
  // CPU ms per measured request, by the names given in cpuPids (null where /proc is unavailable).
  cpuMsPerRequest: Record<string, number | null>
}

export type StreamSample = {
  status: number
  ttfbMs: number
  totalMs: number
  events: number
  gapsMs: number[]
}
export type StreamResult = { samples: StreamSample[]; errors: number; firstError: string | null }

type Message = { type: 'result'; result: unknown } | { type: 'error'; message: string }

// ---- parent side ----------------------------------------------------------------------------------------

export type LoadGenerator = {
  pid: number
  closed(job: Omit<ClosedLoopJob, 'kind'>): Promise<ClosedLoopResult>
  stream(job: Omit<StreamJob, 'kind'>): Promise<StreamResult>
  close(): Promise<void>
}

export function startLoadGenerator(): LoadGenerator {
  const child: ChildProcess = fork(import.meta.filename, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  track(child)
  let pending: { resolve(v: unknown): void; reject(e: Error): void } | null = null
  child.on('message', (m: Message) => {
    if (!pending) return
    const p = pending
    pending = null
    if (m.type === 'result') p.resolve(m.result)
    else p.reject(new Error(m.message))
  })
  child.on('exit', (code, signal) => {
    if (pending) pending.reject(new Error(`load generator exited (${code ?? signal})`))
    pending = null
  })
  const send = (job: ClosedLoopJob | StreamJob) =>
    new Promise<unknown>((resolve, reject) => {
      if (pending) return reject(new Error('load generator is busy'))
      pending = { resolve, reject }
      child.send(job)
    })
  return {
    pid: child.pid!,
    closed: (job) => send({ kind: 'closed', ...job }) as Promise<ClosedLoopResult>,
    stream: (job) => send({ kind: 'stream', ...job }) as Promise<StreamResult>,
    close: () => stopChild(child),
  }
}

// ---- child side -----------------------------------------------------------------------------------------

function parseServerTiming(
  header: string | string[] | undefined,
): { gateway: number; upstream: number } | null {
  if (typeof header !== 'string') return null
  const g = /gateway;dur=([\d.]+)/.exec(header)
  const u = /upstream;dur=([\d.]+)/.exec(header)
  return g && u ? { gateway: Number(g[1]), upstream: Number(u[1]) } : null
}

function once(
  agent: http.Agent,
  req: Request,
  onHead?: () => void,
  onData?: (chunk: Buffer) => void,
): Promise<{ status: number; timing: ReturnType<typeof parseServerTiming>; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      req.url,
      { method: 'POST', agent, headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) } },
      (res) => {
        onHead?.()
        const timing = parseServerTiming(res.headers['server-timing'])
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => {
          onData?.(d)
          if (parts.length < 64) parts.push(d)
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, timing, body: Buffer.concat(parts).toString() }),
        )
        res.on('error', reject)
      },
    )
    r.on('error', reject)
    r.end(req.body)
  })
}

function sampleCpu(pids: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]))
}

async function runClosed(job: ClosedLoopJob): Promise<ClosedLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency, keepAliveMsecs: 30_000 })
  const latencies: number[] = []
  const gateway: number[] = []
  const upstream: number[] = []
  let errors = 0
  let firstError: string | null = null
  let started = 0
  let completed = 0 // 200s that ended inside the window: the throughput and the CPU divisor
  const t0 = performance.now()
  const windowStart = t0 + job.warmupMs
  const windowEnd = windowStart + job.durationMs
  let closed = false
  let cpuStart: Record<string, number | null> | null = null
  let cpuEnd: Record<string, number | null> | null = null
  const timerStart = setTimeout(() => (cpuStart = sampleCpu(job.cpuPids)), job.warmupMs)
  const timerEnd = setTimeout(() => {
    closed = true
    cpuEnd = sampleCpu(job.cpuPids)
  }, job.warmupMs + job.durationMs)
  async function worker() {
    while (!closed && started < job.maxRequests) {
      started++
      const begin = performance.now()
      try {
        const res = await once(agent, job.request)
        const end = performance.now()
        if (res.status !== 200) {
          errors++
          firstError ??= `HTTP ${res.status}: ${res.body.slice(0, 300)}`
          continue
        }
        if (end >= windowStart && end <= windowEnd) completed++
        if (begin >= windowStart && end <= windowEnd) {
          latencies.push(end - begin)
          if (res.timing) {
            gateway.push(res.timing.gateway)
            upstream.push(res.timing.upstream)
          }
        }
      } catch (e) {
        errors++
        firstError ??= (e as Error).message
        await new Promise((r) => setTimeout(r, 10))
      }
      if (job.pauseMs) await new Promise((r) => setTimeout(r, job.pauseMs))
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, worker))
  clearTimeout(timerStart)
  clearTimeout(timerEnd)
  const start = cpuStart ?? sampleCpu(job.cpuPids)
  const end = cpuEnd ?? sampleCpu(job.cpuPids)
  const cpuMsPerRequest: Record<string, number | null> = {}
  for (const name of Object.keys(job.cpuPids)) {
    const a = start[name]
    const b = end[name]
    cpuMsPerRequest[name] = a == null || b == null || completed === 0 ? null : (b - a) / completed
  }
  const seconds = Math.min(job.durationMs, performance.now() - windowStart) / 1000
  agent.destroy()
  return {
    requests: completed,
    errors,
    firstError,
    seconds,
    rps: completed / seconds,
    latency: summarize(latencies),
    serverTiming: gateway.length ? { gateway: summarize(gateway), upstream: summarize(upstream) } : null,
    cpuMsPerRequest,
  }
}

async function runStream(job: StreamJob): Promise<StreamResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const samples: StreamSample[] = []
  let errors = 0
  let firstError: string | null = null
  const deadline = performance.now() + job.timeoutMs
  for (let i = 0; i < job.count && performance.now() < deadline; i++) {
    const begin = performance.now()
    let ttfb = -1
    const arrivals: number[] = []
    let buffered = ''
    try {
      const res = await once(agent, job.request, undefined, (chunk) => {
        const now = performance.now()
        if (ttfb < 0) ttfb = now - begin
        // One arrival time per SSE event (events end with a blank line).
        buffered += chunk.toString()
        let idx: number
        while ((idx = buffered.indexOf('\n\n')) !== -1) {
          buffered = buffered.slice(idx + 2)
          arrivals.push(now)
        }
      })
      const total = performance.now() - begin
      if (res.status !== 200) {
        errors++
        firstError ??= `HTTP ${res.status}: ${res.body.slice(0, 300)}`
        continue
      }
      const gaps = arrivals.slice(1).map((t, k) => t - arrivals[k]!)
      samples.push({
        status: res.status,
        ttfbMs: ttfb,
        totalMs: total,
        events: arrivals.length,
        gapsMs: gaps,
      })
    } catch (e) {
      errors++
      firstError ??= (e as Error).message
    }
  }
  agent.destroy()
  return { samples, errors, firstError }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const post = (m: Message) => process.send?.(m)
  process.on('message', (job: ClosedLoopJob | StreamJob) => {
    const work = job.kind === 'closed' ? runClosed(job) : runStream(job)
    work.then(
      (result) => post({ type: 'result', result }),
      (e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    )
  })
  process.on('disconnect', () => process.exit(0))
}
