import * as z from 'zod/mini'
import { EXPORT_COLUMNS, exportPage, type ExportFilter, type ExportPage } from '../db/usage-export'
import type { UsageLogCursor } from '../db/usage-report'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import { startOfNextUtcDay, startOfUtcDay } from '../lib/time'
import { GatewayError } from '../errors'
import { toCsv } from './csv'
import { storable, Uuid } from './schemas'
import { instant } from './usage'

// Raw usage rows for audits and billing, streamed: the body is produced one database page at a time as the
// client reads it (keyset on (created_at, id), oldest first), so a month of a busy project never sits in
// memory.
const PAGE_ROWS = 2000
// The first page is read before the response starts: a small one makes the first byte quick.
const FIRST_PAGE_ROWS = 500
const DAY_MS = 86_400_000

export const ExportQuery = z.object({
  from: z.optional(instant),
  to: z.optional(instant),
  project_id: z.optional(z.string().check(z.maxLength(100), storable)),
  api_key_id: z.optional(Uuid),
  format: z._default(z.enum(['csv', 'ndjson']), 'csv'),
})
export type ExportQuery = z.infer<typeof ExportQuery>

// NDJSON lines come from Postgres ready-made (db/usage-export.ts); a CSV row is the same values through
// the formula-safe CSV cells.
function lines(page: ExportPage, format: 'csv' | 'ndjson'): string {
  if (format === 'ndjson') return page.lines + '\n'
  const cells = page.lines
    .split('\n')
    .map((line) =>
      Object.values(JSON.parse(line) as Record<string, string | number | boolean | null>).map((value) =>
        typeof value === 'boolean' ? String(value) : value,
      ),
    )
  return toCsv(EXPORT_COLUMNS, cells).split('\r\n').slice(1).join('\r\n')
}

// Default window: the last 30 UTC days, today included; `to` is exclusive.
export function exportFilter(q: ExportQuery, now: number): ExportFilter {
  const from = q.from ?? new Date(startOfUtcDay(now).getTime() - 29 * DAY_MS)
  const to = q.to ?? new Date(startOfNextUtcDay(now))
  if (to <= from)
    throw new GatewayError({
      code: 'invalid_request_error',
      message: "'to' must be later than 'from'.",
      param: 'to',
    })
  return { from, to, projectId: q.project_id, apiKeyId: q.api_key_id }
}

// The first page is read before the response starts, so a database that cannot be reached is a 503,
// not an empty file.
export async function firstExportPage(deps: Deps, filter: ExportFilter): Promise<ExportPage> {
  return exportPage(deps.db, filter, undefined, FIRST_PAGE_ROWS)
}

export function exportStream(
  deps: Deps,
  requestId: string,
  filter: ExportFilter,
  format: 'csv' | 'ndjson',
  first: ExportPage,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let after: UsageLogCursor | undefined
  let pending: ExportPage | null = first
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (format === 'csv') controller.enqueue(encoder.encode(toCsv(EXPORT_COLUMNS, [])))
      },
      async pull(controller) {
        try {
          const page = pending ?? (await exportPage(deps.db, filter, after, PAGE_ROWS))
          const size = pending ? FIRST_PAGE_ROWS : PAGE_ROWS
          pending = null
          if (page.rows > 0) {
            after = page.last
            controller.enqueue(encoder.encode(lines(page, format)))
          }
          if (page.rows < size) controller.close()
        } catch (error) {
          // The status line is long gone: a cut body is all a client can be told.
          log('error', 'usage export failed mid-stream', { request_id: requestId, after_id: after?.id })
          controller.error(error)
        }
      },
    },
    { highWaterMark: 0 },
  )
}
