import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { neon, neonConfig, NeonDbError } from '@neondatabase/serverless'
import { drizzle, type NeonHttpDatabase } from 'drizzle-orm/neon-http'
import { bigint, jsonb, numeric, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core'
import { eq, sql as dsql } from 'drizzle-orm'

// The real Neon HTTP driver, inside workerd, against the local endpoint started by test/global-setup.ts.
const endpoint = inject('neonEndpoint')
const databaseUrl = inject('databaseUrl')
neonConfig.fetchEndpoint = () => endpoint

const sql = neon(databaseUrl)
// Identity parsers expose exactly what the endpoint sent: Postgres text output.
const RAW_TYPES = { getTypeParser: () => (value: string) => value }

const suffix = crypto.randomUUID().replaceAll('-', '').slice(0, 12)
const itemsTable = `neon_test_items_${suffix}`
const drizzleTable = `neon_test_drizzle_${suffix}`
const items = sql.unsafe(itemsTable)

// drizzle wraps most query errors in a DrizzleQueryError whose `cause` is the driver's NeonDbError.
type QueryError = NeonDbError & { cause?: NeonDbError }

async function rejection(promise: Promise<unknown>): Promise<QueryError> {
  try {
    await promise
  } catch (error) {
    return error as QueryError
  }
  throw new Error('expected the query to fail')
}

function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(endpoint, {
    method: 'POST',
    body,
    headers: { 'Neon-Connection-String': databaseUrl, ...headers },
  })
}

beforeAll(async () => {
  await sql.query(
    `CREATE TABLE ${itemsTable} (id serial PRIMARY KEY, name text UNIQUE NOT NULL, qty int NOT NULL DEFAULT 0)`,
  )
  await sql.query(`INSERT INTO ${itemsTable} (name, qty) VALUES ('a', 1), ('b', 2)`)
})

afterAll(async () => {
  await sql.query(`DROP TABLE IF EXISTS ${itemsTable}, ${drizzleTable}`)
})

describe('neon() over the local SQL-over-HTTP endpoint', () => {
  it('returns every value as its Postgres text output, in UTC and ISO style', async () => {
    const [row] = await sql.query(
      `SELECT $1::int AS i, $2::int8 AS b, $3::numeric AS n, $4::bool AS t, $5::jsonb AS j, $6::timestamptz AS ts,
        $7::date AS d, $8::int[] AS a, $9::bytea AS bytes, NULL::text AS missing`,
      [
        7,
        '9007199254740993',
        '1.50',
        true,
        { k: [1, 'x'] },
        '2024-01-02T05:04:05.006+02:00',
        '2024-02-29',
        [1, 2, null],
        new Uint8Array([1, 2, 255]),
      ],
      { types: RAW_TYPES },
    )
    expect(row).toEqual({
      i: '7',
      b: '9007199254740993',
      n: '1.50',
      t: 't',
      j: '{"k": [1, "x"]}',
      ts: '2024-01-02 03:04:05.006+00',
      d: '2024-02-29',
      a: '{1,2,NULL}',
      bytes: '\\x0102ff',
      missing: null,
    })
  })

  it('lets the driver parse int, int8, numeric, bool, jsonb, timestamptz, date, int[] and bytea', async () => {
    const at = new Date('2024-01-02T03:04:05.006Z')
    const [row] = await sql`SELECT ${7}::int AS i, ${9007199254740993n}::int8 AS b, ${'1.50'}::numeric AS n,
      ${false}::bool AS t, ${JSON.stringify({ k: [1, 'x'] })}::jsonb AS j, ${at}::timestamptz AS ts,
      ${'2024-02-29'}::date AS d, ${[1, 2, null]}::int[] AS a, ${new Uint8Array([1, 2, 255])} AS bytes`
    expect(row).toMatchObject({
      i: 7,
      b: '9007199254740993',
      n: '1.50',
      t: false,
      j: { k: [1, 'x'] },
      a: [1, 2, null],
    })
    expect(row!.ts).toEqual(at)
    expect(row!.d).toBeInstanceOf(Date)
    expect([...(row!.bytes as Uint8Array)]).toEqual([1, 2, 255])
  })

  it('returns full results in array mode and keeps duplicate column names by position', async () => {
    const result = await sql.query('SELECT $1::text AS a, $2::int AS a', ['dup', 7], {
      arrayMode: true,
      fullResults: true,
    })
    expect(result.rows).toEqual([['dup', 7]])
    expect(result.command).toBe('SELECT')
    expect(result.rowCount).toBe(1)
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['a', 25],
      ['a', 23],
    ])
    expect(await sql.query('SELECT $1::text AS a, $2::int AS a', ['dup', 7])).toEqual([{ a: 7 }])
  })

  it('reports command and rowCount for DDL, INSERT and UPDATE, with a null rowCount for CREATE', async () => {
    const table = `neon_test_ddl_${suffix}`
    const created = await sql.query(`CREATE TABLE ${table} (id int)`, [], { fullResults: true })
    expect(created).toMatchObject({ command: 'CREATE', rowCount: null, fields: [], rows: [] })
    const inserted = await sql.query(`INSERT INTO ${table} VALUES (1), (2), (3)`, [], { fullResults: true })
    expect(inserted).toMatchObject({ command: 'INSERT', rowCount: 3, fields: [], rows: [] })
    const updated = await sql.query(`UPDATE ${table} SET id = id + 1 WHERE id > 1`, [], { fullResults: true })
    expect(updated).toMatchObject({ command: 'UPDATE', rowCount: 2, rows: [] })
    const dropped = await sql.query(`DROP TABLE ${table}`, [], { fullResults: true })
    expect(dropped).toMatchObject({ command: 'DROP', rowCount: null })
  })

  it('rejects a syntax error with SQLSTATE 42601 and the error position', async () => {
    const error = await rejection(sql.query('SELECT 1 FROM WHERE'))
    expect(error).toBeInstanceOf(NeonDbError)
    expect(error.message).toBe('syntax error at or near "WHERE"')
    expect(error).toMatchObject({
      code: '42601',
      severity: 'ERROR',
      position: '15',
      routine: 'scanner_yyerror',
    })
  })

  it('rejects a duplicate key with SQLSTATE 23505 and the detail, schema, table and constraint', async () => {
    const error = await rejection(sql`INSERT INTO ${items} (name) VALUES ('a')`)
    expect(error.code).toBe('23505')
    expect(error).toMatchObject({
      detail: 'Key (name)=(a) already exists.',
      schema: 'public',
      table: itemsTable,
      constraint: `${itemsTable}_name_key`,
      hint: undefined,
      position: undefined,
    })
    expect(error.line).toMatch(/^\d+$/)
  })

  it('rejects several statements in one query string, as Neon does', async () => {
    const error = await rejection(sql.query('SELECT 1; SELECT 2'))
    expect(error.code).toBe('42601')
    expect(error.message).toBe('cannot insert multiple commands into a prepared statement')
  })

  it('runs a transaction as a single database transaction', async () => {
    const [first, second] = await sql.transaction([
      sql`SELECT pg_current_xact_id()::text AS xid, now()::text AS at`,
      sql`SELECT pg_current_xact_id()::text AS xid, now()::text AS at`,
    ])
    expect(first![0]!.xid).toBe(second![0]!.xid)
    expect(first![0]!.at).toBe(second![0]!.at)
  })

  it('rolls the whole transaction back when a later statement fails', async () => {
    const error = await rejection(
      sql.transaction([
        sql`INSERT INTO ${items} (name) VALUES ('c')`,
        sql`INSERT INTO ${items} (name) VALUES ('a')`,
      ]),
    )
    expect(error.code).toBe('23505')
    expect(await sql`SELECT name FROM ${items} ORDER BY name`).toEqual([{ name: 'a' }, { name: 'b' }])
  })

  it('refuses writes in a read-only transaction with SQLSTATE 25006', async () => {
    const error = await rejection(
      sql.transaction([sql`INSERT INTO ${items} (name) VALUES ('ro')`], { readOnly: true }),
    )
    expect(error.code).toBe('25006')
  })

  it('applies the isolation level, read-only and deferrable options to the transaction', async () => {
    const settings = (readOnly: boolean) =>
      sql.transaction(
        [sql`SHOW transaction_isolation`, sql`SHOW transaction_read_only`, sql`SHOW transaction_deferrable`],
        { isolationLevel: 'Serializable', readOnly, deferrable: true, arrayMode: true },
      )
    expect(await settings(true)).toEqual([[['serializable']], [['on']], [['on']]])
    // the driver sends Neon-Batch-Read-Only: false, which must not turn read-only on
    expect((await settings(false))[1]).toEqual([['off']])
  })

  it('rolls back a stray BEGIN so it never leaks into later requests', async () => {
    await sql`BEGIN`
    await rejection(sql`SELECT 1 / 0`)
    // On a leaked transaction these would fail with 25P02 (current transaction is aborted).
    for (let i = 0; i < 5; i++) expect(await sql`SELECT ${i}::int AS i`).toEqual([{ i }])
  })
})

describe('drizzle-orm/neon-http over the local endpoint', () => {
  const table = pgTable(drizzleTable, {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    meta: jsonb('meta').$type<{ tags: string[] }>(),
    big: bigint('big', { mode: 'bigint' }),
    price: numeric('price'),
    at: timestamp('at', { withTimezone: true }).notNull(),
  })
  const at = new Date('2025-03-04T05:06:07.089Z')
  let db: NeonHttpDatabase

  beforeAll(async () => {
    // Constructed here, not at import: drizzle() swaps the driver's global date parsers for strings.
    db = drizzle({ client: sql })
    await db.execute(
      dsql.raw(`CREATE TABLE ${drizzleTable} (id serial PRIMARY KEY, name text NOT NULL UNIQUE, meta jsonb,
        big bigint, price numeric, at timestamptz NOT NULL)`),
    )
  })

  it('inserts and returns jsonb, bigint, numeric and timestamptz values', async () => {
    const rows = await db
      .insert(table)
      .values({ name: 'x', meta: { tags: ['a', 'b'] }, big: 9007199254740993n, price: '12.340', at })
      .returning()
    expect(rows).toEqual([
      { id: 1, name: 'x', meta: { tags: ['a', 'b'] }, big: 9007199254740993n, price: '12.340', at },
    ])
  })

  it('selects the stored row back with the same values', async () => {
    const rows = await db.select().from(table).where(eq(table.name, 'x'))
    expect(rows).toEqual([
      { id: 1, name: 'x', meta: { tags: ['a', 'b'] }, big: 9007199254740993n, price: '12.340', at },
    ])
  })

  it('reports rowCount and command for an update without returning', async () => {
    const result = await db.update(table).set({ price: '1' }).where(eq(table.id, 1))
    expect(result).toMatchObject({ command: 'UPDATE', rowCount: 1, rows: [] })
  })

  it('runs db.batch in one transaction and returns each query result', async () => {
    const [inserted, counted] = await db.batch([
      db.insert(table).values({ name: 'y', at }).returning({ id: table.id }),
      db.select({ n: dsql<number>`count(*)::int` }).from(table),
    ])
    expect(inserted).toEqual([{ id: 2 }])
    expect(counted).toEqual([{ n: 2 }])
  })

  it('rolls the whole db.batch back when one of its queries fails', async () => {
    const error = await rejection(
      db.batch([db.insert(table).values({ name: 'z', at }), db.insert(table).values({ name: 'x', at })]),
    )
    expect(error.cause?.code ?? error.code).toBe('23505')
    expect(await db.select({ name: table.name }).from(table).orderBy(table.name)).toEqual([
      { name: 'x' },
      { name: 'y' },
    ])
  })
})

describe('the local endpoint wire protocol', () => {
  it('answers SQL errors with HTTP 400 and every error field present', async () => {
    const response = await post(JSON.stringify({ query: 'SELECT 1 FROM WHERE', params: [] }))
    expect(response.status).toBe(400)
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*')
    const body = (await response.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(
      [
        'message',
        'code',
        'detail',
        'hint',
        'position',
        'internalPosition',
        'internalQuery',
        'severity',
        'where',
      ]
        .concat(['table', 'column', 'schema', 'dataType', 'constraint', 'file', 'line', 'routine'])
        .sort(),
    )
    expect(body).toMatchObject({ code: '42601', position: '15', detail: null, hint: null, constraint: null })
    expect(body.line).toMatch(/^\d+$/)
  })

  it('turns a Neon-* flag on only for the literal string "true"', async () => {
    const query = JSON.stringify({ query: 'SELECT 1::int AS n, true AS t', params: [] })
    const off = await post(query, { 'Neon-Raw-Text-Output': 'TRUE', 'Neon-Array-Mode': '1' })
    expect(await off.json()).toMatchObject({ rows: [{ n: 1, t: true }], rowAsArray: false })
    const on = await post(query, { 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' })
    expect(await on.json()).toMatchObject({ rows: [['1', 't']], rowAsArray: true })
  })

  it('parses the body as JSON whatever the content type says', async () => {
    const response = await post(JSON.stringify({ query: 'SELECT $1::text AS v', params: ['ok'] }), {
      'Content-Type': 'application/x-www-form-urlencoded',
    })
    expect(await response.json()).toMatchObject({ rows: [{ v: 'ok' }], command: 'SELECT', rowCount: 1 })
  })

  it('echoes the batch isolation and read-only headers on a batch response', async () => {
    const response = await post(JSON.stringify({ queries: [{ query: 'SELECT 1 AS one', params: [] }] }), {
      'Neon-Batch-Isolation-Level': 'RepeatableRead',
      'Neon-Batch-Read-Only': 'true',
      'Neon-Batch-Deferrable': 'false',
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('Neon-Batch-Isolation-Level')).toBe('RepeatableRead')
    expect(response.headers.get('Neon-Batch-Read-Only')).toBe('true')
    expect(response.headers.get('Neon-Batch-Deferrable')).toBeNull()
    expect(await response.json()).toMatchObject({ results: [{ rows: [{ one: 1 }] }] })
  })

  it('rejects an unknown isolation level and a missing connection string with HTTP 400', async () => {
    const query = JSON.stringify({ queries: [{ query: 'SELECT 1', params: [] }] })
    const badLevel = await post(query, { 'Neon-Batch-Isolation-Level': 'Snapshot' })
    expect(badLevel.status).toBe(400)
    expect(await badLevel.json()).toMatchObject({ message: 'invalid isolation level', code: '' })
    const noConnection = await fetch(endpoint, { method: 'POST', body: query })
    expect(noConnection.status).toBe(400)
  })

  it('answers a CORS preflight with 204 and allows any origin', async () => {
    const response = await fetch(endpoint, { method: 'OPTIONS' })
    expect(response.status).toBe(204)
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*')
    expect(response.headers.get('Access-Control-Allow-Headers')).toContain('Neon-Connection-String')
  })

  it('counts /sql requests on the local stats route', async () => {
    const statsUrl = endpoint.replace(/\/sql$/, '/__stats')
    const before = ((await (await fetch(statsUrl)).json()) as { requests: number }).requests
    await sql`SELECT 1`
    const after = ((await (await fetch(statsUrl)).json()) as { requests: number }).requests
    expect(after).toBeGreaterThan(before)
  })
})
