import { createApp } from './app'
import type { Bindings } from './context'
import { getDeps } from './deps'
import { log } from './lib/log'
import { drainUsageSpool } from './usage/record'

const app = createApp()

export default {
  fetch: app.fetch,
  // Every minute: write usage rows that waited in Redis while Postgres was unreachable.
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      drainUsageSpool(getDeps(env)).then(
        (written) => written > 0 && log('info', 'usage spool drained', { written }),
        (error) => log('warn', 'usage spool drain failed', { error: (error as Error).message }),
      ),
    )
  },
} satisfies ExportedHandler<Bindings>
