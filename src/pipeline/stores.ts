import { describeDbError } from '../db/errors'
import { OpenAIError } from '../errors'
import { log } from '../lib/log'

// A store call on the hot path: any failure becomes 503 service_unavailable (never a 500, never details).
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
    if (error instanceof OpenAIError) throw error
    log('error', `${store} unavailable`, { request_id: requestId, ...describeDbError(error) })
    throw new OpenAIError(
      'service_unavailable',
      'The gateway cannot reach its data store. Please retry shortly.',
    )
  }
}
