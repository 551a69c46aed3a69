// npm run db:seed — applies seeds/*.sql to DATABASE_URL (idempotent).
import { applySeeds } from './local/migrate.ts'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  console.error('DATABASE_URL is not set: give it the Postgres or Neon connection string to seed.')
  process.exit(1)
}
try {
  const files = await applySeeds({ databaseUrl, neonEndpoint: process.env.NEON_HTTP_ENDPOINT })
  console.log(`seeds applied: ${files.join(', ')}`)
} catch (error) {
  console.error(`seeding failed: ${(error as Error).message}`)
  process.exit(1)
}
