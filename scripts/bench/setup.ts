// Setup helpers of npm run bench: wrangler settings, the mock upstream in its own process, keys, bench
// routes, and the CPU-pressure gauge.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Request } from './load.ts'
import { postOnce, type BenchKey, type KeySpec } from './measure.ts'
import type { Sql } from './options.ts'
import { stopChild } from '../local/util.ts'
import { track } from './workerd.ts'

const root = join(import.meta.dirname, '..', '..')

export async function wranglerSettings() {
  const text = await readFile(join(root, 'wrangler.toml'), 'utf8')
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1]
  if (!date) throw new Error('wrangler.toml has no compatibility_date')
  const flagsRaw = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? ''
  const flags = [...flagsRaw.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)
  const vars: Record<string, string> = {}
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(text)?.[1] ?? ''
  for (const m of section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)) vars[m[1]!] = m[2]!
  return { date, flags, vars }
}

export async function startMockProcess(
  latencyMs: number,
  onStop: (stop: () => Promise<unknown>) => void,
): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'scripts', 'local', 'mock-upstream.ts')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MOCK_RECORD: '0',
      MOCK_LATENCY_MS: String(latencyMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  track(child)
  onStop(() => stopChild(child))
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`mock upstream did not start: ${out}`)), 15_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/[^\s]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ url: m[1]!.replace(/\/$/, ''), pid: child.pid!, child })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`mock upstream exited (${code}): ${out}`)))
  })
}

const BENCH_MODELS = ['gpt-4o-mini', 'bench-stream', 'bench-probe', 'bench-slow']

// Keys come from the admin API, as an operator would make them.
export async function createKey(gatewayUrl: string, adminToken: string, spec: KeySpec): Promise<BenchKey> {
  const res = await fetch(`${gatewayUrl}/admin/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: spec.name,
      allowed_models: BENCH_MODELS,
      rpm_limit: spec.rpm,
      tpm_limit: spec.tpm,
      daily_budget: spec.daily,
      monthly_budget: spec.monthly,
    }),
    signal: AbortSignal.timeout(5000),
  })
  const body = (await res.json().catch(() => ({}))) as { raw_key?: string }
  if (res.status !== 201 || !body.raw_key)
    throw new Error(`admin API did not create a key (HTTP ${res.status})`)
  return { raw: body.raw_key, spec, via: 'admin-api' }
}

// Extra providers routed by the catalog: the mock with spaced stream chunks, the probe, and the mock
// answering after SLOW_UPSTREAM_MS (a model's time to first token, for the far-Redis scenario).
export const SLOW_UPSTREAM_MS = 300
export async function seedBenchRoutes(
  sql: Sql,
  gapBaseUrl: string,
  probeBaseUrl: string,
  slowBaseUrl: string,
) {
  await sql.transaction([
    sql.query(
      `INSERT INTO providers (name, type, base_url, api_key_ref, enabled, timeout_ms, max_retries)
       VALUES ('bench-gap', 'openai', $1, 'PROVIDER_OPENAI_MAIN_API_KEY', true, 30000, 0),
              ('bench-probe', 'openai', $2, 'PROVIDER_OPENAI_MAIN_API_KEY', true, 30000, 0),
              ('bench-slow', 'openai', $3, 'PROVIDER_OPENAI_MAIN_API_KEY', true, 30000, 0)`,
      [gapBaseUrl, probeBaseUrl, slowBaseUrl],
    ),
    sql.query(
      `INSERT INTO model_mappings (model, provider_id, upstream_model, priority, weight, enabled)
       SELECT m.model, p.id, 'gpt-4o-mini', 1, 1, true
       FROM (VALUES ('bench-stream', 'bench-gap'), ('bench-probe', 'bench-probe'), ('bench-slow', 'bench-slow'))
         AS m(model, provider)
       JOIN providers p ON p.name = m.provider`,
    ),
    sql.query(
      `INSERT INTO prices (model, input_per_million, output_per_million, effective_from)
       VALUES ('bench-stream', 0.15, 0.60, '2024-07-18T00:00:00Z'), ('bench-probe', 0.15, 0.60, '2024-07-18T00:00:00Z'),
              ('bench-slow', 0.15, 0.60, '2024-07-18T00:00:00Z')`,
    ),
  ])
}

export async function expectOk(name: string, req: Request) {
  const { res, text } = await postOnce(req)
  if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${text.slice(0, 400)}`)
}

// Share of wall time during which some runnable task waited for a CPU (Linux PSI), a direct noise gauge.
export async function cpuPressureTotalUs(): Promise<number | null> {
  try {
    const m = /^some .*total=(\d+)/m.exec(await readFile('/proc/pressure/cpu', 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}
