import type { Deps } from '../deps'
import { keys } from '../redis/keys'
import type { Increment } from './counters'

// All of one request's metric increments in a single Redis pipeline.
export async function writeMetrics(deps: Deps, increments: Increment[]): Promise<void> {
  if (increments.length === 0) return
  const pipe = deps.redis.pipeline()
  for (const [field, by] of increments) pipe.hincrby(keys.metrics(), field, by)
  await pipe.exec()
}

export async function readMetrics(deps: Deps): Promise<Record<string, unknown>> {
  return (await deps.redis.hgetall<Record<string, unknown>>(keys.metrics())) ?? {}
}
