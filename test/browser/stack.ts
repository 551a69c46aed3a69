// Starts the real local stack for the browser test the way a user does (`npm run dev`, i.e.
// scripts/dev.ts) on a free port with a random admin token and a fresh Postgres database, and stops it
// again (SIGTERM to its process group, then the database is dropped).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import pg from 'pg'

export const root = join(import.meta.dirname, '..', '..')

const ADMIN_PG_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const READY_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 20_000

export type DevStack = {
  url: string
  adminToken: string
  /** Everything dev.ts printed so far (stdout and stderr interleaved), for failure messages. */
  output(): string
  stop(): Promise<void>
}

export async function startDevStack(): Promise<DevStack> {
  const port = await freePort()
  const adminToken = `ui-admin-${randomBytes(12).toString('hex')}`
  const database = await freshDatabase()

  // Only what a user would set; the upstream keys are removed so the seeded providers use the bundled
  // mock (this test must not send traffic anywhere but 127.0.0.1).
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    ADMIN_TOKEN: adminToken,
  }
  for (const name of Object.keys(env))
    if (name === 'OPENAI_API_KEY' || name.startsWith('PROVIDER_')) delete env[name]
  delete env.DATABASE_URL
  if (database) env.DATABASE_URL = database.url
  env.FORCE_COLOR = '0'
  env.NO_COLOR = '1'

  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'scripts/dev.ts'],
    // Its own process group, so stop() can signal dev.ts (and anything it left in that group) at once.
    { cwd: root, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  )
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const m = /nexusai is ready on (http:\/\/\S+)/.exec(output)
      if (m) resolve(m[1]!)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('error', (e) => reject(new Error(`could not start scripts/dev.ts: ${e.message}`)))
    child.once('exit', (code, signal) =>
      reject(new Error(`scripts/dev.ts exited before it was ready (${signal ?? `code ${code}`})`)),
    )
  })

  ready.catch(() => {}) // an exit after the timeout below must not be an unhandled rejection

  const stop = async () => {
    await stopProcessGroup(child, exited)
    await database?.drop()
  }

  let timer: NodeJS.Timeout | undefined
  try {
    const url = await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`scripts/dev.ts did not print "is ready on" within ${READY_TIMEOUT_MS / 1000} s`),
            ),
          READY_TIMEOUT_MS,
        )
      }),
    ])
    if (url !== `http://127.0.0.1:${port}`)
      throw new Error(`dev.ts is ready on ${url}, expected port ${port}`)
    // .dev.vars may point the providers elsewhere; refuse to go on unless the bundled mock is in use.
    const upstream = /^\s*upstream\s+(.*)$/m.exec(output)?.[1] ?? ''
    if (!upstream.startsWith('bundled mock'))
      throw new Error(`the stack's upstream is "${upstream}", not the bundled mock (check .dev.vars)`)
    return { url, adminToken, output: () => output, stop }
  } catch (e) {
    await stop().catch(() => {})
    throw new Error(`${(e as Error).message}\n--- scripts/dev.ts output ---\n${output}`)
  } finally {
    clearTimeout(timer)
  }
}

async function stopProcessGroup(child: ChildProcess, exited: Promise<void>) {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s)
    } catch {
      // ESRCH: already gone
    }
  }
  signal('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_TIMEOUT_MS))),
  ])
  clearTimeout(timer)
  if (timedOut) {
    signal('SIGKILL')
    await exited
    throw new Error(`scripts/dev.ts did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM`)
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

// A fresh database on the machine's Postgres; null (→ dev.ts uses PGlite in .data/pglite) if none answers.
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> } | null> {
  if (!(await canConnect(ADMIN_PG_URL))) {
    assertPgliteFree()
    return null
  }
  const name = `nexusai_ui_${randomBytes(4).toString('hex')}`
  await adminQuery(`CREATE DATABASE "${name}"`)
  const url = new URL(ADMIN_PG_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) }
}

// dev.ts has no setting for where PGlite keeps its data: without Postgres this test shares .data/pglite
// with the developer's own `npm run dev`, which must not be running at the same time.
function assertPgliteFree() {
  const lock = join(root, '.data', 'pglite.lock')
  if (!existsSync(lock)) return
  const pid = Number(readFileSync(lock, 'utf8'))
  let alive = false
  try {
    process.kill(pid, 0)
    alive = true
  } catch (e) {
    alive = (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  if (alive)
    throw new Error(
      `No Postgres answers at ${ADMIN_PG_URL} and .data/pglite is in use by another npm run dev (pid ${pid}): ` +
        'start Postgres (or set TEST_POSTGRES_URL), or stop the other dev server',
    )
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: ADMIN_PG_URL, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query(sql)
  } finally {
    await client.end().catch(() => {})
  }
}
