import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm'
import { usageLogs as u } from '../../drizzle/schema'
import type { Db } from './client'
import { pastCursor, type UsageLogCursor } from './usage-report'

export type ExportFilter = { from: Date; to: Date; projectId?: string; apiKeyId?: string }
// A page of the export: its rows' NDJSON lines (the usage log as the API serializes it, without the object
// tag) joined by newlines, how many, and the last row's place in the (created_at, id) order.
export type ExportPage = { lines: string; rows: number; last: UsageLogCursor | undefined }

const isoMs = (column: SQL | typeof u.createdAt) =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

// The fields of admin/serialize.ts serializeUsageLog, in its order, as JSON built by Postgres: a row
// crosses the wire as one text value instead of thirty, and the Worker only joins lines (a test holds the
// two to the same output). Numbers and booleans as JSON, cost as its exact decimal string, instants as ISO.
const FIELDS: [string, SQL][] = [
  ['id', sql`${u.id}`],
  ['created_at', isoMs(u.createdAt)],
  ['request_id', sql`${u.requestId}`],
  ['api_key_id', sql`${u.apiKeyId}::text`],
  ['project_id', sql`${u.projectId}`],
  ['route', sql`${u.route}`],
  ['model', sql`${u.model}`],
  ['provider', sql`${u.provider}`],
  ['upstream_model', sql`${u.upstreamModel}`],
  ['status', sql`${u.status}`],
  ['error_code', sql`${u.errorCode}`],
  ['stream', sql`${u.stream}`],
  ['prompt_tokens', sql`${u.promptTokens}`],
  ['completion_tokens', sql`${u.completionTokens}`],
  ['total_tokens', sql`${u.totalTokens}`],
  ['cache_read_tokens', sql`${u.cacheReadTokens}`],
  ['cache_write_5m_tokens', sql`${u.cacheWrite5mTokens}`],
  ['cache_write_1h_tokens', sql`${u.cacheWrite1hTokens}`],
  ['reasoning_tokens', sql`${u.reasoningTokens}`],
  ['usage_source', sql`${u.usageSource}`],
  ['tokens_estimated', sql`${u.tokensEstimated}`],
  ['tokens_method', sql`${u.tokensMethod}`],
  ['cost_usd', sql`${u.costUsd}::text`],
  ['charge_usd', sql`${u.chargeUsd}::text`],
  ['price_model', sql`${u.priceModel}`],
  ['price_effective_from', isoMs(sql`${u.priceEffectiveFrom}`)],
  ['latency_ms', sql`${u.latencyMs}`],
  ['ttfb_ms', sql`${u.ttfbMs}`],
  ['attempts', sql`${u.attempts}`],
  ['affinity', sql`${u.affinity}`],
  ['event_id', sql`${u.eventId}::text`],
]
export const EXPORT_COLUMNS = FIELDS.map(([name]) => name)

const line = sql.join(
  [
    sql.raw(`'{' ||`),
    sql.join(
      FIELDS.map(
        ([name, value]) =>
          sql`${sql.raw(`'${JSON.stringify(name)}:'`)} || coalesce(to_json(${value})::text, 'null')`,
      ),
      sql.raw(` || ',' || `),
    ),
    sql.raw(`|| '}'`),
  ],
  sql.raw(' '),
)

// One page of an export, oldest first, keyset-paginated on (created_at, id) inside the window: each page
// is an index seek into the months the window covers, so the last page of an old month costs what the
// first does. Postgres joins the page's lines into one text: a page crosses the wire as one value.
export async function exportPage(
  db: Db,
  filter: ExportFilter,
  after: UsageLogCursor | undefined,
  limit: number,
): Promise<ExportPage> {
  const page = db
    .select({ line: sql<string>`${line}`.as('line'), id: u.id, createdAt: u.createdAt })
    .from(u)
    .where(
      and(
        gte(u.createdAt, filter.from),
        lt(u.createdAt, filter.to),
        pastCursor(after, 'after'),
        filter.projectId === undefined ? undefined : eq(u.projectId, filter.projectId),
        filter.apiKeyId === undefined ? undefined : eq(u.apiKeyId, filter.apiKeyId),
      ),
    )
    .orderBy(sql`${u.createdAt}, ${u.id}`)
    .limit(limit)
    .as('page')
  const [row] = await db
    .select({
      text: sql<string>`coalesce(string_agg(${page.line}, e'\n' order by ${page.createdAt}, ${page.id}), '')`,
      rows: sql<number>`count(*)::int`,
      lastId: sql<
        string | null
      >`(array_agg(${page.id} order by ${page.createdAt} desc, ${page.id} desc))[1]::text`,
      lastAt: sql<
        string | null
      >`to_char(max(${page.createdAt}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(page)
  const { text, rows, lastId, lastAt } = row!
  return { lines: text, rows, last: lastId && lastAt ? { at: lastAt, id: Number(lastId) } : undefined }
}
