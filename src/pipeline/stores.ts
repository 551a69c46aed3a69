import { describeDbError } from '../db/errors'
import { GatewayError, StoreUnavailable } from '../errors'
import { log } from '../lib/log'

// A store call on the hot path: any failure is a StoreUnavailable, which onError answers as 503
// service_unavailable (never a 500, never details).
// The log names the error and its SQLSTATE only: a driver message can carry the query parameters
// (drizzle's embeds them all, e.g. the virtual key's hash during authentication).
export async function fromStore<T>(
  store: 'redis' | 'postgres',
  requestId: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof GatewayError) throw error
    log('error', `${store} unavailable`, { request_id: requestId, ...describeDbError(error) })
    throw new StoreUnavailable(store, error)
  }
}
