import http from 'node:http'
import pg from 'pg'
import type { DatabaseBackend } from './postgres.ts'
import { readBody } from './util.ts'

export type NeonEndpoint = { url: string; port: number; stats: { requests: number }; close(): Promise<void> }

type Query = { query: string; params: (string | null)[]; arrayMode?: boolean }
type Options = { raw: boolean; arrayMode: boolean }
type Reply = { status: number; body: unknown; headers?: Record<string, string> }
type Backend = { pool: pg.Pool; canDestroy: boolean; close(): Promise<void> }

// Values must reach the client as Postgres text: identity parsers on the pool (query-level `types`
// would be sent as Parse param types, which the PGlite adapter cannot handle).
const RAW_TYPES = { getTypeParser: () => (value: string) => value }
const SESSION_SETTINGS: [string, string][] = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO,MDY'],
  ['IntervalStyle', 'postgres'],
]
const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
}
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'OPTIONS, POST',
  'Access-Control-Allow-Headers':
    'Authorization, Content-Type, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level, Neon-Batch-Deferrable',
  'Access-Control-Max-Age': '86400',
}

export async function startNeonEndpoint(
  backend: DatabaseBackend,
  opts: { port?: number; host?: string } = {},
): Promise<NeonEndpoint> {
  const host = opts.host ?? '127.0.0.1'
  const db = await openBackend(backend)
  const stats = { requests: 0 }

  const server = http.createServer((req, res) => {
    route(req, db, stats)
      .catch((): Reply => ({ status: 500, body: errorBody('internal error in local neon endpoint') }))
      .then((reply) => {
        const headers = { 'Access-Control-Allow-Origin': '*', ...reply.headers }
        if (reply.body === undefined) return res.writeHead(reply.status, headers).end()
        res
          .writeHead(reply.status, { ...headers, 'Content-Type': 'application/json' })
          .end(JSON.stringify(reply.body))
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => resolve())
  }).catch(async (e) => {
    await db.close()
    throw e
  })
  const port = (server.address() as { port: number }).port
  const urlHost = host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${port}/sql`,
    port,
    stats,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await db.close()
    },
  }
}

async function openBackend(backend: DatabaseBackend): Promise<Backend> {
  if (backend.kind === 'postgres') {
    const options = SESSION_SETTINGS.map(([k, v]) => `-c ${k}=${v}`).join(' ')
    const pool = new pg.Pool({
      connectionString: backend.url,
      types: RAW_TYPES,
      options,
      application_name: 'nexusai-local-neon',
      max: 10,
      connectionTimeoutMillis: 5000,
    })
    pool.on('error', () => {}) // an idle client lost its connection (backend restarted); the pool replaces it
    return { pool, canDestroy: true, close: () => pool.end() }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres')
  const pglite = await PGlite.create(backend.dataDir)
  // PGlite has a single session: set it up once (startup options are ignored by its pg adapter).
  await pglite.exec(SESSION_SETTINGS.map(([k, v]) => `SET ${k} TO '${v}';`).join(''))
  // One connection: the pool queues requests, so a batch's BEGIN..COMMIT never interleaves with another.
  const pool = new pg.Pool({ ...createPgConfig(pglite), types: RAW_TYPES, max: 1 })
  pool.on('error', () => {})
  return {
    pool,
    canDestroy: false, // the adapter's single connection object cannot be replaced
    async close() {
      await pool.end()
      await pglite.close()
    },
  }
}

async function route(req: http.IncomingMessage, db: Backend, stats: { requests: number }): Promise<Reply> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (req.method === 'OPTIONS') return { status: 204, body: undefined, headers: CORS_HEADERS }
  if (path === '/sql' && req.method === 'POST') {
    stats.requests++
    return handleSql(req, db)
  }
  if (path === '/__stats' && req.method === 'GET') return { status: 200, body: { requests: stats.requests } }
  if (path === '/__stats/reset' && req.method === 'POST') {
    stats.requests = 0
    return { status: 200, body: { requests: 0 } }
  }
  return { status: 400, body: 'query is not supported' }
}

async function handleSql(req: http.IncomingMessage, db: Backend): Promise<Reply> {
  const text = await readBody(req)
  const connError = checkConnectionString(req.headers['neon-connection-string'], !!req.headers.authorization)
  if (connError) return { status: 400, body: errorBody(connError) }

  // Only the exact string "true" turns a Neon-* flag on; the driver sends "false" explicitly.
  const flag = (name: string) => req.headers[name] === 'true'
  const isolationHeader = req.headers['neon-batch-isolation-level']
  const isolation = typeof isolationHeader === 'string' ? ISOLATION_LEVELS[isolationHeader] : undefined
  if (isolationHeader !== undefined && !isolation)
    return { status: 400, body: errorBody('invalid isolation level') }
  const options: Options = { raw: flag('neon-raw-text-output'), arrayMode: flag('neon-array-mode') }

  // The driver sends Content-Type text/plain: parse the body as JSON whatever the content type says.
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch (e) {
    return { status: 400, body: errorBody(`request payload is not valid JSON: ${(e as Error).message}`) }
  }
  const single = toQuery(payload)
  const batch = single ? undefined : toBatch(payload)
  if (!single && !batch) {
    return { status: 400, body: errorBody('request payload must be {"query","params"} or {"queries":[…]}') }
  }

  let client: pg.PoolClient
  try {
    client = await db.pool.connect()
  } catch (e) {
    return failure(e)
  }
  // Without a listener, a connection dropped while checked out emits an 'error' that kills the process.
  let broken: Error | undefined
  const onError = (e: Error) => (broken = e)
  client.on('error', onError)
  try {
    if (single) return { status: 200, body: await runQuery(client, single, options) }

    const readOnly = flag('neon-batch-read-only')
    const deferrable = flag('neon-batch-deferrable')
    const modes = [
      isolation && `ISOLATION LEVEL ${isolation}`,
      readOnly && 'READ ONLY',
      deferrable && 'DEFERRABLE',
    ]
    await client.query(`BEGIN ${modes.filter(Boolean).join(', ')}`)
    const results = []
    for (const query of batch!) results.push(await runQuery(client, query, options))
    await client.query('COMMIT')

    const headers: Record<string, string> = {}
    if (isolation) headers['Neon-Batch-Isolation-Level'] = isolationHeader as string
    if (readOnly) headers['Neon-Batch-Read-Only'] = 'true'
    if (deferrable) headers['Neon-Batch-Deferrable'] = 'true'
    return { status: 200, body: { results }, headers }
  } catch (e) {
    if (!isDbError(e) || e.severity === 'FATAL' || e.severity === 'PANIC') broken ??= e as Error
    return failure(e)
  } finally {
    // A failed batch, or a stray BEGIN from a single request, must not leak into the next request.
    if (!broken && client.getTransactionStatus() !== 'I') {
      await client.query('ROLLBACK').catch((e: Error) => (broken ??= e))
    }
    client.off('error', onError)
    client.release(db.canDestroy ? broken : undefined)
  }
}

async function runQuery(client: pg.PoolClient, q: Query, options: Options) {
  // Extended protocol even without params, like Neon: multi-statement strings fail with 42601.
  const config = { text: q.query, values: q.params, rowMode: 'array', queryMode: 'extended' }
  const r = await client.query(config as pg.QueryArrayConfig)
  const arrayMode = q.arrayMode ?? options.arrayMode
  const fields = r.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: 'text',
  }))
  const rows = r.rows.map((row: unknown[]) => {
    const values = options.raw
      ? row
      : row.map((v, i) => (v === null ? null : textToJson(v as string, fields[i]!.dataTypeID)))
    if (arrayMode) return values
    const object: Record<string, unknown> = {}
    fields.forEach((f, i) => (object[f.name] = values[i])) // duplicate names: the last one wins
    return object
  })
  // pg parses the CommandComplete tag like Neon: first word, and the count (null when the tag has none).
  return { rowAsArray: arrayMode, fields, rows, command: r.command ?? '', rowCount: r.rowCount ?? null }
}

function toQuery(value: unknown): Query | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { query, params = [], arrayMode } = value as Record<string, unknown>
  if (typeof query !== 'string' || !Array.isArray(params)) return undefined
  if (arrayMode !== undefined && arrayMode !== null && typeof arrayMode !== 'boolean') return undefined
  return { query, params: params.map(paramToText), arrayMode: arrayMode ?? undefined }
}

function toBatch(value: unknown): Query[] | undefined {
  const queries = (value as { queries?: unknown } | null)?.queries
  if (!Array.isArray(queries)) return undefined
  const parsed = queries.map(toQuery)
  return parsed.every((q) => q !== undefined) ? (parsed as Query[]) : undefined
}

// Neon's conversion of non-string JSON params: scalars and objects become their JSON text,
// arrays become Postgres array literals (elements JSON-quoted, objects as quoted JSON text).
function paramToText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return arrayLiteral(value)
  return JSON.stringify(value)
}

function arrayLiteral(value: unknown[]): string {
  const item = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL'
    if (Array.isArray(v)) return arrayLiteral(v)
    return JSON.stringify(typeof v === 'object' ? JSON.stringify(v) : v)
  }
  return `{${value.map(item).join(',')}}`
}

// Non-raw output (the driver always asks for raw): bool, int2/int4, float4/float8 and json/jsonb
// become JSON values, arrays become JSON arrays; everything else (int8, numeric, dates…) stays text.
const ARRAY_ELEMENT: Record<number, number> = {
  1000: 16,
  1005: 21,
  1007: 23,
  1021: 700,
  1022: 701,
  199: 114,
  3807: 3802,
}
const TEXT_ARRAYS = new Set([
  143, 629, 651, 719, 791, 1001, 1002, 1003, 1006, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 1016, 1017,
  1018, 1019, 1020, 1027, 1028, 1040, 1041, 1115, 1182, 1183, 1185, 1187, 1231, 1263, 1270, 1561, 1563, 2951,
  3643, 3645, 3905, 3907, 3909, 3911, 3913, 3927, 4073,
])

function textToJson(text: string, oid: number): unknown {
  const element = ARRAY_ELEMENT[oid] ?? (TEXT_ARRAYS.has(oid) ? 25 : undefined)
  if (element !== undefined) {
    try {
      return parseArray(text, element)
    } catch {
      return text
    }
  }
  switch (oid) {
    case 16:
      return text === 't'
    case 21:
    case 23:
      return Number(text)
    case 700:
    case 701:
      return Number.isFinite(Number(text)) ? Number(text) : text // NaN and ±Infinity stay strings
    case 114:
    case 3802:
      return JSON.parse(text)
    default:
      return text
  }
}

function parseArray(text: string, element: number): unknown {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0 // skip bounds decoration like [0:1]={…}
  const skipSpace = () => {
    while (text[i] === ' ') i++
  }
  const readArray = (): unknown[] => {
    skipSpace()
    if (text[i++] !== '{') throw new Error('unbalanced array')
    const items: unknown[] = []
    skipSpace()
    if (text[i] === '}') return (i++, items)
    for (;;) {
      skipSpace()
      if (text[i] === '{') items.push(readArray())
      else if (text[i] === '"') {
        let value = ''
        for (i++; text[i] !== '"'; i++) {
          if (i >= text.length) throw new Error('unbalanced quoted string')
          if (text[i] === '\\') i++
          value += text[i]
        }
        i++
        items.push(textToJson(value, element))
      } else {
        let end = i
        while (end < text.length && text[end] !== ',' && text[end] !== '}') end++
        const item = text.slice(i, end).trim()
        i = end
        items.push(item === 'NULL' ? null : textToJson(item, element))
      }
      skipSpace()
      if (text[i] === ',') i++
      else if (text[i++] === '}') return items
      else throw new Error('unbalanced array')
    }
  }
  return readArray()
}

function checkConnectionString(value: string | string[] | undefined, hasToken: boolean): string | undefined {
  if (typeof value !== 'string' || !value) return 'invalid header: neon-connection-string'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'invalid connection string: relative URL without a base'
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return 'incorrect scheme'
  if (url.pathname.length <= 1) return 'missing database name'
  if (!url.username) return 'missing username'
  if (!url.hostname) return 'missing hostname'
  if (!url.password && !hasToken) return 'missing authentication credentials: required password'
  return undefined
}

type DbError = pg.DatabaseError & Record<string, unknown>

function isDbError(e: unknown): e is DbError {
  // Duck-typed: PGlite's adapter raises errors from its own copy of pg-protocol, and Node socket
  // errors also carry a `code` (e.g. EPIPE) but never a `severity`.
  const err = e as { code?: unknown; severity?: unknown } | null
  return typeof err?.severity === 'string' && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code)
}

// SQL errors → 400 with every key present (the driver only reads the body of a 400);
// anything else means the backend is unreachable → 503 so the driver reports a server error.
function failure(e: unknown): Reply {
  if (isDbError(e)) return { status: 400, body: errorBody(e.message, e) }
  return { status: 503, body: errorBody(`database backend unavailable: ${(e as Error)?.message ?? e}`) }
}

const ERROR_KEYS = [
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'severity',
  'where',
  'table',
  'column',
  'schema',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const

function errorBody(message: string, db?: DbError): Record<string, unknown> {
  const body: Record<string, unknown> = { message, code: db?.code ?? '' }
  for (const key of ERROR_KEYS) body[key] = db?.[key] ?? null
  body.severity = db?.severity ?? ''
  return body
}
