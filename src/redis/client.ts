import { Redis } from '@upstash/redis/cloudflare'
import type { Config } from '../env'

export const REDIS_TIMEOUT_MS = 2_000

// One quick retry on a network error, and a hard timeout: a dead Redis must turn into a fast 503,
// not the client's default ~4 s of backoff.
export function createRedis(config: Config): Redis {
  return new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    retry: { retries: 1, backoff: () => 25 },
    signal: () => AbortSignal.timeout(REDIS_TIMEOUT_MS),
    enableTelemetry: false,
    readYourWrites: false,
  })
}

export type { Redis }

// A script run through the client (the rare ones: spool drain, counter raise, breaker reset), for the
// script wrappers in redis/scripts/ only. One script object per Redis client: it hashes the script
// (SHA-1 for EVALSHA) once, not on every call.
export function clientScript(text: string) {
  const byClient = new WeakMap<Redis, ReturnType<Redis['createScript']>>()
  return (redis: Redis, keys: string[], args: string[]): Promise<unknown> => {
    let script = byClient.get(redis)
    if (!script) byClient.set(redis, (script = redis.createScript<unknown>(text)))
    return script.exec(keys, args)
  }
}
