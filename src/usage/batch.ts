import type { Deps } from '../deps'
import type { Increment } from '../metrics/counters'
import type { BalanceAlert, BudgetAlert, CircuitMove } from '../redis/scripts/finish'
import { exportSpans, telemetryOf } from '../telemetry/exporter'
import type { Span } from '../telemetry/otlp'
import { recordUsageRows, type UsageRow } from './record'
import { settleAndCount, type Settlement } from './spend'

// The after-response work of one request: settle its hold and move the breakers, count its metrics,
// write its usage row, export its trace spans (when OTEL_EXPORTER_OTLP_ENDPOINT is set).
export type Finish = { settlement: Settlement; increments: Increment[]; row: UsageRow; spans?: Span[] }

// What a request learns once its batch is written: its circuit transitions, its budget alerts, and what
// failed (a failed usage write has already been spooled or dead-lettered).
export type Flushed = {
  moves: CircuitMove[]
  alerts: BudgetAlert[]
  balance: BalanceAlert[]
  failures: unknown[]
}

// Requests finishing close together in one isolate share one Redis call and one Postgres statement. A
// batch goes out when it holds BATCH_MAX requests or BATCH_MS after its first one, so a usage row
// reaches Postgres at most BATCH_MS (plus the statement) after its response ends. BATCH_MS is long
// enough for requests arriving one at a time to share a batch too (one every 100 ms: about four per
// batch), which halves what such a request costs after its response. Waiting only keeps holds a little
// longer, which makes the next decisions more careful, never looser; a provider fault or cooldown sends
// its batch within FAULT_BATCH_MS (the window before), so a breaker learns of it as soon as before.
// Every request's waitUntil waits for the flush carrying its row, which keeps an isolate going idle
// alive until then. A request waits on timers of its own: the runtime runs a continuation in the
// request context that resolved its promise, so a flush that resolved the other requests' promises
// would run their code in its own context (and fail to end their waitUntil). The batch's first request
// flushes it at the deadline (any request that finds the deadline passed, or fills the batch, flushes it);
// the others sleep until the flush should be over (the isolate's recent flush time), then look every POLL_MS.
const BATCH_MAX = 100
const BATCH_MS = 400
const FAULT_BATCH_MS = 50
const POLL_MS = 2
// A flush is bounded by the stores' timeouts; past this a waiter stops waiting (its row is the
// flushing request's to spool).
const GIVE_UP_MS = 30_000

type Batch = {
  finishes: Finish[]
  deadline: number
  state: 'open' | 'flushing' | 'done'
  flushStarted: number
  results: Flushed[]
}

const open = new WeakMap<Deps, Batch>()
// How long a flush takes in this isolate lately (moving average), so waiters wake about when it ends.
let flushMs = 5
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(POLL_MS, ms)))

export async function finishLater(deps: Deps, finish: Finish): Promise<Flushed> {
  let batch = open.get(deps)
  if (!batch || batch.state !== 'open') {
    batch = { finishes: [], deadline: Date.now() + BATCH_MS, state: 'open', flushStarted: 0, results: [] }
    open.set(deps, batch)
  }
  const index = batch.finishes.push(finish) - 1
  if (finish.settlement.outcomes.some((o) => o.kind !== 'ok'))
    batch.deadline = Math.min(batch.deadline, Date.now() + FAULT_BATCH_MS)
  const started = Date.now()
  while (batch.state !== 'done') {
    const now = Date.now()
    if (batch.state === 'open' && (batch.finishes.length >= BATCH_MAX || now >= batch.deadline)) {
      await flush(deps, batch)
      break
    }
    if (now - started > GIVE_UP_MS) {
      return {
        moves: [],
        alerts: [],
        balance: [],
        failures: [new Error('the batch carrying this request was not written in time')],
      }
    }
    const wake =
      batch.state === 'open' ? batch.deadline + (index === 0 ? 0 : flushMs) : batch.flushStarted + flushMs
    await sleep(wake - now)
  }
  return batch.results[index]!
}

async function flush(deps: Deps, batch: Batch): Promise<void> {
  batch.state = 'flushing'
  batch.flushStarted = Date.now()
  if (open.get(deps) === batch) open.delete(deps)
  const { finishes } = batch
  const telemetry = telemetryOf(deps)
  // One OTLP export per batch, beside the stores' writes; it never fails the batch (exportSpans).
  const traced = telemetry
    ? exportSpans(
        telemetry,
        finishes.flatMap((f) => f.spans ?? []),
      )
    : null
  const [settled, recorded] = await Promise.allSettled([
    settleAndCount(
      deps,
      finishes.map((f) => f.settlement),
      finishes.flatMap((f) => f.increments),
      deps.now(),
    ),
    recordUsageRows(
      deps,
      finishes.map((f) => f.row),
    ),
  ])
  await traced
  const failures = [settled, recorded].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))
  batch.results = finishes.map((_, i) => ({
    moves: settled.status === 'fulfilled' ? (settled.value[i]?.moves ?? []) : [],
    alerts: settled.status === 'fulfilled' ? (settled.value[i]?.alerts ?? []) : [],
    balance: settled.status === 'fulfilled' ? (settled.value[i]?.balance ?? []) : [],
    failures,
  }))
  batch.state = 'done'
  flushMs = flushMs * 0.8 + (Date.now() - batch.flushStarted) * 0.2
}
