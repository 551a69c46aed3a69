// npm run bench -- --ledger N: the usage ledger at N rows (issue 24). N synthetic rows are written straight
// in SQL, shaped like the real writer's (50 projects, 1,000 keys with skewed traffic, 5 models on 4
// providers, two price versions of one model, 3% 429s and 2% 5xx, 90 days, the daily rollup built from the
// rows), then every admin read the page and scripts use is timed through the Worker (bundled like production,
// served by workerd, Postgres through the local Neon endpoint), with the export, the hot path before and
// after, how soon a usage row lands, storage per million rows, and dropping the oldest month. Needs a real
// Postgres (BENCH_POSTGRES_URL, default the local one); PGlite is far too slow for this. Options:
// BENCH_LEDGER_READS (5 timed runs per read, after one warm-up), BENCH_DURATION_MS (hot path cells).
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { startLoadGenerator } from './load.ts'
import { chatRequest } from './measure.ts'
import { log, MOCK_KEY } from './options.ts'
import { createKey, startMockProcess, wranglerSettings } from './setup.ts'
import { fmt, markdownTable, summarize } from './stats.ts'
import { buildBundle, freePort, serve, sleep } from './workerd.ts'
import { prepareDatabase } from '../local/postgres.ts'
import { startStack } from '../local/stack.ts'

const root = join(import.meta.dirname, '..', '..')
const envNum = (name: string, fallback: number) => {
  const v = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(v) && v >= 0 ? v : fallback
}
const DAY_MS = 86_400_000
const DAYS = 90
const KEYS = 1000
const PROJECTS = 50
const CHUNK = 500_000
const READS = Math.max(1, envNum('BENCH_LEDGER_READS', 5))
const HOT_MS = envNum('BENCH_DURATION_MS', 3000)
// BENCH_LEDGER_ONLY=export: seed, then time only the export (for work on the export).
const exportOnly = process.env.BENCH_LEDGER_ONLY === 'export'
const EXPORT_FORMAT = process.env.BENCH_LEDGER_EXPORT_FORMAT === 'ndjson' ? 'ndjson' : 'csv'

// model, provider, price per 1M input/output; gpt-4o-mini changed price 45 days ago (two versions).
const MODELS = [
  ['gpt-4o-mini', 'openai-main', 0.15, 0.6],
  ['gpt-4o', 'openai-main', 2.5, 10],
  ['claude-sonnet-4-5', 'anthropic-main', 3, 15],
  ['gemini-2.5-flash', 'gemini-main', 0.3, 2.5],
  ['text-embedding-3-small', 'openai-backup', 0.02, 0],
] as const

type Timed = { name: string; ms: number[]; note?: string }

// The rollups' sum columns (the seeded rows' project and key rollups are summed from usage_daily).
const ROLLUP_SUMS = `requests, success, failed, prompt_tokens, completion_tokens, total_tokens, cache_read_tokens,
  cache_write_tokens, reasoning_tokens, cost_usd, charge_usd`
const sumsOf = (columns: string) =>
  columns
    .split(',')
    .map((c) => `sum(${c.trim()})`)
    .join(', ')

export async function runLedgerBench(rows: number, cleanups: (() => Promise<unknown>)[]) {
  const tmp = await mkdtemp(join(os.tmpdir(), 'nexusai-ledger-'))
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  const adminToken = `bench-admin-${randomBytes(8).toString('hex')}`
  const wrangler = await wranglerSettings()
  log('bundling ...')
  const bundle = await buildBundle(root, join(tmp, 'gateway'))

  const database = await prepareDatabase({
    name: `nexusai_ledger_${process.pid}`,
    adminUrl: process.env.BENCH_POSTGRES_URL,
  })
  // BENCH_LEDGER_KEEP_DB=1 leaves the seeded database behind (its name is logged) for EXPLAIN work.
  if (process.env.BENCH_LEDGER_KEEP_DB === '1') log(`keeping database nexusai_ledger_${process.pid}`)
  else cleanups.push(() => database.drop())
  if (database.backend.kind !== 'postgres') throw new Error('the ledger bench needs a real Postgres')
  const stack = await startStack({
    databaseUrl: database.backend.url,
    redisUrl: process.env.REDIS_URL || `redis://127.0.0.1:${await freePort()}`,
    upstashToken: `bench-${randomBytes(8).toString('hex')}`,
  })
  cleanups.push(() => stack.close())
  const mock = await startMockProcess(0, (stop) => cleanups.push(stop))
  const db = new pg.Client({ connectionString: database.backend.url })
  await db.connect()
  cleanups.push(() => db.end())

  const gateway = await serve({
    compatibilityDate: wrangler.date,
    compatibilityFlags: wrangler.flags,
    name: 'gateway',
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
    },
  })
  cleanups.push(() => gateway.close())
  const key = await createKey(gateway.url, adminToken, {
    name: 'ledger bench',
    rpm: null,
    tpm: null,
    daily: null,
    monthly: null,
  })
  const loader = startLoadGenerator()
  cleanups.push(() => loader.close())
  const hot = chatRequest(`${gateway.url}/v1/chat/completions`, key.raw, 'gpt-4o-mini', false)
  const hotPath = async () => {
    const out: Record<string, { p50: number; p99: number; rps: number; errors: number }> = {}
    for (const concurrency of [1, 16]) {
      const r = await loader.closed({
        request: hot,
        concurrency,
        warmupMs: 500,
        durationMs: HOT_MS,
        maxRequests: 200_000,
        cpuPids: {},
      })
      out[`c=${concurrency}`] = { p50: r.latency.p50, p99: r.latency.p99, rps: r.rps, errors: r.errors }
    }
    return out
  }
  log('hot path at 0 rows ...')
  const hotBefore = exportOnly ? {} : await hotPath()

  log(`seeding ${rows.toLocaleString('en')} rows ...`)
  const seedStart = performance.now()
  await seed(db, rows)
  const seedSeconds = (performance.now() - seedStart) / 1000
  log(`seeded in ${seedSeconds.toFixed(0)} s`)
  const storage = await storageReport(db)

  // Read targets: the busiest project and key (traffic is skewed towards low key numbers), a mid model.
  const { rows: picks } = await db.query<{ project: string; key: string }>(
    `SELECT project_id AS project, id::text AS key FROM api_keys WHERE name = 'ledger-0'`,
  )
  const { project, key: keyId } = picks[0]!
  const now = Date.now()
  const thisMonth = new Date(now).toISOString().slice(0, 7)
  const lastMonthStart = new Date(
    Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() - 1, 1),
  )
  const lastMonth = lastMonthStart.toISOString().slice(0, 7)
  const from90 = new Date(now - DAYS * DAY_MS).toISOString().slice(0, 10)
  const deep = await deepCursor(db, now - (DAYS - 5) * DAY_MS)
  const deepProject = await deepCursor(db, now - (DAYS - 5) * DAY_MS, project)
  const { rows: someRequest } = await db.query<{ id: string }>(
    `SELECT request_id AS id FROM usage_logs WHERE created_at < now() - interval '40 days' LIMIT 1`,
  )
  const reads: [string, string][] = [
    ...['day', 'model', 'provider', 'api_key', 'project'].map(
      (g) =>
        [`usage report by ${g}, 90 days`, `/admin/usage?group_by=${g}&from=${from90}`] as [string, string],
    ),
    [
      'usage report by model, one project, 90 days',
      `/admin/usage?group_by=model&project_id=${project}&from=${from90}`,
    ],
    ['usage report by day, one key, 90 days', `/admin/usage?group_by=day&api_key_id=${keyId}&from=${from90}`],
    ['usage report CSV by api_key, 90 days', `/admin/usage?group_by=api_key&format=csv&from=${from90}`],
    ['request log, no filter', `/admin/usage/logs`],
    ['request log, api_key_id', `/admin/usage/logs?api_key_id=${keyId}`],
    ['request log, project_id', `/admin/usage/logs?project_id=${project}`],
    ['request log, model', `/admin/usage/logs?model=gemini-2.5-flash`],
    ['request log, provider', `/admin/usage/logs?provider=anthropic-main`],
    ['request log, status=error', `/admin/usage/logs?status=error`],
    ['request log, status=429', `/admin/usage/logs?status=429`],
    [
      'request log, request_id (40 days back)',
      `/admin/usage/logs?request_id=${someRequest[0]!.id}&from=${from90}`,
    ],
    ['request log, deep page (85 days back)', `/admin/usage/logs?from=${from90}&cursor=${deep}`],
    [
      'request log, project, deep page',
      `/admin/usage/logs?project_id=${project}&from=${from90}&cursor=${deepProject}`,
    ],
    ['statement JSON, this month', `/admin/projects/${project}/statement?month=${thisMonth}`],
    ['statement JSON, last month', `/admin/projects/${project}/statement?month=${lastMonth}`],
    ['statement CSV, last month', `/admin/projects/${project}/statement?month=${lastMonth}&format=csv`],
    ['keys with spend (first page)', `/admin/api-keys`],
    ['projects with spend', `/admin/projects`],
  ]
  const timed: Timed[] = []
  for (const [name, path] of exportOnly ? [] : reads) {
    log(`timing ${name} ...`)
    timed.push({ name, ms: await timeRead(gateway.url, adminToken, path) })
  }

  log('export of last month ...')
  const monthRows = await countRows(db, lastMonthStart, new Date(now - 0))
  const exportResult = await timeExport(
    gateway.url,
    adminToken,
    `/admin/usage/logs/export?format=${EXPORT_FORMAT}&from=${lastMonth}-01&to=${thisMonth}-01`,
    gateway.pid,
  )
  if (exportOnly) {
    console.log(JSON.stringify({ ...exportResult, monthRows }))
    console.log(gateway.log())
    return
  }
  const lastPage = await timeRead(
    gateway.url,
    adminToken,
    `/admin/usage/logs/export?format=csv&from=${new Date(Date.parse(`${thisMonth}-01T00:00:00Z`) - 60_000).toISOString()}&to=${thisMonth}-01`,
  )
  timed.push({ name: 'export, the last minute of last month (its last page)', ms: lastPage })

  log('hot path at N rows ...')
  const hotAfter = await hotPath()
  const landing = await usageLanding(db, hot, 20)

  log('dropping the oldest month ...')
  const retention = await dropOldestMonth(db)

  const report = renderReport({
    rows,
    seedSeconds,
    storage,
    timed,
    exportResult: { ...exportResult, monthRows },
    hotBefore,
    hotAfter,
    landing,
    retention,
  })
  await mkdir(join(root, 'bench', 'results'), { recursive: true })
  const file = join(root, 'bench', 'results', `ledger-${rows}-${new Date().toISOString().slice(0, 16)}.md`)
  await writeFile(file, report)
  console.log(report)
  log(`written to ${file}`)
}

// ---- seeding ---------------------------------------------------------------------------------------------

async function seed(db: pg.Client, rows: number) {
  const now = Date.now()
  const first = new Date(now - DAYS * DAY_MS)
  // Partitions for the 90 days (the migration made the current month and two ahead).
  for (let m = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)); m.getTime() < now;) {
    const next = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))
    const name = `usage_logs_${m.toISOString().slice(0, 7).replace('-', '_')}`
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF usage_logs FOR VALUES FROM ('${m.toISOString()}') TO ('${next.toISOString()}')`,
    )
    m = next
  }
  await db.query(`
    INSERT INTO projects (id, name) SELECT 'proj-' || p, 'Project ' || p FROM generate_series(0, ${PROJECTS - 1}) p
    ON CONFLICT DO NOTHING;
    INSERT INTO api_keys (key_hash, key_prefix, name, project_id, allowed_models)
    SELECT md5('ledger-' || k), 'lgw_ledger', 'ledger-' || k, 'proj-' || (k % ${PROJECTS}), '{*}'
    FROM generate_series(0, ${KEYS - 1}) k;
    CREATE TEMP TABLE bench_keys AS
      SELECT (substring(name from 8))::int AS idx, id, project_id FROM api_keys WHERE name LIKE 'ledger-%';
    CREATE TEMP TABLE bench_models (idx int, model text, provider text, input numeric, output numeric);
    INSERT INTO bench_models VALUES ${MODELS.map((m, i) => `(${i}, '${m[0]}', '${m[1]}', ${m[2]}, ${m[3]})`).join(', ')};`)
  for (let lo = 0; lo < rows; lo += CHUNK) {
    const hi = Math.min(rows, lo + CHUNK)
    // Key: skewed (r1²); model: the key's usual one 80% of the time; status: 95% 200, 3% 429, 2% 502.
    await db.query(
      `WITH s AS (
         SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
         FROM generate_series($1::bigint, $2::bigint - 1) g
       ), t AS (
         SELECT s.*, k.id AS key_id, k.project_id, m.model, m.provider, m.input, m.output,
           (CASE WHEN s.r3 < 0.95 THEN 200 WHEN s.r3 < 0.98 THEN 429 ELSE 502 END) AS status,
           date_trunc('milliseconds', $3::timestamptz - s.r4 * interval '${DAYS} days') AS at,
           (200 + floor(s.r5 * 3000))::int AS prompt, (20 + floor(s.r2 * 800))::int AS completion
         FROM s
         JOIN bench_keys k ON k.idx = floor(s.r1 * s.r1 * ${KEYS})::int
         JOIN bench_models m ON m.idx = (k.idx + CASE WHEN s.r2 < 0.8 THEN 0 ELSE 1 + floor(s.r5 * 3)::int END) % 5
       )
       INSERT INTO usage_logs (event_id, request_id, api_key_id, project_id, route, model, provider, upstream_model,
         status, error_code, prompt_tokens, completion_tokens, total_tokens, cache_read_tokens, reasoning_tokens,
         usage_source, cost_usd, charge_usd, price_model, price_effective_from, latency_ms, ttfb_ms, stream,
         attempts, created_at)
       SELECT gen_random_uuid(), 'req_' || substr(md5(g::text), 1, 24), key_id, project_id,
         CASE WHEN model LIKE 'text-%' THEN 'embeddings' ELSE 'chat' END, model,
         CASE WHEN status = 429 THEN NULL ELSE provider END, model, status,
         CASE status WHEN 200 THEN NULL WHEN 429 THEN 'rate_limit_exceeded' ELSE 'upstream_error' END,
         ok * prompt, ok * completion, ok * (prompt + completion), ok * (prompt / 4), 0, 'upstream',
         ok * (prompt * input + completion * output) / 1000000, ok * (prompt * input + completion * output) / 1000000,
         CASE WHEN ok = 1 THEN model END,
         CASE WHEN ok = 0 THEN NULL WHEN model = 'gpt-4o-mini' AND at > $3::timestamptz - interval '45 days'
           THEN $3::timestamptz - interval '45 days' ELSE '2024-07-18T00:00:00Z' END,
         (300 + floor(r4 * 4000))::int, (100 + floor(r5 * 600))::int, r2 < 0.6, 1, at
       FROM (SELECT t.*, (status = 200)::int AS ok FROM t) x`,
      [lo, hi, new Date(now).toISOString()],
    )
    log(`  ${hi.toLocaleString('en')} rows`)
  }
  await db.query(`
    INSERT INTO usage_daily AS d (day, project_id, api_key_id, model, provider, price_version, requests, success,
      failed, prompt_tokens, completion_tokens, total_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
      cost_usd, charge_usd)
    SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, api_key_id, model, coalesce(provider, ''),
      coalesce(price_model || '@' || to_char(price_effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
      count(*), count(*) FILTER (WHERE status < 400), count(*) FILTER (WHERE status >= 400), sum(prompt_tokens),
      sum(completion_tokens), sum(total_tokens), sum(cache_read_tokens),
      sum(cache_write_5m_tokens + cache_write_1h_tokens), sum(reasoning_tokens), sum(cost_usd), sum(charge_usd)
    FROM usage_logs WHERE api_key_id IN (SELECT id FROM bench_keys) GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (day, project_id, api_key_id, model, provider, price_version) DO NOTHING;
    INSERT INTO usage_project_daily (day, project_id, model, provider, price_version, ${ROLLUP_SUMS})
    SELECT day, project_id, model, provider, price_version, ${sumsOf(ROLLUP_SUMS)}
    FROM usage_daily WHERE api_key_id IN (SELECT id FROM bench_keys) GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO usage_key_daily (day, project_id, api_key_id, ${ROLLUP_SUMS})
    SELECT day, project_id, api_key_id, ${sumsOf(ROLLUP_SUMS)}
    FROM usage_daily WHERE api_key_id IN (SELECT id FROM bench_keys) GROUP BY 1, 2, 3;`)
  // As autovacuum would get to eventually; measuring while it works on the fresh rows would time it.
  await db.query('VACUUM ANALYZE usage_logs')
  for (const table of ['usage_daily', 'usage_project_daily', 'usage_key_daily'])
    await db.query(`VACUUM ANALYZE ${table}`)
}

// ---- measuring -------------------------------------------------------------------------------------------

async function timeRead(base: string, token: string, path: string): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i <= READS; i++) {
    const started = performance.now()
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`)
    if (i > 0) out.push(performance.now() - started)
  }
  return out
}

async function deepCursor(db: pg.Client, at: number, project?: string): Promise<string> {
  const { rows } = await db.query<{ at: string; id: string }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, id::text
     FROM usage_logs WHERE created_at <= $1 ${project ? 'AND project_id = $2' : ''}
     ORDER BY created_at DESC, id DESC LIMIT 1`,
    project ? [new Date(at).toISOString(), project] : [new Date(at).toISOString()],
  )
  return Buffer.from(`${rows[0]!.at}|${rows[0]!.id}`).toString('base64url')
}

async function countRows(db: pg.Client, from: Date, to: Date) {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM usage_logs WHERE created_at >= $1 AND created_at < date_trunc('month', $2::timestamptz)`,
    [from.toISOString(), to.toISOString()],
  )
  return Number(rows[0]!.n)
}

const rssKb = async (pid: number, field: 'VmRSS' | 'VmHWM') => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : NaN
}

async function timeExport(base: string, token: string, path: string, pid: number) {
  const rssBefore = await rssKb(pid, 'VmRSS')
  let rssPeak = rssBefore
  const started = performance.now()
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
  if (res.status !== 200 || !res.body) throw new Error(`export: HTTP ${res.status}`)
  let firstByteMs = NaN
  let bytes = 0
  let lines = 0
  let sampled = performance.now()
  for await (const chunk of res.body) {
    if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started
    bytes += chunk.length
    for (const b of chunk) if (b === 10) lines++
    if (performance.now() - sampled > 200) {
      rssPeak = Math.max(rssPeak, await rssKb(pid, 'VmRSS'))
      sampled = performance.now()
    }
  }
  const totalMs = performance.now() - started
  rssPeak = Math.max(rssPeak, await rssKb(pid, 'VmRSS'))
  return {
    firstByteMs,
    totalMs,
    bytes,
    rows: EXPORT_FORMAT === 'csv' ? lines - 1 : lines,
    rssGrowthMb: (rssPeak - rssBefore) / 1024,
  }
}

// How long after the response a request's usage row is visible in Postgres.
async function usageLanding(db: pg.Client, req: ReturnType<typeof chatRequest>, n: number) {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body })
    await res.arrayBuffer()
    const done = performance.now()
    const id = res.headers.get('x-request-id')
    for (;;) {
      const { rowCount } = await db.query(
        `SELECT 1 FROM usage_logs WHERE request_id = $1 AND created_at > now() - interval '1 minute'`,
        [id],
      )
      if (rowCount) break
      if (performance.now() - done > 10_000) throw new Error('usage row did not land within 10 s')
      await sleep(5)
    }
    out.push(performance.now() - done)
  }
  return summarize(out)
}

async function storageReport(db: pg.Client) {
  const { rows: parts } = await db.query<{ heap: string; total: string; n: string }>(`
    SELECT sum(pg_relation_size(c.oid))::text AS heap, sum(pg_total_relation_size(c.oid))::text AS total,
      (SELECT count(*) FROM usage_logs)::text AS n
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_logs'::regclass`)
  const { rows: indexes } = await db.query<{ name: string; bytes: string }>(`
    SELECT p.relname AS name, sum(pg_relation_size(c.oid))::text AS bytes
    FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class c ON c.oid = i.inhrelid
    WHERE p.relkind = 'I' AND p.relname LIKE 'usage_logs%' GROUP BY 1 ORDER BY 1`)
  const { rows: rollup } = await db.query<{ bytes: string; n: string }>(
    `SELECT pg_total_relation_size('usage_daily')::text AS bytes, (SELECT count(*) FROM usage_daily)::text AS n`,
  )
  return {
    rows: Number(parts[0]!.n),
    heap: Number(parts[0]!.heap),
    total: Number(parts[0]!.total),
    indexes: indexes.map((i) => ({ name: i.name, bytes: Number(i.bytes) })),
    rollupBytes: Number(rollup[0]!.bytes),
    rollupRows: Number(rollup[0]!.n),
  }
}

// The cron's retention step (src/db/usage-partitions.ts dropUsageBefore) on the oldest month.
async function dropOldestMonth(db: pg.Client) {
  const { rows } = await db.query<{ name: string; n: string }>(`
    SELECT c.relname AS name, (SELECT reltuples::bigint FROM pg_class WHERE oid = c.oid)::text AS n
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'usage_logs'::regclass AND c.relname ~ '^usage_logs_\\d{4}_\\d{2}$' ORDER BY 1 LIMIT 1`)
  const oldest = rows[0]!
  const cutoff = new Date(Date.UTC(Number(oldest.name.slice(11, 15)), Number(oldest.name.slice(16, 18)), 1))
  const sizeBefore = await dbSize(db)
  const started = performance.now()
  await db.query('BEGIN')
  await db.query(`SET LOCAL lock_timeout = '2s'`)
  await db.query(`DROP TABLE IF EXISTS ${oldest.name}`)
  await db.query(`DELETE FROM usage_logs_default WHERE created_at < $1`, [cutoff.toISOString()])
  await db.query(`DELETE FROM usage_daily WHERE day < ($1::timestamptz AT TIME ZONE 'UTC')::date`, [
    cutoff.toISOString(),
  ])
  await db.query('COMMIT')
  const ms = performance.now() - started
  return {
    month: oldest.name,
    rows: Number(oldest.n),
    ms,
    freedMb: (sizeBefore - (await dbSize(db))) / 2 ** 20,
  }
}

async function dbSize(db: pg.Client) {
  const { rows } = await db.query<{ n: string }>(`SELECT pg_database_size(current_database())::text AS n`)
  return Number(rows[0]!.n)
}

// ---- the report ------------------------------------------------------------------------------------------

function renderReport(r: {
  rows: number
  seedSeconds: number
  storage: Awaited<ReturnType<typeof storageReport>>
  timed: Timed[]
  exportResult: Awaited<ReturnType<typeof timeExport>> & { monthRows: number }
  hotBefore: Record<string, { p50: number; p99: number; rps: number; errors: number }>
  hotAfter: Record<string, { p50: number; p99: number; rps: number; errors: number }>
  landing: ReturnType<typeof summarize>
  retention: Awaited<ReturnType<typeof dropOldestMonth>>
}) {
  const mib = (b: number) => b / 2 ** 20
  const perM = (b: number) => fmt(mib(b) / (r.storage.rows / 1e6), 1)
  const e = r.exportResult
  return [
    `## Ledger scenario: ${r.rows.toLocaleString('en')} rows (${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} CPUs)`,
    '',
    `Seeded in ${r.seedSeconds.toFixed(0)} s. Admin reads through the Worker (workerd, local Neon endpoint), ${READS} timed runs after a warm-up.`,
    '',
    markdownTable(
      ['admin read', 'median ms', 'max ms'],
      r.timed.map((t) => [t.name, fmt(summarize(t.ms).p50, 1), fmt(summarize(t.ms).max, 1)]),
    ),
    '',
    markdownTable(
      [`export of last month (${EXPORT_FORMAT})`, 'value'],
      [
        ['rows in the month', e.monthRows.toLocaleString('en')],
        ['rows exported', e.rows.toLocaleString('en')],
        ['first byte', `${fmt(e.firstByteMs, 1)} ms`],
        ['total', `${fmt(e.totalMs / 1000, 2)} s`],
        ['rows/s', Math.round(e.rows / (e.totalMs / 1000)).toLocaleString('en')],
        ['MB', fmt(e.bytes / 1e6, 1)],
        ['workerd RSS growth (peak)', `${fmt(e.rssGrowthMb, 1)} MB`],
      ],
    ),
    '',
    markdownTable(
      [
        'hot path (chat, mock upstream)',
        'p50 ms at 0',
        'p99 ms at 0',
        'req/s at 0',
        'p50 ms at N',
        'p99 ms at N',
        'req/s at N',
      ],
      Object.keys(r.hotBefore).map((c) => [
        c,
        fmt(r.hotBefore[c]!.p50),
        fmt(r.hotBefore[c]!.p99),
        fmt(r.hotBefore[c]!.rps, 0),
        fmt(r.hotAfter[c]!.p50),
        fmt(r.hotAfter[c]!.p99),
        fmt(r.hotAfter[c]!.rps, 0),
      ]),
    ),
    '',
    `Usage row visible after the response: p50 ${fmt(r.landing.p50, 0)} ms, max ${fmt(r.landing.max, 0)} ms (${r.landing.n} requests).`,
    '',
    markdownTable(
      ['storage', 'MiB', 'MiB per million rows'],
      [
        ['usage_logs heap', fmt(mib(r.storage.heap), 1), perM(r.storage.heap)],
        ...r.storage.indexes.map((i) => [i.name, fmt(mib(i.bytes), 1), perM(i.bytes)]),
        ['usage_logs total', fmt(mib(r.storage.total), 1), perM(r.storage.total)],
        [
          `usage_daily (${r.storage.rollupRows.toLocaleString('en')} rows)`,
          fmt(mib(r.storage.rollupBytes), 1),
          '—',
        ],
      ],
    ),
    '',
    `Retention: dropping ${r.retention.month} (~${r.retention.rows.toLocaleString('en')} rows) took ${fmt(r.retention.ms, 0)} ms and freed ${fmt(r.retention.freedMb, 0)} MiB at once (no VACUUM).`,
    '',
  ].join('\n')
}
