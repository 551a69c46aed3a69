import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-http'
import * as schema from '../../drizzle/schema'
import type { Config } from '../env'

export type Db = ReturnType<typeof createDb>

// The HTTP driver has no timeout of its own: a hung Postgres would hold a request (or the usage write
// in waitUntil) forever. Every query gets this deadline; a timed-out query fails like an unreachable
// database (503 on the hot path, the usage row spooled to Redis).
const POSTGRES_TIMEOUT_MS = 5_000

function fetchWithTimeout(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const timeout = AbortSignal.timeout(POSTGRES_TIMEOUT_MS)
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout
  return fetch(input, { ...init, signal })
}

// Global to the isolate (like fetchEndpoint below); set once, when this module loads.
neonConfig.fetchFunction = fetchWithTimeout

// neonConfig.fetchEndpoint is global to the isolate, so local endpoints are registered by the
// connection string's host: each configured database reaches its own endpoint, and a host with no
// local endpoint goes to Neon as usual.
const localEndpoints = new Map<string, string>()
const neonDefault = neonConfig.fetchEndpoint

export function createDb(config: Config) {
  if (config.NEON_HTTP_ENDPOINT) {
    localEndpoints.set(new URL(config.DATABASE_URL).hostname, config.NEON_HTTP_ENDPOINT)
    neonConfig.fetchEndpoint = (host, port, options) =>
      localEndpoints.get(host) ??
      (typeof neonDefault === 'function' ? neonDefault(host, port, options) : neonDefault)
  }
  return drizzle({ client: neon(config.DATABASE_URL), schema })
}
