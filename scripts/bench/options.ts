// The bench's options (environment variables, --quick) and the shapes shared by its parts.
import type { NeonQueryFunction } from '@neondatabase/serverless'
import type { ClosedLoopResult } from './load.ts'

export const quick = process.argv.includes('--quick')
const envNum = (name: string, fallback: number) => {
  const v = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback
}
export const opts = {
  durationMs: envNum('BENCH_DURATION_MS', quick ? 1500 : 3000),
  warmupMs: envNum('BENCH_WARMUP_MS', quick ? 300 : 500),
  repeats: Math.max(1, envNum('BENCH_REPEATS', quick ? 2 : 3)),
  concurrency: (process.env.BENCH_CONCURRENCY ?? '1,16,64')
    .split(',')
    .map(Number)
    .filter((n) => n > 0),
  mockLatencyMs: envNum('BENCH_MOCK_LATENCY_MS', 0),
  gapMs: envNum('BENCH_GAP_MS', 50),
  chunks: envNum('BENCH_CHUNKS', 10),
  streams: envNum('BENCH_STREAMS', 6),
  rtRequests: Math.max(2, envNum('BENCH_RT_REQUESTS', 20)),
  profile: process.env.BENCH_PROFILE !== '0',
  profileConcurrency: Math.max(1, envNum('BENCH_PROFILE_CONCURRENCY', 16)),
  profilePauseMs: envNum('BENCH_PROFILE_PAUSE_MS', 0),
  pauseMs: envNum('BENCH_PAUSE_MS', 100),
  failoverRequests: Math.max(5, envNum('BENCH_FAILOVER_REQUESTS', 30)),
  farRedis: process.env.BENCH_FAR_REDIS !== '0',
  sessions: process.env.BENCH_SESSIONS !== '0',
  sessionsOnly: process.argv.includes('--sessions'),
  economyOnly: process.argv.includes('--economy'),
  loneOnly: process.argv.includes('--lone'),
  maxRequestsPerCell: 200_000,
}
export const loads: Load[] = [
  ...opts.concurrency.map((c) => ({ label: String(c), concurrency: c, pauseMs: 0 })),
  ...(opts.pauseMs > 0 ? [{ label: '1 paced', concurrency: 1, pauseMs: opts.pauseMs }] : []),
]
export const NOISY = 0.2 // spread between repeats above which the machine is called too noisy
export const HARD_LIMIT_MS = 10 * 60_000 // never run longer than this, whatever happens
export const MOCK_KEY = 'sk-bench'
export type Sql = NeonQueryFunction<false, false>

export type Target = 'direct' | 'passthrough' | 'gateway' | 'gateway+limits'
export type Cpu = { server: number | null; mock: number | null; stores: number | null } // ms of CPU per request
// A load shape: closed loop at a concurrency, or "paced" (one request at a time with a pause between, so
// the previous request's after-response work has finished before the next one arrives).
export type Load = { label: string; concurrency: number; pauseMs: number }
export type Cell = {
  target: Target
  load: string
  concurrency: number
  rep: number
  result: ClosedLoopResult
  cpu: Cpu
}

export const t0 = performance.now()
export const log = (msg: string) =>
  console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`)
