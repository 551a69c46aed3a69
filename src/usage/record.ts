import { sql } from 'drizzle-orm'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { picoToUsdString } from '../lib/money'
import { keys } from '../redis/keys'
import type { UsageDraft } from './draft'

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
  cost_usd: string
  latency_ms: number
  ttfb_ms: number | null
  stream: boolean
  attempts: number
  created_at: string
}

export function toRow(draft: UsageDraft, endedAt: number): UsageRow {
  return {
    event_id: draft.eventId,
    request_id: draft.requestId,
    api_key_id: draft.apiKeyId,
    project_id: draft.projectId,
    route: draft.route,
    model: draft.model.slice(0, 200),
    provider: draft.provider,
    upstream_model: draft.upstreamModel,
    status: draft.status,
    error_code: draft.errorCode,
    prompt_tokens: draft.promptTokens,
    completion_tokens: draft.completionTokens,
    total_tokens: draft.promptTokens + draft.completionTokens,
    tokens_estimated: draft.tokensEstimated,
    cost_usd: picoToUsdString(draft.costPico),
    latency_ms: Math.max(0, Math.round(endedAt - draft.startedAt)),
    ttfb_ms: draft.ttfbMs,
    stream: draft.stream,
    attempts: draft.attempts,
    created_at: new Date(draft.startedAt).toISOString(),
  }
}

// One statement: the row (idempotent on event_id), its daily rollup and the key's last_used_at. The
// rollup only counts a row that was actually inserted, so replaying the spool never double counts.
export async function insertUsage(deps: Deps, row: UsageRow): Promise<void> {
  const ok = row.status >= 200 && row.status < 400 ? 1 : 0
  await deps.db.execute(sql`
    WITH ins AS (
      INSERT INTO usage_logs (event_id, request_id, api_key_id, project_id, route, model, provider, upstream_model,
        status, error_code, prompt_tokens, completion_tokens, total_tokens, tokens_estimated, cost_usd, latency_ms,
        ttfb_ms, stream, attempts, created_at)
      VALUES (${row.event_id}, ${row.request_id}, ${row.api_key_id}, ${row.project_id}, ${row.route}, ${row.model},
        ${row.provider}, ${row.upstream_model}, ${row.status}, ${row.error_code}, ${row.prompt_tokens},
        ${row.completion_tokens}, ${row.total_tokens}, ${row.tokens_estimated}, ${row.cost_usd}, ${row.latency_ms},
        ${row.ttfb_ms}, ${row.stream}, ${row.attempts}, ${row.created_at})
      ON CONFLICT (event_id) DO NOTHING
      RETURNING api_key_id, project_id, model, created_at
    ), rollup AS (
      INSERT INTO usage_daily AS d (day, api_key_id, project_id, model, provider, requests, success, failed,
        prompt_tokens, completion_tokens, total_tokens, cost_usd)
      SELECT (created_at AT TIME ZONE 'UTC')::date, api_key_id, project_id, model, ${row.provider ?? ''}::text, 1,
        ${ok}::int, ${1 - ok}::int, ${row.prompt_tokens}::int, ${row.completion_tokens}::int, ${row.total_tokens}::int,
        ${row.cost_usd}::numeric
      FROM ins
      ON CONFLICT (day, api_key_id, model, provider) DO UPDATE SET
        requests = d.requests + 1, success = d.success + EXCLUDED.success, failed = d.failed + EXCLUDED.failed,
        prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
        total_tokens = d.total_tokens + EXCLUDED.total_tokens, cost_usd = d.cost_usd + EXCLUDED.cost_usd
    )
    UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 'epoch'), ${row.created_at}::timestamptz)
    WHERE id = ${row.api_key_id}`)
}

// Postgres first; if it is unreachable the row waits in a Redis list for the cron drain; if Redis is
// down too, the row goes to the log as the last place it can survive.
export async function recordUsage(deps: Deps, row: UsageRow): Promise<void> {
  try {
    await insertUsage(deps, row)
    return
  } catch (error) {
    log('warn', 'usage row not written to Postgres; spooling', {
      request_id: row.request_id,
      error: (error as Error).message,
    })
  }
  try {
    await deps.redis.rpush(keys.usageSpool(), JSON.stringify(row))
  } catch (error) {
    log('error', 'usage row lost to both stores', { row, error: (error as Error).message })
  }
}

const DRAIN_BATCH = 200

export async function drainUsageSpool(deps: Deps): Promise<number> {
  let written = 0
  for (;;) {
    const items = await deps.redis.lpop<unknown[]>(keys.usageSpool(), DRAIN_BATCH)
    if (!items || items.length === 0) return written
    for (const [i, item] of items.entries()) {
      const row = (typeof item === 'string' ? JSON.parse(item) : item) as UsageRow
      try {
        await insertUsage(deps, row)
        written++
      } catch {
        // Postgres is still down: put back what is left, oldest first, and stop.
        const rest = items.slice(i).map((r) => (typeof r === 'string' ? r : JSON.stringify(r)))
        await deps.redis.lpush(keys.usageSpool(), ...rest.reverse())
        return written
      }
    }
  }
}
