// `npm run dev`: the whole local stack in one process tree (see docs/development.md). Postgres (or PGlite)
// and Redis behind local Neon/Upstash-compatible endpoints, the mock upstream, then the Worker under
// `wrangler dev`. Ctrl-C stops all of it.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { message } from './local/util.ts'

const root = join(import.meta.dirname, '..')
const env = process.env
const port = parsePort(env.PORT)
// Worker variables (docs/configuration.md) forwarded from the environment to the Worker.
const FORWARDED =
  /^(ADMIN_TOKEN|METRICS_TOKEN|KEY_MAC_SECRET|MAX_BODY_BYTES|REDIS_FAIL_OPEN|CLOCK_OFFSET_MS|USAGE_RETENTION_MONTHS|OTEL_EXPORTER_OTLP_ENDPOINT|OTEL_EXPORTER_OTLP_HEADERS|OTEL_CAPTURE_CONTENT|OTEL_SERVICE_NAME|OPENAI_API_KEY|ANTHROPIC_API_KEY|GEMINI_API_KEY|SECRETS_KEY|SECRETS_KEY_PREVIOUS|PROVIDER_[A-Za-z0-9_-]+)$/

type Stack = Awaited<ReturnType<typeof import('./local/stack.ts').startStack>>
let stack: Stack | undefined
let redis: { url: string; stop(): Promise<void> } | undefined
let wrangler: ChildProcess | undefined
let stopping = false
let ready = false

async function main() {
  await assertPortFree(port)
  const databaseUrl = env.DATABASE_URL || undefined
  const pgliteDir = resolve(env.PGLITE_DIR || join(root, '.data', 'pglite'))
  if (databaseUrl) await assertPostgres(databaseUrl)
  else lockPglite(pgliteDir)
  const { ensureRedis } = await import('./local/redis.ts')
  const { startStack } = await import('./local/stack.ts')
  // Resolved here rather than inside startStack so the banner can name the Redis actually in use.
  redis = await ensureRedis(env.REDIS_URL || undefined)
  console.log('Starting the local stack (database, Redis, mock upstream, migrations + seeds)...')
  stack = await startStack({ databaseUrl, pgliteDir, redisUrl: redis.url })
  if (stopping) return

  const { vars, upstream } = workerVars(stack)
  wrangler = startWrangler(vars)
  const url = `http://127.0.0.1:${port}`
  await waitUntilHealthy(url)
  startCron(url)
  // Lets wrangler's log line for the last poll arrive (and be dropped) before the banner.
  await new Promise((r) => setTimeout(r, 300))
  if (stopping) return
  printBanner({
    url,
    adminToken: vars.ADMIN_TOKEN!,
    databaseUrl,
    pgliteDir,
    upstream,
    redisUrl: redis.url,
    privateRedis: redis.url !== (env.REDIS_URL || 'redis://127.0.0.1:6379'),
  })
}

// The Worker's variables, lowest precedence first: .dev.vars, then the environment, then what only the
// local stack knows (how to reach its stores). .dev.vars is read here because wrangler, with [secrets]
// declared in wrangler.toml, drops its entries that are neither declared secrets nor [vars].
function workerVars(s: Stack): { vars: Record<string, string>; upstream: string } {
  const given: Record<string, string> = readDevVars()
  for (const [name, value] of Object.entries(env)) if (FORWARDED.test(name) && value) given[name] = value
  given.SECRETS_KEY ||= createDevSecretsKey()
  const vars: Record<string, string> = {
    ...given,
    ADMIN_TOKEN: given.ADMIN_TOKEN || 'dev-admin-token',
    // A local deployment: providers may point at the bundled mock or anything else on this machine.
    ALLOW_PRIVATE_UPSTREAMS: 'true',
    ...s.vars,
  }

  if (given.OPENAI_API_KEY) {
    vars.PROVIDER_OPENAI_MAIN_API_KEY ||= given.OPENAI_API_KEY
    vars.PROVIDER_OPENAI_BACKUP_API_KEY ||= given.OPENAI_API_KEY
  }
  const mockBase = `${s.mock.url}/v1`
  if (!given.OPENAI_API_KEY && !given.PROVIDER_OPENAI_MAIN_API_KEY) {
    vars.PROVIDER_OPENAI_MAIN_BASE_URL ||= mockBase
    vars.PROVIDER_OPENAI_BACKUP_BASE_URL ||= mockBase
    console.log(`No OPENAI_API_KEY set: the seeded providers use the bundled mock upstream (${mockBase}).`)
  }
  // The seeded Anthropic provider: the mock (with a placeholder key, which the mock requires) unless a
  // key is given.
  if (given.ANTHROPIC_API_KEY) vars.PROVIDER_ANTHROPIC_API_KEY ||= given.ANTHROPIC_API_KEY
  if (!vars.PROVIDER_ANTHROPIC_API_KEY) {
    vars.PROVIDER_ANTHROPIC_BASE_URL ||= mockBase
    vars.PROVIDER_ANTHROPIC_API_KEY = 'sk-ant-mock'
    console.log(
      `No ANTHROPIC_API_KEY set: the seeded anthropic provider uses the bundled mock (${mockBase}).`,
    )
  }
  if (given.GEMINI_API_KEY) vars.PROVIDER_GEMINI_API_KEY ||= given.GEMINI_API_KEY
  if (!vars.PROVIDER_GEMINI_API_KEY) {
    vars.PROVIDER_GEMINI_BASE_URL ||= `${s.mock.url}/v1beta`
    vars.PROVIDER_GEMINI_API_KEY = 'mock-gemini-key'
    console.log(
      `No GEMINI_API_KEY set: the seeded gemini provider uses the bundled mock (${s.mock.url}/v1beta).`,
    )
  }
  const main = vars.PROVIDER_OPENAI_MAIN_BASE_URL
  const upstream = !main
    ? 'OpenAI (https://api.openai.com/v1)'
    : main === mockBase
      ? `bundled mock (${mockBase})`
      : `${main} (PROVIDER_OPENAI_MAIN_BASE_URL)`
  return { vars, upstream }
}

// Provider keys stored through the admin API are sealed under SECRETS_KEY. A development one is kept in
// .dev.vars, so keys stored in the local database stay readable across restarts.
function createDevSecretsKey(): string {
  const key = randomBytes(32).toString('base64')
  const file = join(root, '.dev.vars')
  const before = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const separator = before && !before.endsWith('\n') ? '\n' : ''
  writeFileSync(
    file,
    `${before}${separator}# Seals provider keys stored through the admin API (created by npm run dev)\nSECRETS_KEY=${key}\n`,
  )
  console.log(
    'No SECRETS_KEY set: created a development one in .dev.vars (it seals provider keys stored through the admin API).',
  )
  return key
}

function readDevVars(): Record<string, string> {
  const file = join(root, '.dev.vars')
  if (!existsSync(file)) return {}
  return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
}

function startWrangler(vars: Record<string, string>): ChildProcess {
  // --var bindings win over both [vars] and .dev.vars (wrangler merges them last). The same values also go
  // in wrangler's environment: without a .dev.vars it reads declared secrets from there, which keeps it
  // from warning that they are missing.
  const args = [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--local',
    '--show-interactive-dev-session=false',
    // Lets startCron (below) run the scheduled handler, which wrangler dev never runs on its own.
    '--test-scheduled',
  ]
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`)
  const child = spawn(join(root, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: root,
    env: {
      ...env,
      ...vars,
      WRANGLER_HIDE_BANNER: 'true',
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      FORCE_COLOR: env.FORCE_COLOR ?? '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so shutdown can signal wrangler and workerd together.
    detached: true,
  })
  relay(child.stdout!, process.stdout)
  relay(child.stderr!, process.stderr)
  child.once('error', (e) => void shutdown(1, `could not start wrangler (${e.message}); run \`npm install\``))
  child.once('exit', (code, signal) => {
    if (!stopping)
      void shutdown(1, `wrangler exited on its own (${signal ?? `code ${code}`}); stopping the stack`)
  })
  return child
}

// Wrangler's output stays visible (Worker errors and logs show up there), minus its startup chatter (the
// bindings table repeats what the banner says) and the health polls made while waiting for it.
const NOISE = [
  /^$/,
  /^Using secrets defined in/,
  /Missing required secrets: /, // all four always arrive through --var, which this check does not count
  /^Your Worker has access to the following bindings/,
  /^Binding\s+Resource\s+Mode$/,
  /^env\.\S+/,
  /^⎔ Starting local server/,
  /^\[wrangler:info\] Ready on /,
  /^\[wrangler:info\] GET \/cdn-cgi\/local\/scheduled/, // startCron, every minute
]
const ANSI = /\x1b\[[0-9;]*m/g

function relay(from: NodeJS.ReadableStream, to: NodeJS.WriteStream) {
  let pending = ''
  from.setEncoding('utf8')
  from.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      const plain = line.replace(ANSI, '').trim()
      if (NOISE.some((re) => re.test(plain))) continue
      if (!ready && /^\[wrangler:info\] GET \/healthz/.test(plain)) continue
      const shown = to.isTTY ? line : line.replace(ANSI, '')
      to.write(plain.startsWith('[wrangler:') ? `${shown}\n` : `[wrangler] ${shown}\n`)
    }
  })
}

// Production runs the scheduled handler every minute (wrangler.toml [triggers]: drain the usage spool,
// reconcile spend counters); wrangler dev does not, so it is triggered here on the same schedule, once
// right away and then at the start of every minute.
function startCron(url: string) {
  const trigger = async () => {
    try {
      const res = await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`, {
        signal: AbortSignal.timeout(50_000),
      })
      if (!res.ok && !stopping) console.error(`cron: the scheduled handler answered HTTP ${res.status}`)
    } catch (e) {
      if (!stopping) console.error(`cron: could not run the scheduled handler (${message(e)})`)
    }
  }
  const next = () => setTimeout(() => (void trigger(), next()), 60_000 - (Date.now() % 60_000)).unref()
  void trigger()
  next()
}

async function waitUntilHealthy(url: string) {
  const started = Date.now()
  let last = 'no answer yet'
  let warned = false
  while (!stopping) {
    try {
      const res = await fetch(`${url}/healthz?deep=1`, { signal: AbortSignal.timeout(5000) })
      const body = (await res.json().catch(() => null)) as {
        postgres?: { ok?: boolean }
        redis?: { ok?: boolean }
      } | null
      if (res.ok && body?.postgres?.ok && body.redis?.ok) return
      last = `HTTP ${res.status} ${JSON.stringify(body)}`
    } catch (e) {
      last = message(e)
    }
    // Keep waiting rather than give up: wrangler reloads on save, so a broken build can still come good.
    if (!warned && Date.now() - started > 60_000) {
      warned = true
      console.error(
        `Still waiting for ${url}/healthz?deep=1 to report ok (last: ${last}); see wrangler's output above.`,
      )
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

function printBanner(o: {
  url: string
  adminToken: string
  databaseUrl?: string
  pgliteDir: string
  upstream: string
  redisUrl: string
  privateRedis: boolean
}) {
  const database = o.databaseUrl ? `Postgres ${withoutPassword(o.databaseUrl)}` : `PGlite in ${o.pgliteDir}`
  const createKey = {
    name: 'dev',
    project_id: 'default',
    allowed_models: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'],
    rpm_limit: 60,
    tpm_limit: 100000,
    daily_budget: 5,
    monthly_budget: 50,
    status: 'active',
  }
  console.log(
    [
      '',
      `nexusai is ready on ${o.url}`,
      `  admin page   ${o.url}/admin/ui`,
      `  admin token  ${o.adminToken}`,
      `  database     ${database}`,
      `  redis        ${withoutPassword(o.redisUrl)}${o.privateRedis ? ' (private redis-server, stopped on exit)' : ''}`,
      `  upstream     ${o.upstream}`,
      '',
      'Create an API key (the response has raw_key, shown once):',
      `  curl -s ${o.url}/admin/api-keys -H 'authorization: Bearer ${o.adminToken}' -H 'content-type: application/json' -d '${JSON.stringify(createKey)}'`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  )
  ready = true
}

// Idempotent; a second Ctrl-C while stopping kills wrangler outright and leaves at once (one arriving
// within a second is taken as the same Ctrl-C delivered twice, e.g. by the terminal and by npm).
let stoppingSince = 0
async function shutdown(code: number, reason?: string) {
  if (stopping) {
    if (Date.now() - stoppingSince < 1000) return
    killGroup('SIGKILL')
    process.exit(code || 130)
  }
  stopping = true
  stoppingSince = Date.now()
  console.error(reason ?? 'Stopping nexusai...')
  await stopWrangler()
  await stack?.close().catch(() => {})
  await redis?.stop().catch(() => {})
  process.exit(code)
}

async function stopWrangler() {
  const child = wrangler
  if (!child?.pid) return
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r))
    killGroup('SIGTERM')
    const timer = setTimeout(() => killGroup('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
  // workerd can outlive wrangler for a moment; the group is still addressable while any member lives.
  killGroup('SIGKILL')
}

function killGroup(signal: NodeJS.Signals) {
  if (!wrangler?.pid) return
  try {
    process.kill(-wrangler.pid, signal)
  } catch {
    // ESRCH: the group is already gone.
  }
}

function parsePort(value: string | undefined): number {
  if (!value) return 8787
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    fail(`PORT must be a port number between 1 and 65535 (got "${value}")`)
  return n
}

// Checked before anything starts, so a second `npm run dev` fails at once instead of half-way.
function assertPortFree(p: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `Port ${p} is in use; set PORT=… or stop the other process`
            : `Cannot listen on 127.0.0.1:${p} (${e.code ?? e.message}); set PORT=…`,
        ),
      ),
    )
    srv.listen(p, '127.0.0.1', () => srv.close(() => resolve()))
  })
}

async function assertPostgres(url: string) {
  let shown: string
  try {
    shown = withoutPassword(url)
  } catch {
    throw new Error('DATABASE_URL is not a URL; use postgres://user:password@host:5432/database')
  }
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
  } catch (e) {
    const err = e as { code?: string; message?: string; errors?: { code?: string }[] }
    const reason = err.message || err.code || err.errors?.[0]?.code || 'unknown error'
    const hint =
      err.code === '3D000'
        ? `create it: ${createDbCommand(new URL(url))}`
        : 'start Postgres, fix DATABASE_URL, or unset it to use the embedded PGlite'
    throw new Error(`Cannot reach Postgres at ${shown} (${reason.split('\n')[0]}): ${hint}`)
  } finally {
    await client.end().catch(() => {})
  }
}

// PGlite takes no lock on its data directory, and two processes writing it corrupt it.
function lockPglite(dir: string) {
  const lock = `${dir}.lock`
  mkdirSync(dirname(dir), { recursive: true })
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' })
  } catch {
    const holder = Number(readFileSync(lock, 'utf8'))
    if (isAlive(holder)) {
      throw new Error(
        `Another npm run dev (pid ${holder}) is using the embedded database in ${dir}; stop it, or set DATABASE_URL=postgres://… for this one`,
      )
    }
    writeFileSync(lock, String(process.pid)) // left behind by a run that was killed
  }
  process.on('exit', () => rmSync(lock, { force: true }))
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function createDbCommand(u: URL): string {
  const user = decodeURIComponent(u.username) || 'postgres'
  return `psql -h ${u.hostname} -p ${u.port || 5432} -U ${user} -d postgres -c 'create database ${decodeURIComponent(u.pathname.slice(1))}'`
}

function withoutPassword(url: string): string {
  const u = new URL(url)
  u.password = ''
  return u.toString().replace(/\/$/, '')
}

function fail(msg: string): never {
  console.error(msg)
  process.exit(1)
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0))
// If whoever started us goes away without signalling us (e.g. npm killed with SIGTERM), we are reparented.
const parent = process.ppid
setInterval(() => !stopping && process.ppid !== parent && void shutdown(1), 1000).unref()
// Last resort if this process dies some other way: wrangler lives in its own group and would survive us.
process.on('exit', () => killGroup('SIGKILL'))

try {
  await main()
} catch (e) {
  await shutdown(1, message(e))
}
