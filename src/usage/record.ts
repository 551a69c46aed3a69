import { sql } from 'drizzle-orm'
import { describeDbError, isRowRejected, sqlState } from '../db/errors'
import { insertUsageRowsJson } from '../db/usage-rows'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { picoToUsdString } from '../lib/money'
import { keys } from '../redis/keys'
import { runSpoolStep } from '../redis/scripts/spool'
import type { MeterView } from './meter'

export type UsageRow = {
  event_id: string
  request_id: string
  api_key_id: string
  project_id: string
  route: string
  model: string
  provider: string | null
  upstream_model: string | null
  status: number
  error_code: string | null
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  tokens_estimated: boolean
  // Optional: rows spooled by an older deployment lack them.
  tokens_method?: string | null
  cache_read_tokens?: number
  cache_write_5m_tokens?: number
  cache_write_1h_tokens?: number
  reasoning_tokens?: number
  usage_source?: string
  cost_usd: string
  // What the key holder pays (cost × the project's price ratio); absent, it equals cost_usd.
  charge_usd?: string
  price_model?: string | null
  price_effective_from?: string | null
  latency_ms: number
  ttfb_ms: number | null
  stream: boolean
  attempts: number
  // Whether the conversation's pin held: hit | new | moved; null without a pin (docs/affinity.md).
  affinity?: string | null
  created_at: string
  // The stored upstream key that served it, for that key's last_used_at (not a usage_logs column).
  provider_key_id?: string | null
}

const INT32_MAX = 2 ** 31 - 1
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const MODEL_MAX = 200
// C0 control characters: Postgres text refuses NUL (SQLSTATE 22021) and the rest have no place in
// these fields. Lone UTF-16 surrogates (a client can send them as JSON escapes, or a cut can leave
// one) do not survive the trip to Postgres either, so they become U+FFFD.
const CONTROL = /[\u0000-\u001f]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

// Text with neither (almost every field of almost every row) is kept as it is, after one test.
const CLEAN = /^[^\u0000-\u001f\ud800-\udfff]*$/

function cleanText(value: unknown, max = Infinity): string {
  const raw = String(value ?? '')
  if (raw.length <= max && CLEAN.test(raw)) return raw
  const text = raw.replace(CONTROL, '')
  return (text.length > max ? text.slice(0, max) : text).replace(LONE_SURROGATE, '\ufffd')
}

function cleanTextOrNull(value: unknown, max?: number): string | null {
  return value === null || value === undefined ? null : cleanText(value, max)
}

// A non-negative integer that fits Postgres `integer`.
function cleanInt(value: unknown): number {
  const n = Math.trunc(Number(value))
  return Number.isNaN(n) ? 0 : Math.min(INT32_MAX, Math.max(0, n))
}

// Every field in a shape Postgres accepts for usage_logs: a row that can never be inserted would only
// sit in the spool. Client-controlled text (the model name) is the usual culprit.
function sanitizeRow(row: UsageRow): UsageRow {
  const promptTokens = cleanInt(row.prompt_tokens)
  const completionTokens = cleanInt(row.completion_tokens)
  return {
    ...row,
    event_id: cleanText(row.event_id),
    request_id: cleanText(row.request_id),
    api_key_id: cleanText(row.api_key_id),
    project_id: cleanText(row.project_id),
    route: cleanText(row.route),
    model: cleanText(row.model, MODEL_MAX),
    provider: cleanTextOrNull(row.provider),
    upstream_model: cleanTextOrNull(row.upstream_model, MODEL_MAX),
    price_model: cleanTextOrNull(row.price_model, MODEL_MAX),
    tokens_method: cleanTextOrNull(row.tokens_method, 40),
    status: cleanInt(row.status),
    error_code: cleanTextOrNull(row.error_code),
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: cleanInt(promptTokens + completionTokens),
    // Parts of the totals: never more than them.
    cache_read_tokens: Math.min(cleanInt(row.cache_read_tokens), promptTokens),
    cache_write_5m_tokens: Math.min(cleanInt(row.cache_write_5m_tokens), promptTokens),
    cache_write_1h_tokens: Math.min(cleanInt(row.cache_write_1h_tokens), promptTokens),
    reasoning_tokens: Math.min(cleanInt(row.reasoning_tokens), completionTokens),
    usage_source: cleanText(row.usage_source ?? 'upstream', 20),
    latency_ms: cleanInt(row.latency_ms),
    ttfb_ms: row.ttfb_ms === null || row.ttfb_ms === undefined ? null : cleanInt(row.ttfb_ms),
    attempts: cleanInt(row.attempts),
    affinity: cleanTextOrNull(row.affinity, 10),
    provider_key_id: UUID.test(String(row.provider_key_id)) ? row.provider_key_id : null,
  }
}

export function toRow(draft: MeterView, endedAt: number): UsageRow {
  return sanitizeRow({
    event_id: draft.eventId,
    request_id: draft.requestId,
    api_key_id: draft.apiKeyId,
    project_id: draft.projectId,
    route: draft.route,
    model: draft.model,
    provider: draft.provider,
    upstream_model: draft.upstreamModel,
    status: draft.status,
    error_code: draft.errorCode,
    prompt_tokens: draft.promptTokens,
    completion_tokens: draft.completionTokens,
    total_tokens: draft.promptTokens + draft.completionTokens,
    tokens_estimated: draft.tokensEstimated,
    tokens_method: draft.tokensMethod,
    cache_read_tokens: draft.usage.cacheRead,
    cache_write_5m_tokens: draft.usage.cacheWrite5m,
    cache_write_1h_tokens: draft.usage.cacheWrite1h,
    reasoning_tokens: draft.usage.reasoning,
    usage_source: draft.usageSource,
    cost_usd: picoToUsdString(draft.costPico),
    charge_usd: picoToUsdString(draft.chargePico),
    price_model: draft.price?.model ?? null,
    price_effective_from: draft.price ? new Date(draft.price.effectiveFrom).toISOString() : null,
    latency_ms: Math.max(0, Math.round(endedAt - draft.startedAt)),
    ttfb_ms: draft.ttfbMs,
    stream: draft.stream,
    attempts: draft.attempts,
    affinity: draft.affinity,
    created_at: new Date(draft.startedAt).toISOString(),
    provider_key_id: draft.providerKeyId,
  })
}

// The rollup's price version of an inserted row: "<price model>@<effective_from ISO>", '' when none.
const PRICE_VERSION = sql.raw(
  `coalesce(price_model || '@' || to_char(price_effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`,
)

// The sums a rollup row adds up, as the ON CONFLICT update of both rollups.
const ADD_SUMS = sql.raw(`requests = d.requests + EXCLUDED.requests, success = d.success + EXCLUDED.success,
  failed = d.failed + EXCLUDED.failed, prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
  completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
  total_tokens = d.total_tokens + EXCLUDED.total_tokens, cost_usd = d.cost_usd + EXCLUDED.cost_usd,
  charge_usd = d.charge_usd + EXCLUDED.charge_usd, cache_read_tokens = d.cache_read_tokens + EXCLUDED.cache_read_tokens,
  cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,
  reasoning_tokens = d.reasoning_tokens + EXCLUDED.reasoning_tokens`)

// One statement: the row (idempotent on event_id), its daily rollups and the last_used_at of the virtual
// key and of the stored upstream key that served it. The rollups only count a row that was actually
// inserted, so replaying the spool never double counts.
async function insertUsage(deps: Deps, row: UsageRow): Promise<void> {
  const ok = row.status >= 200 && row.status < 400 ? 1 : 0
  await deps.db.execute(sql`
    WITH ins AS (
      INSERT INTO usage_logs (event_id, request_id, api_key_id, project_id, route, model, provider, upstream_model,
        status, error_code, prompt_tokens, completion_tokens, total_tokens, tokens_estimated, tokens_method, cost_usd,
        price_model, price_effective_from, latency_ms, ttfb_ms, stream, attempts, created_at, cache_read_tokens,
        cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, usage_source, charge_usd, affinity)
      VALUES (${row.event_id}, ${row.request_id}, ${row.api_key_id}, ${row.project_id}, ${row.route}, ${row.model},
        ${row.provider}, ${row.upstream_model}, ${row.status}, ${row.error_code}, ${row.prompt_tokens},
        ${row.completion_tokens}, ${row.total_tokens}, ${row.tokens_estimated}, ${row.tokens_method ?? null},
        ${row.cost_usd}, ${row.price_model ?? null}, ${row.price_effective_from ?? null}, ${row.latency_ms},
        ${row.ttfb_ms}, ${row.stream}, ${row.attempts}, ${row.created_at}, ${row.cache_read_tokens ?? 0},
        ${row.cache_write_5m_tokens ?? 0}, ${row.cache_write_1h_tokens ?? 0}, ${row.reasoning_tokens ?? 0},
        ${row.usage_source ?? 'upstream'}, ${row.charge_usd ?? row.cost_usd}, ${row.affinity ?? null})
      ON CONFLICT (event_id, created_at) DO NOTHING
      RETURNING api_key_id, project_id, model, created_at, charge_usd, ${PRICE_VERSION} AS price_version
    ), rollup AS (
      INSERT INTO usage_daily AS d (day, project_id, api_key_id, model, provider, price_version, requests, success,
        failed, prompt_tokens, completion_tokens, total_tokens, cost_usd, charge_usd, cache_read_tokens,
        cache_write_tokens, reasoning_tokens)
      SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, api_key_id, model, ${row.provider ?? ''}::text,
        price_version, 1, ${ok}::int, ${1 - ok}::int, ${row.prompt_tokens}::int, ${row.completion_tokens}::int,
        ${row.total_tokens}::int, ${row.cost_usd}::numeric, charge_usd, ${row.cache_read_tokens ?? 0}::int,
        ${(row.cache_write_5m_tokens ?? 0) + (row.cache_write_1h_tokens ?? 0)}::int, ${row.reasoning_tokens ?? 0}::int
      FROM ins
      ON CONFLICT (day, project_id, api_key_id, model, provider, price_version) DO UPDATE SET ${ADD_SUMS}
    ), project_rollup AS (
      INSERT INTO usage_project_daily AS d (day, project_id, model, provider, price_version, requests, success,
        failed, prompt_tokens, completion_tokens, total_tokens, cost_usd, charge_usd, cache_read_tokens,
        cache_write_tokens, reasoning_tokens)
      SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, model, ${row.provider ?? ''}::text, price_version, 1,
        ${ok}::int, ${1 - ok}::int, ${row.prompt_tokens}::int, ${row.completion_tokens}::int,
        ${row.total_tokens}::int, ${row.cost_usd}::numeric, charge_usd, ${row.cache_read_tokens ?? 0}::int,
        ${(row.cache_write_5m_tokens ?? 0) + (row.cache_write_1h_tokens ?? 0)}::int, ${row.reasoning_tokens ?? 0}::int
      FROM ins
      ON CONFLICT (day, project_id, model, provider, price_version) DO UPDATE SET ${ADD_SUMS}
    ), key_rollup AS (
      INSERT INTO usage_key_daily AS d (day, project_id, api_key_id, requests, success, failed, prompt_tokens,
        completion_tokens, total_tokens, cost_usd, charge_usd, cache_read_tokens, cache_write_tokens,
        reasoning_tokens)
      SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, api_key_id, 1, ${ok}::int, ${1 - ok}::int,
        ${row.prompt_tokens}::int, ${row.completion_tokens}::int, ${row.total_tokens}::int, ${row.cost_usd}::numeric,
        charge_usd, ${row.cache_read_tokens ?? 0}::int,
        ${(row.cache_write_5m_tokens ?? 0) + (row.cache_write_1h_tokens ?? 0)}::int, ${row.reasoning_tokens ?? 0}::int
      FROM ins
      ON CONFLICT (day, project_id, api_key_id) DO UPDATE SET ${ADD_SUMS}
    ), provider_key AS (
      UPDATE provider_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 'epoch'), ${row.created_at}::timestamptz)
      WHERE id = ${row.provider_key_id ?? null}::uuid
    )
    UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 'epoch'), ${row.created_at}::timestamptz)
    WHERE id = ${row.api_key_id}`)
}

// Any number of rows in one statement (db/usage-rows.ts: the rows travel as one JSON parameter of a
// statement text built once), the same rows and rollups as insertUsage. The spool drain keeps
// insertUsage, whose row-by-row parameters name the exact SQLSTATE of a row Postgres refuses.
const insertUsageRows = (deps: Deps, rows: UsageRow[]) => insertUsageRowsJson(deps.db, JSON.stringify(rows))

// recordUsage for a batch: one statement for all rows. If Postgres refuses the batch for some row's
// data, each row is recorded on its own (sanitized, retried, dead-lettered as below), so one bad row
// costs no other row; if Postgres is unreachable (or the batch deadlocks twice), the whole batch goes
// to the spool in one Redis call.
export async function recordUsageRows(deps: Deps, rows: UsageRow[]): Promise<void> {
  if (rows.length === 1) return recordUsage(deps, rows[0]!)
  let failure: unknown
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await insertUsageRows(deps, rows)
      return
    } catch (error) {
      failure = error
      if (sqlState(error)?.code !== DEADLOCK) break
    }
  }
  if (isRowRejected(failure)) {
    log('warn', 'usage batch rejected by Postgres; writing its rows one by one', {
      rows: rows.length,
      ...describeDbError(failure),
    })
    for (const row of rows) await recordUsage(deps, row)
    return
  }
  log('warn', 'usage rows not written to Postgres; spooling', {
    request_ids: rows.map((r) => r.request_id),
    ...describeDbError(failure),
  })
  try {
    await deps.redis.rpush(keys.usageSpool(), ...rows.map((row) => JSON.stringify(row)))
  } catch (error) {
    for (const row of rows) log('error', 'usage row lost to both stores', { row, ...describeDbError(error) })
  }
}

const DEADLOCK = '40P01'

// Postgres first; if it is unreachable the row waits in a Redis list for the cron drain; if Redis is
// down too, the row goes to the log as the last place it can survive (rows hold ids, counts and model
// names, never key material). A row Postgres refuses for its data is sanitized and tried once more;
// if it is still refused it goes to the dead-letter list rather than the spool, where it would never
// insert. Logs carry error names and SQLSTATEs only: drizzle's messages embed the query parameters.
export async function recordUsage(deps: Deps, row: UsageRow): Promise<void> {
  let pending = row
  try {
    await insertUsageRows(deps, [row])
    return
  } catch (error) {
    let failure = error
    if (isRowRejected(error)) {
      pending = sanitizeRow(row)
      try {
        await insertUsage(deps, pending)
        log('warn', 'usage row sanitized after Postgres rejected it', {
          request_id: row.request_id,
          event_id: row.event_id,
          ...describeDbError(error),
        })
        return
      } catch (retryError) {
        if (isRowRejected(retryError)) return deadLetter(deps, pending, retryError)
        failure = retryError
      }
    }
    log('warn', 'usage row not written to Postgres; spooling', {
      request_id: row.request_id,
      ...describeDbError(failure),
    })
  }
  try {
    await deps.redis.rpush(keys.usageSpool(), JSON.stringify(pending))
  } catch (error) {
    log('error', 'usage row lost to both stores', { row: pending, ...describeDbError(error) })
  }
}

async function deadLetter(deps: Deps, row: UsageRow, error: unknown): Promise<void> {
  log('warn', 'usage row rejected by Postgres; dead-lettered', {
    request_id: row.request_id,
    event_id: row.event_id,
    ...describeDbError(error),
  })
  try {
    await deps.redis.rpush(keys.usageSpoolDead(), JSON.stringify(row))
  } catch (redisError) {
    log('error', 'usage row lost to both stores', { row, ...describeDbError(redisError) })
  }
}

const DRAIN_BATCH = 200

type Outcome = 'written' | 'rejected' | { unavailable: unknown }

function parseSpooled(raw: string): UsageRow {
  const row: unknown = JSON.parse(raw)
  if (!row || typeof row !== 'object' || Array.isArray(row)) throw new TypeError('not a usage row')
  if (typeof (row as UsageRow).event_id !== 'string') throw new TypeError('usage row without event_id')
  return row as UsageRow
}

async function drainOne(deps: Deps, raw: string): Promise<Outcome> {
  let row: UsageRow
  try {
    row = parseSpooled(raw)
  } catch (error) {
    log('warn', 'unreadable spooled usage row; dead-lettered', { error: (error as Error).name })
    return 'rejected'
  }
  try {
    await insertUsage(deps, row)
    return 'written'
  } catch (error) {
    if (!isRowRejected(error)) return { unavailable: error }
    log('warn', 'spooled usage row rejected by Postgres; dead-lettered', {
      request_id: row.request_id,
      event_id: row.event_id,
      ...describeDbError(error),
    })
    return 'rejected'
  }
}

// Writes the spooled rows, oldest first. Rows are read with LRANGE and trimmed only once handled, so
// a drain killed midway loses nothing (a replayed row is a no-op: inserts are idempotent on event_id).
// A row Postgres rejects for its data moves to the dead-letter list and the drain goes on; a failure
// to reach Postgres stops the drain with that row and everything after it kept for the next run.
export async function drainUsageSpool(deps: Deps): Promise<number> {
  const lists = { spool: keys.usageSpool(), dead: keys.usageSpoolDead() }
  let written = 0
  let step = await runSpoolStep(deps.redis, lists, { handled: null, read: DRAIN_BATCH })
  for (;;) {
    if (step.kind === 'overtaken') return written // another drain trimmed these rows first: it carries on
    const items = step.rows
    if (items.length === 0) return written
    const dead: string[] = []
    let handled = 0
    let unavailable: { unavailable: unknown } | null = null
    for (const item of items) {
      const outcome = await drainOne(deps, item)
      if (typeof outcome === 'object') {
        unavailable = outcome
        break
      }
      if (outcome === 'written') written++
      else dead.push(item)
      handled++
    }
    if (unavailable) {
      log('warn', 'usage spool drain stopped: Postgres unavailable', {
        ...describeDbError(unavailable.unavailable),
      })
    }
    if (handled === 0) return written
    step = await runSpoolStep(deps.redis, lists, {
      handled: { count: handled, first: items[0]!, last: items[handled - 1]!, rejected: dead },
      read: unavailable ? 0 : DRAIN_BATCH,
    })
    if (unavailable) return written
  }
}
