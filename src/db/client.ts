import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-http'
import * as schema from '../../drizzle/schema'
import type { Config } from '../env'

export type Db = ReturnType<typeof createDb>

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
