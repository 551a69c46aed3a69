import { Hono } from 'hono'
import * as z from 'zod/mini'
import { redeem } from '../billing/redeem'
import { generation, me, subscription, usage } from '../billing/self-service'
import type { AppEnv } from '../context'
import { picoToUsdString } from '../lib/money'
import { fromStore } from '../pipeline/stores'
import { validateJson } from '../pipeline/validate-json'

// Self-service under the virtual key (no upstream call, so no guard and no usage row): what the key may
// do and has spent, redeeming codes, OpenAI's dashboard billing endpoints, a request's usage.
const RedeemRequest = z.object({ code: z.string().check(z.maxLength(200)) })
const usd = (pico: bigint) => Number(picoToUsdString(pico))

// OpenAI's legacy dashboard endpoints that chat clients read for a key's balance (also outside /v1).
export const billing = new Hono<AppEnv>()
  .get('/billing/subscription', async (c) =>
    c.json(await fromStore('postgres', c.var.requestId, () => subscription(c.var.deps, c.var.apiKey))),
  )
  .get('/billing/usage', async (c) =>
    c.json(
      await fromStore('postgres', c.var.requestId, () => usage(c.var.deps, c.var.apiKey, c.req.query())),
    ),
  )

export const selfService = new Hono<AppEnv>()
  .get('/me', async (c) =>
    c.json(await fromStore('postgres', c.var.requestId, () => me(c.var.deps, c.var.apiKey))),
  )
  .post('/redeem', validateJson(RedeemRequest), async (c) => {
    const { code } = c.var.body as z.infer<typeof RedeemRequest>
    const key = c.var.apiKey
    const done = await fromStore('postgres', c.var.requestId, () =>
      redeem(c.var.deps, c.var.requestId, key, code.trim()),
    )
    return c.json({
      object: 'redemption',
      project_id: key.projectId,
      amount_usd: usd(done.amountPico),
      balance_usd: done.balance ? usd(done.balance.balancePico) : null,
    })
  })
  .get('/generations/:id', async (c) =>
    c.json(
      await fromStore('postgres', c.var.requestId, () =>
        generation(c.var.deps, c.var.apiKey, c.req.param('id')),
      ),
    ),
  )
  .get('/generation', async (c) =>
    c.json(
      await fromStore('postgres', c.var.requestId, () =>
        generation(c.var.deps, c.var.apiKey, c.req.query('id')),
      ),
    ),
  )
  .route('/dashboard', billing)
