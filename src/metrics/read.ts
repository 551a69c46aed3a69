import type { Deps } from '../deps'
import { keys } from '../redis/keys'

export async function readMetrics(deps: Deps): Promise<Record<string, unknown>> {
  return (await deps.redis.hgetall<Record<string, unknown>>(keys.metrics())) ?? {}
}
