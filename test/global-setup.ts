import type { TestProject } from 'vitest/node'
import { randomBytes } from 'node:crypto'
import { startNeonEndpoint } from '../scripts/local/neon-http.ts'
import { startUpstashEndpoint } from '../scripts/local/upstash-rest.ts'
import { startMockUpstream } from '../scripts/local/mock-upstream.ts'
import { ensureRedis } from '../scripts/local/redis.ts'
import { prepareDatabase } from '../scripts/local/postgres.ts'
import { applyMigrations, applySeeds } from '../scripts/local/migrate.ts'

// One fresh database (on the machine's Postgres, or PGlite when none answers) and one private
// Redis logical database per run, so runs never see each other's keys or rows.
export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex')
  const redis = await ensureRedis(process.env.REDIS_URL)
  const database = await prepareDatabase({
    name: `nexusai_test_${runId}`,
    adminUrl: process.env.TEST_POSTGRES_URL,
  })
  const neon = await startNeonEndpoint(database.backend)
  const redisDb = 1 + (parseInt(runId.slice(0, 4), 16) % 15)
  const upstashToken = `test-${runId}`
  const upstash = await startUpstashEndpoint({
    redisUrl: redis.url,
    token: upstashToken,
    db: redisDb,
    flush: true,
  })
  // Probes: a second Neon and Upstash endpoint on the same stores, used by one test at a time to
  // count the round trips of a single gateway request (the shared endpoints see every test's traffic).
  // PGlite cannot be opened twice, so on PGlite the probe is the shared endpoint.
  const neonProbe = database.backend.kind === 'postgres' ? await startNeonEndpoint(database.backend) : neon
  const upstashProbe = await startUpstashEndpoint({ redisUrl: redis.url, token: upstashToken, db: redisDb })
  const mock = await startMockUpstream({})
  await applyMigrations({ databaseUrl: database.label, neonEndpoint: neon.url })
  await applySeeds({ databaseUrl: database.label, neonEndpoint: neon.url })

  project.provide('databaseUrl', database.label)
  project.provide('neonEndpoint', neon.url)
  project.provide('upstashUrl', upstash.url)
  project.provide('upstashToken', upstashToken)
  project.provide('mockUpstreamUrl', mock.url)
  project.provide('neonProbeEndpoint', neonProbe.url)
  project.provide('upstashProbeUrl', upstashProbe.url)

  return async () => {
    await mock.close()
    await upstashProbe.close()
    if (neonProbe !== neon) await neonProbe.close()
    await upstash.close()
    await neon.close()
    await database.drop()
    await redis.stop()
  }
}
