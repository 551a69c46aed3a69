import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-http'
import * as schema from '../../drizzle/schema'
import type { Config } from '../env'

export type Db = ReturnType<typeof createDb>

export function createDb(config: Config) {
  // neonConfig is global to the isolate; only the local stack sets an endpoint.
  if (config.NEON_HTTP_ENDPOINT) {
    const endpoint = config.NEON_HTTP_ENDPOINT
    neonConfig.fetchEndpoint = () => endpoint
  }
  return drizzle({ client: neon(config.DATABASE_URL), schema })
}
