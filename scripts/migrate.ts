// npm run db:migrate — applies migrations/ to DATABASE_URL (a Neon URL, or any Postgres URL).
// NEON_HTTP_ENDPOINT routes a non-Neon URL through a local Neon-compatible endpoint instead.
import { applyMigrations } from './local/migrate.ts'

const databaseUrl = process.env.DATABASE_URL
if (!databaseUrl) {
  console.error('DATABASE_URL is not set: give it the Postgres or Neon connection string to migrate.')
  process.exit(1)
}
try {
  await applyMigrations({ databaseUrl, neonEndpoint: process.env.NEON_HTTP_ENDPOINT })
  console.log('migrations applied')
} catch (error) {
  console.error(`migration failed: ${(error as Error).message}`)
  process.exit(1)
}
