import * as z from 'zod/mini'
import { findProject } from '../db/projects'
import { statementRows, type StatementSums } from '../db/statement'
import { picoToUsdString, usdToPico } from '../lib/money'
import { startOfNextUtcMonth } from '../lib/time'
import type { Admin } from './context'
import { cacheReadShare } from '../db/usage-report'
import { toCsv } from './csv'
import { notFound, storedText } from './query'

// A project's monthly statement: per model and provider, what its keys used and what it cost, with the
// price versions applied; totals are the sums over the same usage rows (read from their daily rollup).
export const StatementQuery = z.object({
  // Years before 1970 are shifted by the driver and a month after 9998-12 ends past what a date holds.
  month: z.optional(
    z.string().check(
      z.regex(
        /^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/,
        'must be a month, YYYY-MM, from 1970-01 to 9998-12.',
      ),
      z.refine((month) => month < '9999', 'must be a month, YYYY-MM, from 1970-01 to 9998-12.'),
    ),
  ),
  format: z._default(z.enum(['json', 'csv']), 'json'),
})
export type StatementQuery = z.infer<typeof StatementQuery>

const COUNTS = [
  'requests',
  'success',
  'failed',
  'prompt_tokens',
  'input_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'completion_tokens',
  'total_tokens',
] as const

// Money exact, 12 decimals: what the upstreams cost, what the key holders were charged (cost × the
// project's price ratio at the time), and the difference.
function numbers(row: StatementSums) {
  return {
    ...Object.fromEntries(COUNTS.map((name) => [name, Number(row[name])])),
    cost_usd: row.cost_usd,
    charge_usd: row.charge_usd,
    margin_usd: picoToUsdString(usdToPico(row.charge_usd) - usdToPico(row.cost_usd)),
    cache_read_share: cacheReadShare(Number(row.cache_read_tokens), Number(row.prompt_tokens)),
  } as Record<(typeof COUNTS)[number], number> & {
    cost_usd: string
    charge_usd: string
    margin_usd: string
    cache_read_share: number | null
  }
}

export async function projectStatement(admin: Admin, projectId: string, q: StatementQuery) {
  storedText(projectId, 'id')
  const project = await findProject(admin.deps.db, projectId)
  if (!project) throw notFound('project', projectId)
  const month = q.month ?? new Date(admin.deps.now()).toISOString().slice(0, 7)
  const from = new Date(`${month}-01T00:00:00Z`)
  const to = new Date(startOfNextUtcMonth(from.getTime()))
  const day = (at: Date) => at.toISOString().slice(0, 10)
  const { groups, totals } = await statementRows(admin.deps.db, projectId, day(from), day(to))
  return {
    object: 'statement' as const,
    project_id: projectId,
    project_name: project.name,
    month,
    from: from.toISOString(),
    to: to.toISOString(),
    data: groups.map((g) => ({
      model: g.model,
      // Rows refused before a provider was picked have none.
      provider: g.provider === '' ? null : g.provider,
      ...numbers(g),
      price_versions: (g.price_versions ?? []).sort(),
    })),
    totals: numbers(totals),
  }
}

export type Statement = Awaited<ReturnType<typeof projectStatement>>

// The same as CSV, one row per model and provider and a last row of totals (model "TOTAL").
export function statementCsv(statement: Statement) {
  const header = ['model', 'provider', ...COUNTS, 'cost_usd', 'charge_usd', 'margin_usd', 'price_versions']
  const money = (row: Statement['totals']) => [row.cost_usd, row.charge_usd, row.margin_usd]
  const rows = statement.data.map((row) => [
    row.model,
    row.provider,
    ...COUNTS.map((name) => row[name]),
    ...money(row),
    row.price_versions.join(' '),
  ])
  rows.push([
    'TOTAL',
    null,
    ...COUNTS.map((name) => statement.totals[name]),
    ...money(statement.totals),
    null,
  ])
  return {
    filename: `statement_${statement.project_id.replace(/[^A-Za-z0-9._-]/g, '_')}_${statement.month}.csv`,
    body: toCsv(header, rows),
  }
}
