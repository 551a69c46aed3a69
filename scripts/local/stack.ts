import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { applyMigrations, applySeeds } from './migrate.ts'
import { startMockUpstream, type MockUpstream } from './mock-upstream.ts'
import { startNeonEndpoint, type NeonEndpoint } from './neon-http.ts'
import type { DatabaseBackend } from './postgres.ts'
import { ensureRedis } from './redis.ts'
import { startUpstashEndpoint, type UpstashEndpoint } from './upstash-rest.ts'

export type StackOptions = {
  // A real Postgres URL; unset → an embedded PGlite whose data persists in pgliteDir.
  databaseUrl?: string
  pgliteDir?: string
  redisUrl?: string
  upstashToken?: string
  mockLatencyMs?: number
  recordMockRequests?: boolean
}

export type Stack = {
  // What the Worker needs to reach the local stores exactly as it reaches Neon and Upstash.
  vars: Record<string, string>
  neon: NeonEndpoint
  upstash: UpstashEndpoint
  mock: MockUpstream
  close(): Promise<void>
}

const root = join(import.meta.dirname, '..', '..')

// The local stack shared by `npm run dev` and `npm run bench`: Neon- and Upstash-compatible endpoints
// over a real Postgres (or PGlite) and Redis, migrations and seeds applied, and the mock upstream.
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const redis = await ensureRedis(options.redisUrl)
  let backend: DatabaseBackend
  if (options.databaseUrl) {
    backend = { kind: 'postgres', url: options.databaseUrl }
  } else {
    const dataDir = options.pgliteDir ?? join(root, '.data', 'pglite')
    await mkdir(dataDir, { recursive: true })
    backend = { kind: 'pglite', dataDir }
  }
  const databaseName = options.databaseUrl
    ? new URL(options.databaseUrl).pathname.slice(1) || 'nexusai'
    : 'nexusai'
  const label = `postgres://nexus:local@db.localtest.me/${databaseName}`
  const token = options.upstashToken ?? 'local-upstash-token'
  const neon = await startNeonEndpoint(backend)
  const upstash = await startUpstashEndpoint({ redisUrl: redis.url, token })
  const mock = await startMockUpstream({
    latencyMs: options.mockLatencyMs ?? 0,
    record: options.recordMockRequests ?? false,
  })
  await applyMigrations({ databaseUrl: label, neonEndpoint: neon.url })
  await applySeeds({ databaseUrl: label, neonEndpoint: neon.url })
  return {
    vars: {
      DATABASE_URL: label,
      NEON_HTTP_ENDPOINT: neon.url,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: token,
    },
    neon,
    upstash,
    mock,
    async close() {
      await Promise.allSettled([mock.close(), upstash.close(), neon.close()])
      await redis.stop()
    },
  }
}
