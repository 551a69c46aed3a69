import * as z from 'zod/mini'
import { listUsageLogs, usageReport, type UsageFilter, type UsageGroup } from '../db/usage-report'
import { startOfNextUtcDay, startOfUtcDay } from '../lib/time'
import { GatewayError } from '../errors'
import type { Admin } from './context'
import { toCsv } from './csv'
import { decodeCursor, page, PageQuery } from './query'
import { storable, Uuid } from './schemas'
import { serializeUsageLog } from './serialize'

const DAY_MS = 86_400_000
const DEFAULT_DAYS = 30
const GROUP_FIELDS = {
  day: 'day',
  model: 'model',
  provider: 'provider',
  api_key: 'api_key_id',
  project: 'project_id',
} as const
const SUMS = [
  'requests',
  'success',
  'failed',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'charge_usd',
  'cache_read_share',
] as const

const isoDate = z.iso.date()
const isoDateTime = z.iso.datetime({ offset: true })
export const instant = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    const date = isoDate.safeParse(value).success
      ? new Date(`${value}T00:00:00Z`)
      : isoDateTime.safeParse(value).success
        ? new Date(value)
        : null
    // Years before 1970 would be shifted by the driver (0001-01-01 read back as 1901).
    if (date && date.getTime() >= 0 && date.getUTCFullYear() <= 9999) return date
    if (date) {
      ctx.issues.push({ code: 'custom', message: 'must be between 1970-01-01 and 9999-12-31.', input: value })
      return z.NEVER
    }
    ctx.issues.push({
      code: 'custom',
      message: 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time with offset.',
      input: value,
    })
    return z.NEVER
  }),
)

const Filters = z.object({
  from: z.optional(instant),
  to: z.optional(instant),
  api_key_id: z.optional(Uuid),
  project_id: z.optional(z.string().check(z.maxLength(100), storable)),
  model: z.optional(z.string().check(z.maxLength(200), storable)),
  provider: z.optional(z.string().check(z.maxLength(100), storable)),
})
export const UsageQuery = z.extend(Filters, {
  group_by: z._default(z.enum(['day', 'model', 'provider', 'api_key', 'project']), 'day'),
  format: z._default(z.enum(['json', 'csv']), 'json'),
})
export const UsageLogsQuery = z.extend(Filters, {
  ...PageQuery.shape,
  request_id: z.optional(z.string().check(z.maxLength(200), storable)),
  // An HTTP status (429), or a class: ok (< 400) or error (≥ 400).
  status: z.optional(
    z.union([z.enum(['ok', 'error']), z.coerce.number().check(z.int(), z.gte(100), z.lte(599))]),
  ),
})
export type UsageQuery = z.infer<typeof UsageQuery>
export type UsageLogsQuery = z.infer<typeof UsageLogsQuery>

const filterOf = (q: z.infer<typeof Filters>): UsageFilter => ({
  apiKeyId: q.api_key_id,
  projectId: q.project_id,
  model: q.model,
  provider: q.provider,
})

// Default window: the last 30 UTC days, today included; `to` is exclusive.
function window(q: z.infer<typeof Filters>, now: number) {
  const from = q.from?.getTime() ?? startOfUtcDay(now).getTime() - (DEFAULT_DAYS - 1) * DAY_MS
  const to = q.to?.getTime() ?? startOfNextUtcDay(now)
  if (to <= from)
    throw new GatewayError({
      code: 'invalid_request_error',
      message: "'to' must be later than 'from'.",
      param: 'to',
    })
  return { from, to }
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10)

// The report reads the daily rollup, so it works in whole UTC days: `from` rounds down to its day
// and a `to` inside a day rounds up to the next midnight (that day is included).
export async function usageSummary(admin: Admin, q: UsageQuery) {
  const { from, to } = window(q, admin.deps.now())
  const fromDay = ymd(startOfUtcDay(from).getTime())
  const toDay = ymd(startOfUtcDay(to).getTime() === to ? to : startOfNextUtcDay(to))
  const report = await usageReport(admin.deps.db, q.group_by as UsageGroup, fromDay, toDay, filterOf(q))
  const field = GROUP_FIELDS[q.group_by]
  // Rows refused before a provider was picked are rolled up under provider ''.
  const data: Record<string, string | number | null>[] = report.groups.map(({ key, ...sums }) => ({
    [field]: field === 'provider' && key === '' ? null : key,
    ...sums,
  }))
  return {
    object: 'usage_report' as const,
    group_by: q.group_by,
    from: fromDay,
    to: toDay,
    data,
    totals: report.totals,
  }
}

export function usageCsv(report: Awaited<ReturnType<typeof usageSummary>>) {
  const field = GROUP_FIELDS[report.group_by]
  const rows = report.data.map((row) => [row[field] ?? null, ...SUMS.map((name) => row[name] ?? null)])
  return {
    filename: `usage_${report.from}_${report.to}_by-${report.group_by}.csv`,
    body: toCsv([field, ...SUMS], rows),
  }
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

// Raw rows for drill-down: exact instants here (a date means its UTC midnight), newest first.
export async function usageLogs(admin: Admin, q: UsageLogsQuery) {
  const { from, to } = window(q, admin.deps.now())
  const [at, id] = q.cursor ? decodeCursor(q.cursor, [CURSOR_AT, /^\d{1,18}$/]) : []
  const rows = await listUsageLogs(
    admin.deps.db,
    new Date(from),
    new Date(to),
    { ...filterOf(q), status: q.status, requestId: q.request_id },
    q.limit + 1,
    at && id ? { at, id: Number(id) } : undefined,
  )
  return page(rows, q.limit, serializeUsageLog, (row) => [row.cursorAt, String(row.id)])
}
