// Starts the real local stack for the browser test the way a user does (`npm run dev`, i.e.
// scripts/dev.ts) on a free port with a random admin token and a fresh Postgres database, and stops it
// again (SIGTERM to its process group, then the database is dropped).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { freePort } from '../../scripts/local/ports.ts'
import { prepareDatabase } from '../../scripts/local/postgres.ts'

export const root = join(import.meta.dirname, '..', '..')

const READY_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 20_000

export type DevStack = {
  url: string
  adminToken: string
  /** Everything dev.ts printed so far (stdout and stderr interleaved), for failure messages. */
  output(): string
  stop(): Promise<void>
}

export async function startDevStack(opts: { adminToken?: string } = {}): Promise<DevStack> {
  const port = await freePort()
  const adminToken = opts.adminToken ?? `ui-admin-${randomBytes(12).toString('hex')}`
  // A fresh database on the machine's Postgres, or a PGlite in a temp dir when none answers.
  const database = await prepareDatabase({
    name: `nexusai_ui_${randomBytes(4).toString('hex')}`,
    adminUrl: process.env.TEST_POSTGRES_URL,
  })

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
  if (database.backend.kind === 'postgres') env.DATABASE_URL = database.backend.url
  else env.PGLITE_DIR = database.backend.dataDir
  // A private redis-server (nothing answers on a free port, so dev.ts starts one): the machine's Redis
  // outlives the run, and a prepaid balance or a pin kept there under a fixed project name would carry
  // one run's charges into the next run's fresh database.
  env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`
  // Given, so dev.ts does not write one into the checkout's .dev.vars.
  env.SECRETS_KEY = randomBytes(32).toString('base64')
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
    await database.drop()
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
