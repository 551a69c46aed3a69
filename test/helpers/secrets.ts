import { sql } from 'drizzle-orm'
import { admin } from './admin'
import { mockUrl, testDb, testRedis, uid } from './gateway'

// The SECRETS_KEY vitest.config.ts binds, and a second one for rotations.
export const SECRETS_KEY = 'WMx6pezBxfEL8+jmBuVHB1jcP7UTKNG+yuMZ0tbRXGU='
export const NEXT_SECRETS_KEY = 'tffPf7e5IzQCXGR96r9D/Y1cDIlQASI7jOUn6HalOwE='

// An upstream key that looks like one and ends in `suffix` (the mock's deny<SUFFIX>/limit<SUFFIX>).
export const upstreamKey = (suffix = uid()) => `sk-test-${crypto.randomUUID().replace(/-/g, '')}${suffix}`

// A provider on the mock with the given stored keys (no api_key_ref), through the admin API.
export async function pooledProvider(scenario: string, apiKeys: string[]) {
  const reply = await admin('POST', '/providers', {
    name: `pool-${uid()}`,
    base_url: `${mockUrl()}/s/${scenario}/v1`,
    api_keys: apiKeys,
    max_retries: 0,
  })
  if (reply.status !== 201) throw new Error(`provider not created: ${JSON.stringify(reply.body)}`)
  return reply.body as {
    id: string
    name: string
    stored_keys: { id: string; hint: string; state: string }[]
  }
}

// Every row of every table in the public schema, each as its text form.
export async function postgresText(): Promise<string> {
  const db = testDb()
  const tables = await db.execute<{ name: string }>(
    sql`select table_name as name from information_schema.tables where table_schema = 'public'`,
  )
  const out: string[] = []
  for (const { name } of tables.rows) {
    const rows = await db.execute<{ t: string }>(sql.raw(`select t::text as t from "${name}" t`))
    out.push(...rows.rows.map((r) => r.t))
  }
  return out.join('\n')
}

// Every key of the run's Redis database with its value, whatever its type.
export async function redisText(): Promise<string> {
  const redis = testRedis()
  const out: string[] = []
  let cursor = '0'
  do {
    const [next, names] = await redis.scan(cursor, { count: 500 })
    cursor = String(next)
    for (const name of names) {
      const type = await redis.type(name)
      const value =
        type === 'string'
          ? await redis.get(name)
          : type === 'hash'
            ? await redis.hgetall(name)
            : type === 'list'
              ? await redis.lrange(name, 0, -1)
              : type === 'zset'
                ? await redis.zrange(name, 0, -1)
                : type === 'set'
                  ? await redis.smembers(name)
                  : null
      out.push(name, JSON.stringify(value))
    }
  } while (cursor !== '0')
  return out.join('\n')
}
