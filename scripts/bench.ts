// npm run bench — what the gateway adds on top of the upstream (issue 6).
//
// The Worker is bundled like production (`wrangler deploy --dry-run --outdir`) and served by a bare
// `workerd serve` (wrangler dev spends milliseconds of CPU per request of its own). Next to it, a bare
// passthrough Worker (the runtime's floor) on the same workerd, and the mock upstream in its own process.
// Load comes from a separate Node process. Stores are the local Neon- and Upstash-compatible endpoints
// (scripts/local/stack.ts) over the machine's Postgres (or PGlite) and a private Redis.
//
// Options (environment): BENCH_DURATION_MS (3000 per cell), BENCH_WARMUP_MS (500), BENCH_REPEATS (3),
// BENCH_CONCURRENCY ("1,16,64"), BENCH_MOCK_LATENCY_MS (0), BENCH_GAP_MS (50), BENCH_CHUNKS (10),
// BENCH_STREAMS (6), BENCH_RT_REQUESTS (20), BENCH_PAUSE_MS (100: the paced load, a lone request),
// BENCH_PROFILE (1), BENCH_PROFILE_CONCURRENCY (16), BENCH_PROFILE_PAUSE_MS (0), BENCH_FAILOVER_REQUESTS
// (30), BENCH_FAR_REDIS (1; 0 skips the far-Redis scenario), BENCH_SESSIONS (1; 0 skips the agent-sessions
// scenario; flag --sessions runs it alone; --economy runs the balance-and-windows scenario alone), REDIS_URL
// (default: a private redis-server), BENCH_POSTGRES_URL (admin URL; default the local one, else PGlite). Flag
// --quick: 1.5 s cells, 2 repeats. `--ledger N`: the usage ledger scenario at N rows.
import { randomBytes } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import os from 'node:os'
import { join } from 'node:path'
import { neon, neonConfig } from '@neondatabase/serverless'
import { cpuMs } from './bench/cpu.ts'
import { failoverSections, FAILOVER_UNGUARDED, NO_BREAKER_THRESHOLD, runFailover } from './bench/failover.ts'
import { farRedisSections, runFarRedis } from './bench/far-redis.ts'
import { runSessions, sessionsSections } from './bench/sessions.ts'
import { coldLine, coldStart, loneSummary, runLone } from './bench/lone.ts'
import { startLoadGenerator, type ClosedLoopResult, type Request } from './bench/load.ts'
import {
  chatRequest,
  closedCell,
  measureFloorTiming,
  measureRoundTrips,
  streamSummary,
  type BenchKey,
  type KeySpec,
  type Pids,
  type Profile,
  type ProbeState,
} from './bench/measure.ts'
import {
  HARD_LIMIT_MS,
  loads,
  quick,
  log,
  MOCK_KEY,
  opts,
  type Cell,
  type Sql,
  type Target,
} from './bench/options.ts'
import { startProbe, type Probe } from './bench/probe.ts'
import { attribute, bundleComposition, profileWorker } from './bench/profile.ts'
import { amortized } from './bench/amortized.ts'
import { buildReport } from './bench/report.ts'
import {
  cpuPressureTotalUs,
  createKey,
  expectOk,
  seedBenchRoutes,
  SLOW_UPSTREAM_MS,
  startMockProcess,
  wranglerSettings,
} from './bench/setup.ts'
import { fmt, kb, pct } from './bench/stats.ts'
import {
  buildBundle,
  freePort,
  killAllTracked,
  run,
  serve,
  track,
  workerdBinary,
  type Workerd,
} from './bench/workerd.ts'
import { prepareDatabase } from './local/postgres.ts'
import { stopChild } from './local/util.ts'
import { startStack } from './local/stack.ts'

const root = join(import.meta.dirname, '..')

// npm run bench -- --ledger N: the usage ledger at N rows instead (scripts/bench/ledger.ts); no time limit.
const ledgerAt = process.argv.indexOf('--ledger')
if (ledgerAt >= 0) {
  const rows = Number(process.argv[ledgerAt + 1])
  if (!Number.isInteger(rows) || rows <= 0) throw new Error('--ledger needs a row count: --ledger 1000000')
  const { runLedgerBench } = await import('./bench/ledger.ts')
  const undo: (() => Promise<unknown>)[] = []
  const stop = async () => {
    killAllTracked()
    for (const fn of undo.reverse()) await fn().catch(() => {})
  }
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)))
  try {
    await runLedgerBench(rows, undo)
    await stop()
    process.exit(0)
  } catch (e) {
    console.error(`ledger bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    await stop()
    process.exit(1)
  }
}
// npm run bench -- --otel: the hot path's CPU with and without OTLP export (scripts/bench/otel.ts).
if (process.argv.includes('--otel')) {
  const { runOtelBench } = await import('./bench/otel.ts')
  const undo: (() => Promise<unknown>)[] = []
  try {
    await runOtelBench(undo)
  } catch (e) {
    console.error(`otel bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    process.exitCode = 1
  }
  killAllTracked()
  for (const fn of undo.reverse()) await fn().catch(() => {})
  process.exit(process.exitCode ?? 0)
}
const ADMIN_TOKEN = `bench-admin-${randomBytes(8).toString('hex')}`

// ---- cleanup: every process and temp resource, on success, error and Ctrl-C ------------------------------

const cleanups: (() => Promise<unknown>)[] = []
let cleaning: Promise<void> | null = null
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    killAllTracked()
    for (const fn of cleanups.reverse())
      await fn().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`))
  })()
  return cleaning
}
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    log(`${signal}: stopping`)
    const force = setTimeout(() => process.exit(130), 8000)
    void cleanup().finally(() => {
      clearTimeout(force)
      process.exit(130)
    })
  })
}
process.once('exit', killAllTracked)
const watchdog = setTimeout(() => {
  log(`over ${HARD_LIMIT_MS / 60_000} minutes: aborting`)
  void cleanup().finally(() => process.exit(2))
}, HARD_LIMIT_MS)
watchdog.unref()

// ---- main ----------------------------------------------------------------------------------------------

async function main() {
  const pressureStart = { us: await cpuPressureTotalUs(), at: performance.now() }
  const tmp = await mkdtemp(join(os.tmpdir(), 'nexusai-bench-'))
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  const wrangler = await wranglerSettings()

  // 1. Bundle (while the stack starts: nothing is timed yet).
  log('bundling with wrangler deploy --dry-run ...')
  const bundlePromise = (async () => {
    const bundle = await buildBundle(root, join(tmp, 'gateway'))
    // wrangler.toml minifies the production bundle; an unminified twin keeps the package sections that
    // the bundle composition and the CPU profile's attribution read.
    const readable = await buildBundle(root, join(tmp, 'readable'), ['--no-minify'])
    return { bundle, readable }
  })()
  bundlePromise.catch(() => {})

  // 2. Stores: a fresh database (machine Postgres or PGlite), a private Redis, the local endpoints.
  log('starting the local stack ...')
  const dbName = `nexusai_bench_${process.pid}`
  const database = await prepareDatabase({ name: dbName, adminUrl: process.env.BENCH_POSTGRES_URL })
  cleanups.push(() => database.drop())
  const redisUrl = process.env.REDIS_URL || `redis://127.0.0.1:${await freePort()}` // nothing answers there: private redis-server
  const stack = await startStack({
    databaseUrl: database.backend.kind === 'postgres' ? database.backend.url : undefined,
    pgliteDir: database.backend.kind === 'pglite' ? database.backend.dataDir : undefined,
    redisUrl,
    upstashToken: `bench-${randomBytes(8).toString('hex')}`,
  })
  cleanups.push(() => stack.close())
  const mock = await startMockProcess(opts.mockLatencyMs, (stop) => cleanups.push(stop))
  const probeState: ProbeState = { arrived: null, serverPid: null, cpuAtArrival: null }
  const probe: Probe = await startProbe(() => {
    probeState.arrived = { postgres: stack.neon.stats.requests, redis: stack.upstash.stats.requests }
    if (probeState.serverPid !== null) probeState.cpuAtArrival = cpuMs(probeState.serverPid)
  })
  cleanups.push(() => probe.close())

  neonConfig.fetchEndpoint = stack.neon.url
  const sql = neon(stack.vars.DATABASE_URL!)
  const gapScenario = `gap${opts.gapMs}+chunks${opts.chunks}`
  await seedBenchRoutes(
    sql,
    `${mock.url}/s/${gapScenario}/v1`,
    `${probe.url}/v1`,
    `${mock.url}/s/delay${SLOW_UPSTREAM_MS}/v1`,
  )

  const { bundle, readable } = await bundlePromise
  log(
    `bundle: ${kb(bundle.rawBytes)} raw, ${kb(bundle.gzipBytes)} gzipped (unminified: ${kb(readable.rawBytes)} / ${kb(readable.gzipBytes)})`,
  )

  // 3. workerd: the gateway bundle and the passthrough floor, same runtime, date and flags.
  const passDir = join(tmp, 'passthrough')
  await mkdir(passDir, { recursive: true })
  await copyFile(join(root, 'scripts', 'bench', 'passthrough-worker.js'), join(passDir, 'worker.js'))
  const common = { compatibilityDate: wrangler.date, compatibilityFlags: wrangler.flags }
  const [gatewayPort, passPort] = [await freePort(), await freePort()]
  const gatewayServe = {
    ...common,
    name: 'gateway',
    dir: bundle.dir,
    modules: bundle.modules.map((m) => ({ name: m, path: m })),
    port: gatewayPort,
    bindings: {
      ...wrangler.vars,
      ...stack.vars,
      ADMIN_TOKEN,
      // Seals the pooled provider keys the agent-sessions scenario stores.
      SECRETS_KEY: randomBytes(32).toString('base64'),
      PROVIDER_OPENAI_MAIN_BASE_URL: `${mock.url}/v1`,
      PROVIDER_OPENAI_BACKUP_BASE_URL: `${mock.url}/v1`,
      PROVIDER_OPENAI_MAIN_API_KEY: MOCK_KEY,
      // The mock upstreams listen on 127.0.0.1: a local deployment, like npm run dev.
      ALLOW_PRIVATE_UPSTREAMS: 'true',
      // The economy scenario times the guard's own step before the upstream call, not the overlap hiding it.
      ...(opts.economyOnly ? { GUARD_OVERLAP: 'off' } : {}),
      ...Object.fromEntries(
        FAILOVER_UNGUARDED.map((name) => [
          `PROVIDER_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CIRCUIT_THRESHOLD`,
          NO_BREAKER_THRESHOLD,
        ]),
      ),
    },
  }
  const gateway: Workerd = await serve(gatewayServe)
  cleanups.push(() => gateway.close())
  // The agent-sessions scenario compares against the same gateway with conversation affinity off.
  const startUnpinned = async () => {
    const unpinned = await serve({
      ...gatewayServe,
      name: 'gateway-unpinned',
      port: await freePort(),
      bindings: { ...gatewayServe.bindings, AFFINITY_DISABLED: 'true' },
    })
    cleanups.push(() => unpinned.close())
    return unpinned
  }
  if (opts.economyOnly) {
    log('economy (--economy: this scenario only): a balance and two windows against the same limits ...')
    const { runEconomy } = await import('./bench/economy.ts')
    const economy = await runEconomy({
      stack,
      probe,
      probeState,
      gatewayUrl: gateway.url,
      pid: gateway.pid,
      adminToken: ADMIN_TOKEN,
      repeats: quick ? 3 : 7,
      requests: quick ? 1000 : 2000,
    })
    await mkdir(join(root, 'bench', 'results'), { recursive: true })
    await writeFile(join(root, 'bench', 'results', 'economy.json'), JSON.stringify(economy, null, 2) + '\n')
    log('wrote bench/results/economy.json')
    return
  }
  if (opts.sessionsOnly) {
    log('agent sessions (--sessions: this scenario only) ...')
    const unpinned = await startUnpinned()
    const sessions = await runSessions({ on: gateway.url, off: unpinned.url }, ADMIN_TOKEN, mock.url)
    const out = sessionsSections(sessions)
    await mkdir(join(root, 'bench', 'results'), { recursive: true })
    await writeFile(join(root, 'bench', 'results', 'sessions.json'), JSON.stringify(sessions, null, 2) + '\n')
    await writeFile(join(root, 'bench', 'results', 'sessions.md'), out.markdown)
    console.log(out.text)
    log('wrote bench/results/sessions.json and bench/results/sessions.md')
    return
  }
  const passthroughServe = {
    ...common,
    name: 'passthrough',
    dir: passDir,
    modules: [{ name: 'worker.js', path: 'worker.js' }],
    bindings: { UPSTREAM_ORIGIN: mock.url, PROBE_ORIGIN: probe.url },
  }
  const passthrough: Workerd = await serve({ ...passthroughServe, port: passPort })
  cleanups.push(() => passthrough.close())
  const workerdVersion = (
    await run(workerdBinary(), ['--version'], { cwd: root, timeoutMs: 10_000 })
  ).output.trim()
  log(
    `workerd up: gateway ${gateway.url} (pid ${gateway.pid}), passthrough ${passthrough.url} (pid ${passthrough.pid}); mock ${mock.url}`,
  )

  // 4. Keys: one without limits, one with rpm/tpm limits and budgets (never reached): the guard's real work.
  const freeKey = await createKey(gateway.url, ADMIN_TOKEN, {
    name: 'bench (no limits)',
    rpm: null,
    tpm: null,
    daily: null,
    monthly: null,
  })
  const limitedKey = await createKey(gateway.url, ADMIN_TOKEN, {
    name: 'bench (limits + budget)',
    rpm: 100_000_000,
    tpm: 2_000_000_000,
    daily: '1000000',
    monthly: '10000000',
  })

  const coldRequests = {
    gateway: (origin: string) =>
      chatRequest(`${origin}/v1/chat/completions`, limitedKey.raw, 'gpt-4o-mini', false),
    floor: (origin: string) => chatRequest(`${origin}/v1/chat/completions`, MOCK_KEY, 'gpt-4o-mini', false),
  }
  if (opts.loneOnly) {
    log('lone request and cold start (--lone: this scenario only) ...')
    const loader = startLoadGenerator()
    cleanups.push(() => loader.close())
    const lone = await runLone({
      loader,
      gateway: {
        request: coldRequests.gateway(gateway.url),
        pid: gateway.pid,
        serve: gatewayServe,
        cold: coldRequests.gateway,
      },
      floor: {
        request: coldRequests.floor(passthrough.url),
        pid: passthrough.pid,
        serve: passthroughServe,
        cold: coldRequests.floor,
      },
      repeats: opts.repeats,
      durationMs: Math.max(opts.durationMs, 3000),
      coldSamples: quick ? 3 : 5,
    })
    // BENCH_LONE_PROFILE=cold|paced|c16: where the first request of a fresh isolate (or a paced one, or c=16)
    // spends its CPU.
    const profileMode = process.env.BENCH_LONE_PROFILE
    let loneProfile: ReturnType<typeof attribute> | null = null
    if (profileMode === 'cold' || profileMode === 'paced' || profileMode === 'c16') {
      const [port, inspectorPort] = [await freePort(), await freePort()]
      const profiled = await serve({
        ...gatewayServe,
        name: 'gateway-lone-profiled',
        dir: readable.dir,
        modules: readable.modules.map((m) => ({ name: m, path: m })),
        port,
        inspectorPort,
      })
      cleanups.push(() => profiled.close())
      const req = coldRequests.gateway(profiled.url)
      if (profileMode !== 'cold') await expectOk('gateway-lone-profiled', req)
      const raw = await profileWorker(inspectorPort, async () => {
        if (profileMode === 'cold') {
          await expectOk('gateway-lone-profiled', req)
          await new Promise((r) => setTimeout(r, 300))
        } else
          await loader.closed({
            request: req,
            concurrency: profileMode === 'c16' ? 16 : 1,
            warmupMs: 0,
            durationMs: Math.max(opts.durationMs, 3000),
            maxRequests: 100_000,
            pauseMs: profileMode === 'c16' ? 0 : 100,
            cpuPids: {},
          })
      })
      loneProfile = attribute(raw, await readFile(join(readable.dir, readable.main), 'utf8'), readable.main)
      await profiled.close()
      console.log(`profile (${profileMode}): busy ${fmt(loneProfile.busyMs, 1)} ms`)
      for (const p of loneProfile.byPackage.slice(0, 8))
        console.log(`  ${p.name} ${fmt(p.ms, 1)} ms ${pct(p.share)}`)
      for (const f of loneProfile.topFunctions)
        console.log(`  ${f.name} ${f.where} ${fmt(f.ms, 1)} ms ${pct(f.share)}`)
      for (const f of loneProfile.topOwnFunctions)
        console.log(`  own: ${f.name} ${f.where} ${fmt(f.ms, 1)} ms ${pct(f.share)}`)
    }
    await mkdir(join(root, 'bench', 'results'), { recursive: true })
    await writeFile(
      join(root, 'bench', 'results', 'lone.json'),
      JSON.stringify(
        { ...lone, bundle: { rawBytes: bundle.rawBytes, gzipBytes: bundle.gzipBytes } },
        null,
        2,
      ) + '\n',
    )
    console.log(`${loneSummary(lone)}\nbundle: ${kb(bundle.rawBytes)} raw, ${kb(bundle.gzipBytes)} gzipped`)
    log('wrote bench/results/lone.json')
    return
  }

  // 5. The first request of each key (cold: nothing cached for it yet); the warm ones come after the load.
  const cold = {
    free: (await measureRoundTrips(stack, probe, probeState, gateway.url, freeKey, 1, gateway.pid)).first,
    limited: (await measureRoundTrips(stack, probe, probeState, gateway.url, limitedKey, 1, gateway.pid))
      .first,
  }
  log(
    `first request of a key: ${cold.free.blocking.redis} redis / ${cold.free.blocking.postgres} postgres before the upstream call (limits key: ${cold.limited.blocking.redis} / ${cold.limited.blocking.postgres})`,
  )

  // 6. Non-streaming load.
  const requests: Record<Target, Request> = {
    direct: chatRequest(`${mock.url}/v1/chat/completions`, MOCK_KEY, 'gpt-4o-mini', false),
    passthrough: chatRequest(`${passthrough.url}/v1/chat/completions`, MOCK_KEY, 'gpt-4o-mini', false),
    gateway: chatRequest(`${gateway.url}/v1/chat/completions`, freeKey.raw, 'gpt-4o-mini', false),
    'gateway+limits': chatRequest(`${gateway.url}/v1/chat/completions`, limitedKey.raw, 'gpt-4o-mini', false),
  }
  for (const [name, req] of Object.entries(requests)) await expectOk(name, req)
  const pidOf: Record<Target, Pids> = {
    direct: { server: null, mock: mock.pid },
    passthrough: { server: passthrough.pid, mock: mock.pid },
    gateway: { server: gateway.pid, mock: mock.pid },
    'gateway+limits': { server: gateway.pid, mock: mock.pid },
  }
  const loader = startLoadGenerator()
  cleanups.push(() => loader.close())

  // One local Redis round trip through the Upstash endpoint (a GET), for the latency goal.
  const redisCell = await loader.closed({
    request: {
      url: `${stack.upstash.url}/`,
      headers: {
        authorization: `Bearer ${stack.vars.UPSTASH_REDIS_REST_TOKEN}`,
        'content-type': 'application/json',
      },
      body: '["GET","bench:rtt"]',
    },
    concurrency: 1,
    warmupMs: 300,
    durationMs: Math.min(2000, opts.durationMs),
    maxRequests: 100_000,
    cpuPids: {},
  })
  log(`local Redis round trip (Upstash endpoint, GET): p50 ${fmt(redisCell.latency.p50, 3)} ms`)

  log(
    `non-streaming: ${opts.repeats} × ${loads.length} loads × 3 targets (+ limits key once), ${opts.durationMs} ms each ...`,
  )
  const cells: Cell[] = []
  for (let rep = 0; rep < opts.repeats; rep++) {
    for (const load of loads) {
      for (const target of ['direct', 'passthrough', 'gateway'] as const) {
        cells.push(await closedCell(loader, target, requests[target], load, rep, pidOf[target]))
      }
      if (rep === opts.repeats - 1)
        cells.push(
          await closedCell(
            loader,
            'gateway+limits',
            requests['gateway+limits'],
            load,
            rep,
            pidOf['gateway+limits'],
          ),
        )
    }
  }

  // 6b. Store calls and CPU per request with the after-response work included: a closed loop at c=16 and
  //     a burst of 1 000 requests on one key (coalescing shows in both), next to the floor's burst.
  log('store calls per request at c=16 and a burst of 1 000 requests on one key ...')
  const burstConcurrency = 64
  const amortizedRuns = {
    c16: await amortized(loader, stack, requests['gateway+limits'], 16, quick ? 1000 : 3000, gateway.pid),
    burst: await amortized(loader, stack, requests['gateway+limits'], burstConcurrency, 1000, gateway.pid),
    floorBurst: await amortized(loader, stack, requests.passthrough, burstConcurrency, 1000, passthrough.pid),
  }
  for (const [name, a] of Object.entries(amortizedRuns)) {
    log(
      `  ${name.padEnd(10)} ${fmt(a.rps, 0)} req/s, workerd CPU ${fmt(a.cpuMsPerRequest, 3)} ms/req; per request: Redis ${fmt(a.perRequest.redisCalls)} calls (${fmt(a.perRequest.redisCommands)} commands), Postgres ${fmt(a.perRequest.postgres, 3)}, subrequests ${fmt(a.perRequest.subrequests)}${a.errors ? `; ${a.errors} errors (first: ${a.firstError})` : ''}`,
    )
  }

  // 7. Warm store round trips and the idle latency breakdown (after the load: caches full, code compiled).
  log(`store round trips and latency breakdown, ${opts.rtRequests} sequential requests per path ...`)
  const roundTrips = {
    free: await measureRoundTrips(
      stack,
      probe,
      probeState,
      gateway.url,
      freeKey,
      opts.rtRequests,
      gateway.pid,
    ),
    limited: await measureRoundTrips(
      stack,
      probe,
      probeState,
      gateway.url,
      limitedKey,
      opts.rtRequests,
      gateway.pid,
    ),
    cold,
  }
  const floorTiming = {
    passthrough: await measureFloorTiming(
      probe,
      probeState,
      `${passthrough.url}/probe/v1/chat/completions`,
      opts.rtRequests,
      passthrough.pid,
    ),
    direct: await measureFloorTiming(
      probe,
      probeState,
      `${probe.url}/v1/chat/completions`,
      opts.rtRequests,
      null,
    ),
  }
  for (const [name, x] of [
    ['no limits', roundTrips.free],
    ['limits   ', roundTrips.limited],
  ] as const) {
    log(
      `  warm, ${name}: blocking ${fmt(x.blocking.redis)} redis / ${fmt(x.blocking.postgres)} postgres, total ${fmt(x.total.redis)} / ${fmt(x.total.postgres)}; before upstream p50 ${fmt(x.timing.beforeUpstream.p50)} ms`,
    )
  }
  log(`  floor: before upstream p50 ${fmt(floorTiming.passthrough.beforeUpstream.p50)} ms`)

  // 8. Streaming, chunks spaced by the mock.
  log(`streaming (${gapScenario}), ${opts.streams} sequential streams per target ...`)
  const streamReq = {
    direct: chatRequest(`${mock.url}/s/${gapScenario}/v1/chat/completions`, MOCK_KEY, 'gpt-4o-mini', true),
    passthrough: chatRequest(
      `${passthrough.url}/s/${gapScenario}/v1/chat/completions`,
      MOCK_KEY,
      'gpt-4o-mini',
      true,
    ),
    gateway: chatRequest(`${gateway.url}/v1/chat/completions`, freeKey.raw, 'bench-stream', true),
  }
  const streamTimeout = 60_000
  const streaming = {
    direct: streamSummary(
      await loader.stream({ request: streamReq.direct, count: opts.streams, timeoutMs: streamTimeout }),
      opts.gapMs,
    ),
    passthrough: streamSummary(
      await loader.stream({ request: streamReq.passthrough, count: opts.streams, timeoutMs: streamTimeout }),
      opts.gapMs,
    ),
    gateway: streamSummary(
      await loader.stream({ request: streamReq.gateway, count: opts.streams, timeoutMs: streamTimeout }),
      opts.gapMs,
    ),
  }
  for (const [t, s] of Object.entries(streaming)) {
    log(
      `  ${t.padEnd(12)} ttfb p50 ${fmt(s.ttfb.p50)} ms, total p50 ${fmt(s.total.p50)} ms, gap p50 ${fmt(s.gaps.p50)} ms (min ${fmt(s.gaps.min)}), bunched ${s.bunchedGaps}/${s.gapCount}${s.errors ? `, ${s.errors} errors: ${s.firstError}` : ''}`,
    )
  }

  // 8b. Failover: the first provider down, with and without circuit breakers.
  log(`failover, ${opts.failoverRequests} sequential requests per column ...`)
  const failover = await runFailover(gateway.url, ADMIN_TOKEN, mock.url, opts.failoverRequests)

  // 8c. Agent sessions: conversations and their prompt caches, with and without affinity.
  let sessions: Awaited<ReturnType<typeof runSessions>> | null = null
  if (opts.sessions) {
    log(
      'agent sessions: 20 conversations × 20 turns per family, affinity off / on / on with a breaker opening ...',
    )
    const unpinned = await startUnpinned()
    sessions = await runSessions({ on: gateway.url, off: unpinned.url }, ADMIN_TOKEN, mock.url)
    await unpinned.close()
  }

  // 8d. Far Redis: the guard's round trip at 0, 20 and 60 ms one way.
  if (opts.farRedis) log('far Redis: a key with limits at c=1, Redis 0 / 20 / 60 ms away ...')
  let farRedis = null
  if (opts.farRedis) {
    // The same bundle and stores with the guard never overlapped, for comparison.
    const noOverlap = await serve({
      ...gatewayServe,
      name: 'gateway-no-overlap',
      port: await freePort(),
      bindings: { ...gatewayServe.bindings, GUARD_OVERLAP: 'off' },
    })
    cleanups.push(() => noOverlap.close())
    const slow = (url: string) =>
      chatRequest(`${url}/v1/chat/completions`, limitedKey.raw, 'bench-slow', false)
    farRedis = await runFarRedis({
      loader,
      latency: stack.upstash.latency,
      gatewayUrl: gateway.url,
      adminToken: ADMIN_TOKEN,
      requests: { overlap: slow(gateway.url), noOverlap: slow(noOverlap.url) },
      upstreamMs: SLOW_UPSTREAM_MS,
      durationMs: Math.min(opts.durationMs, 3000),
    })
    await noOverlap.close()
  }

  // 8e. Cold start: a fresh workerd per sample, the first request (limits key) against the floor's.
  log('cold start: a fresh isolate per sample, gateway and floor ...')
  const coldStarts = {
    gateway: await coldStart(gatewayServe, coldRequests.gateway, quick ? 3 : 5),
    floor: await coldStart(passthroughServe, coldRequests.floor, quick ? 3 : 5),
  }
  log(`  ${coldLine('gateway', coldStarts.gateway)}`)
  log(`  ${coldLine('floor', coldStarts.floor)}`)

  // 9. A CPU profile of the gateway under load (its own workerd, with the inspector on, so the timed runs
  //    above never had a debugger attached), attributed to the bundle's packages.
  let profile: Profile | null = null
  if (opts.profile) {
    log(`profiling the gateway at c=${opts.profileConcurrency} for ${opts.durationMs} ms ...`)
    const [port, inspectorPort] = [await freePort(), await freePort()]
    const profiled = await serve({
      ...gatewayServe,
      name: 'gateway-profiled',
      dir: readable.dir,
      modules: readable.modules.map((m) => ({ name: m, path: m })),
      port,
      inspectorPort,
    })
    cleanups.push(() => profiled.close())
    const req = { ...requests.gateway, url: `${profiled.url}/v1/chat/completions` }
    await expectOk('gateway-profiled', req)
    await loader.closed({
      request: req,
      concurrency: opts.profileConcurrency,
      warmupMs: 0,
      durationMs: 500,
      maxRequests: 10_000,
      cpuPids: {},
    })
    let run: ClosedLoopResult | null = null
    const raw = await profileWorker(inspectorPort, async () => {
      run = await loader.closed({
        request: req,
        concurrency: opts.profileConcurrency,
        warmupMs: 0,
        durationMs: opts.durationMs,
        maxRequests: opts.maxRequestsPerCell,
        pauseMs: opts.profilePauseMs,
        cpuPids: { server: profiled.pid },
      })
    })
    const r = run as ClosedLoopResult | null
    profile = {
      ...attribute(raw, await readFile(join(readable.dir, readable.main), 'utf8'), readable.main),
      rps: r?.rps ?? null,
      workerdCpuMsPerReq: r?.cpuMsPerRequest.server ?? null,
    }
    log(
      `  ${fmt(profile.rps, 0)} req/s and ${fmt(profile.workerdCpuMsPerReq, 3)} ms workerd CPU/req while profiled; top: ${profile.byPackage
        .slice(0, 4)
        .map((p) => `${p.name} ${pct(p.share)}`)
        .join(', ')}`,
    )
    await profiled.close()
  }
  await loader.close()

  // 10. Aggregate, print, write.
  const pressureEnd = await cpuPressureTotalUs()
  const cpuPressure =
    pressureStart.us === null || pressureEnd === null
      ? null
      : (pressureEnd - pressureStart.us) / 1000 / (performance.now() - pressureStart.at)
  const composition = bundleComposition(await readFile(join(readable.dir, readable.main), 'utf8'))
  const report = buildReport({
    bundle,
    readable,
    cells,
    streaming,
    roundTrips,
    redisCell,
    keys: { free: freeKey.via, limited: limitedKey.via },
    workerdVersion,
    databaseKind: database.backend.kind,
    profile,
    floorTiming,
    cpuPressure,
    composition,
    tokenizerAssets: await tokenizerAssetSize(root),
    amortized: amortizedRuns,
    coldStart: coldStarts,
  })
  await mkdir(join(root, 'bench', 'results'), { recursive: true })
  const failoverReport = failoverSections(failover)
  const farRedisReport = farRedis ? farRedisSections(farRedis) : { text: '', markdown: '' }
  const sessionsReport = sessions ? sessionsSections(sessions) : { text: '', markdown: '' }
  await writeFile(
    join(root, 'bench', 'results', 'latest.json'),
    JSON.stringify({ ...report.json, failover, farRedis, sessions }, null, 2) + '\n',
  )
  await writeFile(
    join(root, 'bench', 'results', 'latest.md'),
    `${report.markdown}\n${failoverReport.markdown}\n${farRedisReport.markdown}\n${sessionsReport.markdown}`,
  )
  console.log(`${report.text}\n${failoverReport.text}\n${farRedisReport.text}\n${sessionsReport.text}`)
  log('wrote bench/results/latest.json and bench/results/latest.md')
}

// The tokenizer's tables (public/tokenizer/, written by npm install): uploaded as assets, not in the bundle.
async function tokenizerAssetSize(dir: string) {
  const folder = join(dir, 'public', 'tokenizer')
  let rawBytes = 0
  let gzipBytes = 0
  for (const name of await readdir(folder)) {
    const data = await readFile(join(folder, name))
    rawBytes += data.length
    gzipBytes += gzipSync(data).length
  }
  return { rawBytes, gzipBytes }
}

try {
  await main()
  await cleanup()
  clearTimeout(watchdog)
  process.exit(0)
} catch (e) {
  if (!interrupted) console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  await cleanup()
  process.exit(interrupted ? 130 : 1)
}
