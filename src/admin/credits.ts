import { bumpConfigVersion } from '../cache'
import { insertCredit, listCreditsPage } from '../db/credits'
import { findProject, type ProjectRow } from '../db/projects'
import { readBalance, syncBalance, type Balance } from '../billing/balance'
import { GatewayError } from '../errors'
import { log } from '../lib/log'
import { picoToUsdString, usdToPico } from '../lib/money'
import { audit, type Admin } from './context'
import { decodeCursor, notFound, page, storedText } from './query'
import type { CreditCreate } from './schemas'
import { serializeCredit } from './serialize'

// Prepaid balances: credits and adjustments go into the append-only credit ledger (Postgres), then Redis's
// live balance is brought up to it. A project's first credit turns it prepaid, which every isolate's cached
// key record must learn: that write bumps the config version.

// A pico-USD amount as the admin API answers money (a JSON number).
export const usdNumber = (pico: bigint) => Number(picoToUsdString(pico))

async function mustFind(admin: Admin, id: string): Promise<ProjectRow> {
  const row = await findProject(admin.deps.db, storedText(id, 'id'))
  if (!row) throw notFound('project', id)
  return row
}

// The live balance, or null for a postpaid project.
export async function balanceOfProject(admin: Admin, project: ProjectRow): Promise<Balance | null> {
  return project.prepaidSince ? readBalance(admin.deps, project.id, project.prepaidSince) : null
}

export async function addCredit(admin: Admin, projectId: string, body: CreditCreate) {
  const project = await mustFind(admin, projectId)
  const amountPico = usdToPico(body.amount_usd)
  if (amountPico < 0n) {
    const left = (await balanceOfProject(admin, project))?.balancePico ?? 0n
    if (-amountPico > left)
      throw new GatewayError({
        code: 'invalid_request_error',
        message: `An adjustment of ${body.amount_usd} USD would take the balance below zero (it is ${picoToUsdString(left)} USD).`,
        param: 'amount_usd',
      })
  }
  const credit = {
    projectId,
    amountUsd: body.amount_usd,
    kind: amountPico > 0n ? 'topup' : 'adjustment',
    note: body.note ?? null,
    actor: admin.actor,
  }
  const entry = audit(admin, `credit.${credit.kind}`, { type: 'project', id: projectId }, null, {
    amount_usd: Number(body.amount_usd),
    note: credit.note,
  })
  const row = await insertCredit(admin.deps.db, credit, entry)
  const since = project.prepaidSince ?? (await mustFind(admin, projectId)).prepaidSince!
  if (!project.prepaidSince) await bump(admin)
  const balance = await settled(admin, projectId, since)
  return { credit: serializeCredit(row), balance_usd: usdNumber(balance.balancePico) }
}

// Redis follows the ledger; if it cannot, the guard rebuilds the balance from Postgres when it finds none,
// and the cron catches up within a minute.
async function settled(admin: Admin, projectId: string, since: Date): Promise<Balance> {
  try {
    return await syncBalance(admin.deps, projectId, since)
  } catch (error) {
    log('warn', 'balance not synced to Redis after a credit', {
      request_id: admin.requestId,
      project_id: projectId,
      error: (error as Error).message,
    })
    return readBalance(admin.deps, projectId, since)
  }
}

async function bump(admin: Admin) {
  try {
    await bumpConfigVersion(admin.deps)
  } catch (error) {
    log('error', 'config version not bumped after a project turned prepaid', {
      request_id: admin.requestId,
      error: (error as Error).message,
    })
  }
}

const CURSOR = [/^\d{1,18}$/]

export async function listCredits(
  admin: Admin,
  projectId: string,
  query: { limit: number; cursor?: string },
) {
  const project = await mustFind(admin, projectId)
  const [before] = query.cursor ? decodeCursor(query.cursor, CURSOR) : []
  const rows = await listCreditsPage(
    admin.deps.db,
    projectId,
    query.limit + 1,
    before ? Number(before) : undefined,
  )
  const balance = await balanceOfProject(admin, project)
  return {
    ...page(rows, query.limit, serializeCredit, (row) => [String(row.id)]),
    balance_usd: balance ? usdNumber(balance.balancePico) : null,
  }
}
