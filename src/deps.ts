import { createDb, type Db } from './db/client'
import { readConfig, type Config } from './env'
import { createRedis, type Redis } from './redis/client'

// assets: the Workers assets binding (the tokenizer's tables); absent where no assets are configured.
export type Deps = { config: Config; db: Db; redis: Redis; now: () => number; assets?: Fetcher }

const cache = new WeakMap<object, Deps>()

// Clients are built once per env object (i.e. per isolate in production) and reused by every request.
export function getDeps(env: object): Deps {
  const hit = cache.get(env)
  if (hit) return hit
  const config = readConfig(env as Record<string, unknown>)
  const offset = config.CLOCK_OFFSET_MS
  const deps: Deps = {
    config,
    db: createDb(config),
    redis: createRedis(config),
    now: offset ? () => Date.now() + offset : Date.now,
    assets: (env as { ASSETS?: Fetcher }).ASSETS,
  }
  cache.set(env, deps)
  return deps
}
