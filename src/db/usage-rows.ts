import type { Db } from './client'

// The rollup's price version of an inserted row: "<price model>@<effective_from ISO>", '' when none.
const PRICE_VERSION = `coalesce(price_model || '@' || to_char(price_effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`

// The sums a rollup row adds up, as the ON CONFLICT update of both rollups.
const ADD_SUMS = `requests = d.requests + EXCLUDED.requests, success = d.success + EXCLUDED.success,
  failed = d.failed + EXCLUDED.failed, prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
  completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
  total_tokens = d.total_tokens + EXCLUDED.total_tokens, cost_usd = d.cost_usd + EXCLUDED.cost_usd,
  charge_usd = d.charge_usd + EXCLUDED.charge_usd, cache_read_tokens = d.cache_read_tokens + EXCLUDED.cache_read_tokens,
  cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,
  reasoning_tokens = d.reasoning_tokens + EXCLUDED.reasoning_tokens`
const SUMS = `count(*), count(*) FILTER (WHERE status >= 200 AND status < 400),
  count(*) FILTER (WHERE status < 200 OR status >= 400), sum(prompt_tokens), sum(completion_tokens),
  sum(total_tokens), sum(cost_usd), sum(charge_usd), sum(cache_read_tokens), sum(cache_write_tokens),
  sum(reasoning_tokens)`
const SUM_COLUMNS = `requests, success, failed, prompt_tokens, completion_tokens, total_tokens, cost_usd,
  charge_usd, cache_read_tokens, cache_write_tokens, reasoning_tokens`

// Many rows in one statement (the rows travel as one JSON parameter, $1): each rollup gets one upsert
// per group (per key and model in usage_daily, per project in usage_project_daily, per key in
// usage_key_daily) and each virtual and upstream
// key's last_used_at is set once. Only inserted rows are rolled up, so replaying the spool never double
// counts. Rollup rows are upserted in the conflict key's order, so concurrent batches lock them in the
// same order. The text is built once: the hot path sends it through the driver without the query builder.
const INSERT_USAGE_ROWS = `
    WITH v AS (
      SELECT * FROM json_to_recordset($1::json) AS v(event_id text, request_id text,
        api_key_id uuid, project_id text, route text, model text, provider text, upstream_model text, status int,
        error_code text, prompt_tokens int, completion_tokens int, total_tokens int, tokens_estimated boolean,
        tokens_method text, cost_usd numeric, price_model text, price_effective_from timestamptz, latency_ms int,
        ttfb_ms int, stream boolean, attempts int, created_at timestamptz, provider_key_id uuid,
        cache_read_tokens int, cache_write_5m_tokens int, cache_write_1h_tokens int, reasoning_tokens int,
        usage_source text, charge_usd numeric, affinity text)
    ), ins AS (
      INSERT INTO usage_logs (event_id, request_id, api_key_id, project_id, route, model, provider, upstream_model,
        status, error_code, prompt_tokens, completion_tokens, total_tokens, tokens_estimated, tokens_method, cost_usd,
        price_model, price_effective_from, latency_ms, ttfb_ms, stream, attempts, created_at, cache_read_tokens,
        cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, usage_source, charge_usd, affinity)
      SELECT event_id::uuid, request_id, api_key_id, project_id, route, model, provider, upstream_model, status, error_code,
        prompt_tokens, completion_tokens, total_tokens, tokens_estimated, tokens_method, cost_usd, price_model,
        price_effective_from, latency_ms, ttfb_ms, stream, attempts, created_at, coalesce(cache_read_tokens, 0),
        coalesce(cache_write_5m_tokens, 0), coalesce(cache_write_1h_tokens, 0), coalesce(reasoning_tokens, 0),
        coalesce(usage_source, 'upstream'), coalesce(charge_usd, cost_usd), affinity
      FROM v
      ON CONFLICT (event_id, created_at) DO NOTHING
      RETURNING api_key_id, project_id, model, provider, status, prompt_tokens, completion_tokens, total_tokens,
        cost_usd, charge_usd, created_at, cache_read_tokens,
        cache_write_5m_tokens + cache_write_1h_tokens AS cache_write_tokens, reasoning_tokens,
        ${PRICE_VERSION} AS price_version
    ), rollup AS (
      INSERT INTO usage_daily AS d (day, project_id, api_key_id, model, provider, price_version, ${SUM_COLUMNS})
      SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, api_key_id, model, coalesce(provider, ''),
        price_version, ${SUMS}
      FROM ins
      GROUP BY 1, 2, 3, 4, 5, 6
      ORDER BY 1, 2, 3, 4, 5, 6
      ON CONFLICT (day, project_id, api_key_id, model, provider, price_version) DO UPDATE SET ${ADD_SUMS}
    ), project_rollup AS (
      INSERT INTO usage_project_daily AS d (day, project_id, model, provider, price_version, ${SUM_COLUMNS})
      SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, model, coalesce(provider, ''), price_version, ${SUMS}
      FROM ins
      GROUP BY 1, 2, 3, 4, 5
      ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (day, project_id, model, provider, price_version) DO UPDATE SET ${ADD_SUMS}
    ), key_rollup AS (
      INSERT INTO usage_key_daily AS d (day, project_id, api_key_id, ${SUM_COLUMNS})
      SELECT (created_at AT TIME ZONE 'UTC')::date, project_id, api_key_id, ${SUMS}
      FROM ins
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3
      ON CONFLICT (day, project_id, api_key_id) DO UPDATE SET ${ADD_SUMS}
    ), provider_key AS (
      UPDATE provider_keys pk SET last_used_at = GREATEST(COALESCE(pk.last_used_at, 'epoch'), u.at)
      FROM (SELECT provider_key_id, max(created_at) AS at FROM v WHERE provider_key_id IS NOT NULL
        GROUP BY provider_key_id) u
      WHERE pk.id = u.provider_key_id
    )
    UPDATE api_keys k SET last_used_at = GREATEST(COALESCE(k.last_used_at, 'epoch'), u.at)
    FROM (SELECT api_key_id, max(created_at) AS at FROM v GROUP BY api_key_id) u
    WHERE k.id = u.api_key_id`

// `rowsJson` is the rows as one JSON array (the usage row shape of usage/record.ts).
export async function insertUsageRowsJson(db: Db, rowsJson: string): Promise<void> {
  await db.$client.query(INSERT_USAGE_ROWS, [rowsJson])
}
