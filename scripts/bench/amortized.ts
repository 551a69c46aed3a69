// Store calls and CPU per request under load, after-response work included: what the local Neon and
// Upstash endpoints served while a fixed number of requests ran (and until their after-response work
// settled), divided by those requests. Coalescing shows here: requests finishing together share one
// Redis call and one Postgres statement.
import type { Stack } from '../local/stack.ts'
import { cpuMs } from './cpu.ts'
import type { LoadGenerator, Request } from './load.ts'
import { sleep } from './workerd.ts'

type Counts = { postgres: number; redisCalls: number; redisCommands: number }

const read = (stack: Stack): Counts => ({
  postgres: stack.neon.stats.requests,
  redisCalls: stack.upstash.stats.requests,
  redisCommands: stack.upstash.stats.commands,
})

// Counters unchanged for 200 ms (at most 5 s): the after-response writes (waitUntil) are done.
async function settled(stack: Stack): Promise<Counts> {
  let last = read(stack)
  let stableSince = performance.now()
  const deadline = performance.now() + 5000
  while (performance.now() < deadline) {
    await sleep(20)
    const now = read(stack)
    if (now.postgres !== last.postgres || now.redisCalls !== last.redisCalls) {
      last = now
      stableSince = performance.now()
    } else if (performance.now() - stableSince >= 200) break
  }
  return last
}

export type Amortized = {
  concurrency: number
  requests: number
  errors: number
  firstError: string | null
  rps: number
  // workerd CPU per request from the first request to the last after-response write.
  cpuMsPerRequest: number | null
  perRequest: { postgres: number; redisCalls: number; redisCommands: number; subrequests: number }
}

export async function amortized(
  loader: LoadGenerator,
  stack: Stack,
  request: Request,
  concurrency: number,
  requests: number,
  pid: number,
): Promise<Amortized> {
  const before = await settled(stack)
  const cpuBefore = cpuMs(pid)
  const result = await loader.closed({
    request,
    concurrency,
    warmupMs: 0,
    durationMs: 120_000,
    maxRequests: requests,
    cpuPids: {},
  })
  const after = await settled(stack)
  const cpuAfter = cpuMs(pid)
  const n = result.requests + result.errors
  const per = (k: keyof Counts) => (after[k] - before[k]) / n
  return {
    concurrency,
    requests: result.requests,
    errors: result.errors,
    firstError: result.firstError,
    rps: result.rps,
    cpuMsPerRequest: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / n,
    perRequest: {
      postgres: per('postgres'),
      redisCalls: per('redisCalls'),
      redisCommands: per('redisCommands'),
      // Each call to a store is one HTTP subrequest; the upstream call is one more.
      subrequests: per('postgres') + per('redisCalls') + 1,
    },
  }
}
