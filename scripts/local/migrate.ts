import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle as drizzleNeon } from 'drizzle-orm/neon-http'
import { migrate as migrateNeon } from 'drizzle-orm/neon-http/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'

export type Target = { databaseUrl: string; neonEndpoint?: string }

const root = join(import.meta.dirname, '..', '..')

// A Neon URL (or any URL when a local Neon-compatible endpoint is given) goes over Neon's HTTP driver,
// exactly as the Worker talks to it; any other Postgres URL goes over the wire protocol with `pg`.
function overHttp(target: Target): boolean {
  if (target.neonEndpoint) {
    const endpoint = target.neonEndpoint
    neonConfig.fetchEndpoint = () => endpoint
    return true
  }
  return /\.neon\.(tech|build)$/.test(new URL(target.databaseUrl).hostname)
}

async function withPg<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

export async function applyMigrations(target: Target): Promise<void> {
  const migrationsFolder = join(root, 'migrations')
  if (overHttp(target)) {
    await migrateNeon(drizzleNeon(neon(target.databaseUrl)), { migrationsFolder })
  } else {
    await withPg(target.databaseUrl, (client) => migratePg(drizzlePg(client), { migrationsFolder }))
  }
}

// Seed files hold one statement per `;` at the end of a line; Neon's HTTP API takes one statement
// per query, so they run as one batch (a single transaction).
function splitStatements(source: string): string[] {
  return source
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean)
}

export async function applySeeds(target: Target): Promise<string[]> {
  const dir = join(root, 'seeds')
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  for (const file of files) {
    const statements = splitStatements(await readFile(join(dir, file), 'utf8'))
    if (overHttp(target)) {
      const sql = neon(target.databaseUrl)
      await sql.transaction(statements.map((s) => sql.query(s)))
    } else {
      await withPg(target.databaseUrl, async (client) => {
        await client.query('BEGIN')
        for (const s of statements) await client.query(s)
        await client.query('COMMIT')
      })
    }
  }
  return files
}
