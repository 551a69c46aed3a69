// npm run bench -- --otel: the hot path's CPU per request with and without OTLP export (issue 24's "within
// 5%" target). Two gateways from the same bundle on workerd, identical but for OTEL_EXPORTER_OTLP_ENDPOINT
// (the mock upstream's trace receiver), loaded in turn with the same closed loop; CPU is workerd's own
// (/proc), per request. Options: BENCH_DURATION_MS (3000 per cell), BENCH_REPEATS (3), BENCH_CONCURRENCY
// (first value used, default 16).
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { startLoadGenerator } from './load.ts'
import { chatRequest } from './measure.ts'
import { log, MOCK_KEY, opts } from './options.ts'
import { createKey, startMockProcess, wranglerSettings } from './setup.ts'
import { fmt, markdownTable, median } from './stats.ts'
import { buildBundle, freePort, serve } from './workerd.ts'
import { prepareDatabase } from '../local/postgres.ts'
import { startStack } from '../local/stack.ts'

const root = join(import.meta.dirname, '..', '..')

export async function runOtelBench(cleanups: (() => Promise<unknown>)[]) {
  const tmp = await mkdtemp(join(os.tmpdir(), 'nexusai-otel-'))
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  const adminToken = `bench-admin-${randomBytes(8).toString('hex')}`
  const wrangler = await wranglerSettings()
  log('bundling ...')
  const bundle = await buildBundle(root, join(tmp, 'gateway'))
  const database = await prepareDatabase({
    name: `nexusai_otel_${process.pid}`,
    adminUrl: process.env.BENCH_POSTGRES_URL,
  })
  cleanups.push(() => database.drop())
  const stack = await startStack({
    databaseUrl: database.backend.kind === 'postgres' ? database.backend.url : undefined,
    pgliteDir: database.backend.kind === 'pglite' ? database.backend.dataDir : undefined,
    redisUrl: process.env.REDIS_URL || `redis://127.0.0.1:${await freePort()}`,
    upstashToken: `bench-${randomBytes(8).toString('hex')}`,
  })
  cleanups.push(() => stack.close())
  const mock = await startMockProcess(0, (stop) => cleanups.push(stop))
  const gatewayWith = async (name: string, extra: Record<string, string>) => {
    const workerd = await serve({
      compatibilityDate: wrangler.date,
      compatibilityFlags: wrangler.flags,
      name,
      dir: bundle.dir,
      modules: bundle.modules.map((m) => ({ name: m, path: m })),
      port: await freePort(),
      bindings: {
        ...wrangler.vars,
        ...stack.vars,
        ADMIN_TOKEN: adminToken,
        PROVIDER_OPENAI_MAIN_BASE_URL: `${mock.url}/v1`,
        PROVIDER_OPENAI_BACKUP_BASE_URL: `${mock.url}/v1`,
        PROVIDER_OPENAI_MAIN_API_KEY: MOCK_KEY,
        ALLOW_PRIVATE_UPSTREAMS: 'true',
        ...extra,
      },
    })
    cleanups.push(() => workerd.close())
    return workerd
  }
  const plain = await gatewayWith('plain', {})
  const traced = await gatewayWith('traced', { OTEL_EXPORTER_OTLP_ENDPOINT: `${mock.url}/s/otel` })
  const key = await createKey(plain.url, adminToken, {
    name: 'otel bench',
    rpm: null,
    tpm: null,
    daily: null,
    monthly: null,
  })
  const loader = startLoadGenerator()
  cleanups.push(() => loader.close())
  const concurrency = opts.concurrency[0] ?? 16
  const cpu: Record<string, number[]> = { plain: [], traced: [] }
  const p50: Record<string, number[]> = { plain: [], traced: [] }
  for (let rep = 0; rep < opts.repeats; rep++) {
    for (const [name, gateway] of Object.entries({ plain, traced })) {
      const r = await loader.closed({
        request: chatRequest(`${gateway.url}/v1/chat/completions`, key.raw, 'gpt-4o-mini', false),
        concurrency,
        warmupMs: opts.warmupMs,
        durationMs: opts.durationMs,
        maxRequests: 200_000,
        cpuPids: { server: gateway.pid },
      })
      if (r.errors > 0) throw new Error(`${name}: ${r.errors} errors (${r.firstError})`)
      cpu[name]!.push(r.cpuMsPerRequest.server ?? NaN)
      p50[name]!.push(r.latency.p50)
      log(
        `${name} rep ${rep + 1}: ${fmt(r.cpuMsPerRequest.server)} ms CPU/request, p50 ${fmt(r.latency.p50)} ms`,
      )
    }
  }
  const [a, b] = [median(cpu.plain!), median(cpu.traced!)]
  console.log(
    [
      `## OTLP export overhead (c=${concurrency}, ${opts.repeats} alternating repeats of ${opts.durationMs} ms)`,
      '',
      markdownTable(
        ['gateway', 'CPU ms/request (median)', 'each repeat', 'p50 ms (median)'],
        [
          ['without OTLP', fmt(a, 3), cpu.plain!.map((x) => fmt(x, 3)).join(' / '), fmt(median(p50.plain!))],
          ['with OTLP', fmt(b, 3), cpu.traced!.map((x) => fmt(x, 3)).join(' / '), fmt(median(p50.traced!))],
        ],
      ),
      '',
      `With OTLP: ${fmt(((b - a) / a) * 100, 1)}% CPU per request.`,
    ].join('\n'),
  )
}
