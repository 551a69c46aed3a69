import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// Default import: under vitest with the Cloudflare plugin the named `Redis` export of this CommonJS module
// comes through undefined. Reply errors are recognised by name for the same reason.
import Redis from 'ioredis'
import { freePort } from './ports.ts'
import { isReplyError, message, redact, stopChild } from './util.ts'

const DEFAULT_URL = 'redis://127.0.0.1:6379'
const INSTALL_HINT =
  'install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL to a running Redis'

// Pings redisUrl (default redis://127.0.0.1:6379). If nothing answers and `redis-server` is on PATH, starts a
// private one on a free port (no persistence) and returns its URL; otherwise throws a one-line Error saying
// what to install or set. stop() stops the private server if we started one, else does nothing.
export async function ensureRedis(redisUrl?: string): Promise<{ url: string; stop(): Promise<void> }> {
  const url = redisUrl || DEFAULT_URL
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`REDIS_URL is not a URL (${url}); use the form redis://[:password@]host:port[/db]`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss:// (got ${redact(parsed)})`)
  }
  const answer = await ping(url)
  if (answer === true) return { url, stop: async () => {} }
  if (answer instanceof Error) {
    throw new Error(`Redis at ${redact(parsed)} answered but refused PING (${answer.message}); fix REDIS_URL`)
  }
  try {
    return await startPrivateRedis()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `No Redis answered at ${redact(parsed)} and redis-server is not on PATH: ${INSTALL_HINT}`,
      )
    }
    throw new Error(
      `No Redis answered at ${redact(parsed)} and a private redis-server failed to start (${message(e)}): ${INSTALL_HINT}`,
    )
  }
}

// true = PONG; an Error = something answered but refused (e.g. auth); 'down' = nothing answered.
async function ping(url: string): Promise<true | Error | 'down'> {
  const client = new Redis(url, {
    protocol: 2,
    lazyConnect: true,
    connectTimeout: 1000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  })
  let connError: unknown
  client.on('error', (e) => (connError = e))
  try {
    await client.connect()
    await client.callBuffer('PING')
    return true
  } catch (e) {
    // A refused AUTH surfaces as an error event while connect() rejects with "Connection is closed."
    if (isReplyError(connError)) return new Error(message(connError))
    return isReplyError(e) ? new Error(message(e)) : 'down'
  } finally {
    client.disconnect()
  }
}

async function startPrivateRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'nexusai-redis-'))
  let lastError: unknown
  // Another process can take the free port between our probe and redis-server's bind: retry then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const url = `redis://127.0.0.1:${port}`
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000))
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    const kill = () => child.kill('SIGKILL')
    process.once('exit', kill)
    try {
      await waitUntilUp(url, child)
      return {
        url,
        async stop() {
          process.off('exit', kill)
          await stopChild(child)
          await rm(dir, { recursive: true, force: true })
        },
      }
    } catch (e) {
      process.off('exit', kill)
      await stopChild(child)
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        await rm(dir, { recursive: true, force: true })
        throw e
      }
      const lines = output.trim().split('\n')
      lastError = new Error(`${message(e)}${output ? `: ${lines[lines.length - 1]!.trim()}` : ''}`)
    }
  }
  await rm(dir, { recursive: true, force: true })
  throw lastError
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  let failure: Error | undefined
  child.once('error', (e) => (failure = e))
  child.once('exit', (code) => (failure ??= new Error(`redis-server exited with code ${code}`)))
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (failure) throw failure
    if ((await ping(url)) === true) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw failure ?? new Error('redis-server did not answer within 10 s')
}
