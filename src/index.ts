import { createApp } from './app'
import { reconcileBalances } from './billing/balance'
import type { Bindings } from './context'
import { getDeps } from './deps'
import { describeDbError } from './db/errors'
import { log } from './lib/log'
import { reconcileSpend } from './usage/spend'
import { drainUsageSpool } from './usage/record'
import { maintainUsageLedger } from './usage/retention'
import { webhookCron } from './webhooks/cron'

const app = createApp()

export default {
  fetch: app.fetch,
  // Every minute: write usage rows that waited in Redis while Postgres was unreachable, then set the spend
  // counters and prepaid balances to what Postgres says; then the usage partitions (months ahead, retention);
  // then the webhooks (expiring keys, due retries).
  async scheduled(_controller, env, ctx) {
    const deps = getDeps(env)
    ctx.waitUntil(
      (async () => {
        try {
          const written = await drainUsageSpool(deps)
          const keys = await reconcileSpend(deps)
          const balances = await reconcileBalances(deps)
          log('info', 'scheduled maintenance', {
            spool_rows_written: written,
            spend_keys_reconciled: keys,
            balances_reconciled: balances,
          })
        } catch (error) {
          log('warn', 'scheduled maintenance failed', describeDbError(error))
        }
        try {
          const ledger = await maintainUsageLedger(deps)
          if (ledger.created.length + ledger.dropped.length > 0) log('info', 'usage partitions', ledger)
        } catch (error) {
          log('warn', 'usage partition upkeep failed', describeDbError(error))
        }
        try {
          const sent = await webhookCron(deps)
          if (sent > 0) log('info', 'webhook deliveries retried', { sent })
        } catch (error) {
          log('warn', 'scheduled webhook work failed', describeDbError(error))
        }
      })(),
    )
  },
} satisfies ExportedHandler<Bindings>
