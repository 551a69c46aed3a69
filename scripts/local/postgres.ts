import pg from 'pg'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type DatabaseBackend = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string }

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

// Creates a fresh database `name` on the Postgres at adminUrl (dropping any previous one of that name); when
// no Postgres answers there within ~1s, falls back to PGlite in a fresh temp dir. label is a Neon-style
// connection string for the Worker's neon() driver: only a label, the host is never dialled.
export async function prepareDatabase(opts: {
  name: string
  adminUrl?: string
}): Promise<{ backend: DatabaseBackend; label: string; drop(): Promise<void> }> {
  const { name, adminUrl = DEFAULT_ADMIN_URL } = opts
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name: ${name}`)
  const label = `postgres://nexus:local@db.localtest.me/${name}`

  if (await canConnect(adminUrl)) {
    const dropSql = `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`
    await adminQuery(adminUrl, dropSql)
    await adminQuery(adminUrl, `CREATE DATABASE "${name}"`)
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return {
      backend: { kind: 'postgres', url: url.toString() },
      label,
      drop: () => adminQuery(adminUrl, dropSql),
    }
  }

  const dataDir = await mkdtemp(join(tmpdir(), `${name}-pglite-`))
  return {
    backend: { kind: 'pglite', dataDir },
    label,
    drop: () => rm(dataDir, { recursive: true, force: true }),
  }
}

async function canConnect(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query(sql)
  } finally {
    await client.end().catch(() => {})
  }
}
