// Migration 0011 converts an existing usage_logs in place into monthly partitions: run it on a database
// that holds rows written by the previous schema (in-process PGlite, the same SQL files npm run db:migrate
// applies) and check that every row, id, total and rollup survives.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { describe, expect, it } from 'vitest'

const dir = join(import.meta.dirname, '..', '..', 'migrations')

async function apply(db: PGlite, files: string[]) {
  for (const file of files)
    await db.exec((await readFile(join(dir, file), 'utf8')).replaceAll('--> statement-breakpoint', ''))
}

describe('migration 0011 (usage_logs partitioned by month)', () => {
  it('keeps every row, id, event and total, and rebuilds the rollups with project and price version', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
    const at = files.findIndex((f) => f.startsWith('0011_'))
    const db = new PGlite()
    await apply(db, files.slice(0, at))
    const key = '00000000-0000-4000-8000-000000000001'
    // 100 rows over the last 100 days: half with gateway UUID event ids, half with older free-form ones; a
    // key that moved from project p1 to p2 halfway.
    await db.exec(`
      INSERT INTO usage_logs (event_id, request_id, api_key_id, project_id, route, model, provider, status, cost_usd,
        latency_ms, created_at, price_model, price_effective_from, prompt_tokens, completion_tokens, total_tokens)
      SELECT CASE WHEN g % 2 = 0 THEN gen_random_uuid()::text ELSE 'evt-' || g END, 'req_' || g, '${key}',
        CASE WHEN g <= 50 THEN 'p1' ELSE 'p2' END, 'chat', 'm', CASE WHEN g % 3 = 0 THEN NULL ELSE 'openai-main' END,
        CASE WHEN g % 5 = 0 THEN 429 ELSE 200 END, 0.000001 * g, 10, now() - (g || ' days')::interval, 'm',
        '2026-01-01T00:00:00Z', g, 1, g + 1
      FROM generate_series(1, 100) g;
      INSERT INTO usage_daily (day, api_key_id, project_id, model, provider, requests)
      VALUES (current_date, '${key}', 'stale', 'm', '', 999);`)
    const before = (
      await db.query<{ ids: string; cost: string; events: string }>(
        `SELECT string_agg(id::text, ',' ORDER BY id) AS ids, sum(cost_usd)::text AS cost,
        string_agg(event_id, ',' ORDER BY id) AS events FROM usage_logs`,
      )
    ).rows[0]!

    await apply(db, files.slice(at))

    const after = (
      await db.query<{ ids: string; cost: string; charge: string }>(
        `SELECT string_agg(id::text, ',' ORDER BY id) AS ids, sum(cost_usd)::text AS cost, sum(charge_usd)::text AS charge
       FROM usage_logs`,
      )
    ).rows[0]!
    expect(after.ids).toBe(before.ids)
    expect(after.cost).toBe(before.cost)
    expect(after.charge).toBe(before.cost)
    // UUIDs kept as they were; anything else became the UUID of its MD5.
    const events = (
      await db.query<{ id: string; event_id: string }>(
        `SELECT event_id::text FROM usage_logs ORDER BY usage_logs.id`,
      )
    ).rows
    const old = before.events.split(',')
    for (const [i, row] of events.entries()) {
      if (/^[0-9a-f-]{36}$/.test(old[i]!)) expect(row.event_id).toBe(old[i])
      else expect(row.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/)
    }
    // Every row sits in its month's partition; the default partition is empty; months ahead exist.
    const parts = (
      await db.query<{ part: string; n: number }>(
        `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM usage_logs GROUP BY 1`,
      )
    ).rows
    expect(parts.every((p) => /^usage_logs_\d{4}_\d{2}$/.test(p.part))).toBe(true)
    const next = new Date()
    next.setUTCMonth(next.getUTCMonth() + 2, 1)
    const ahead = `usage_logs_${next.toISOString().slice(0, 7).replace('-', '_')}`
    expect((await db.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [ahead])).rows).toHaveLength(1)
    // New rows take the next ids, and a replayed event is a no-op.
    const inserted = await db.query<{ id: number }>(
      `INSERT INTO usage_logs (event_id, request_id, api_key_id, project_id, route, model, status, latency_ms)
       VALUES (gen_random_uuid(), 'r', '${key}', 'p2', 'chat', 'm', 200, 1) RETURNING id`,
    )
    expect(Number(inserted.rows[0]!.id)).toBe(101)
    // Both rollups rebuilt from the rows: per project (the stale row gone), with price versions.
    const daily = (
      await db.query<{ project_id: string; requests: string; versions: string }>(
        `SELECT project_id, sum(requests)::text AS requests, string_agg(DISTINCT price_version, ',') AS versions
       FROM usage_daily GROUP BY 1 ORDER BY 1`,
      )
    ).rows
    expect(daily).toEqual([
      { project_id: 'p1', requests: '50', versions: 'm@2026-01-01T00:00:00.000Z' },
      { project_id: 'p2', requests: '50', versions: 'm@2026-01-01T00:00:00.000Z' },
    ])
    const projectDaily = (
      await db.query<{ requests: string; cost: string }>(
        `SELECT sum(requests)::text AS requests, sum(cost_usd)::text AS cost FROM usage_project_daily`,
      )
    ).rows[0]!
    expect(projectDaily).toEqual({ requests: '100', cost: before.cost.replace(/(\.\d{12})\d*$/, '$1') })
    const keyDaily = (
      await db.query<{ requests: string }>(`SELECT sum(requests)::text AS requests FROM usage_key_daily`)
    ).rows
    expect(keyDaily).toEqual([{ requests: '100' }])
    await db.close()
  })
})
