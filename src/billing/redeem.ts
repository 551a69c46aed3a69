import type { KeyRecord } from '../db/keys'
import { findProject } from '../db/projects'
import { redeemCode } from '../db/redemption-codes'
import type { Deps } from '../deps'
import { GatewayError } from '../errors'
import { sha256Hex } from '../lib/ids'
import { log } from '../lib/log'
import { usdToPico } from '../lib/money'
import { keys } from '../redis/keys'
import { countFailure, failuresLeft, type FixedWindow } from '../redis/scripts/fixed-window'
import { bumpConfigVersion } from '../cache'
import { syncBalance, type Balance } from './balance'

// POST /v1/redeem: a key holder turns a code into credit for their key's project. Wrong codes are
// counted per key; past 10 in 10 minutes the key is refused (429) until the window ends, so codes
// cannot be guessed at volume even with many keys' worth of patience (each code has ~143 random bits).
const REDEEM_FAILURES: FixedWindow = { prefix: keys.redeemFailures(), max: 10, windowMs: 10 * 60_000 }
const CODE_SHAPE = /^nxr_[0-9A-Za-z]{24}$/
const INVALID = 'This code cannot be redeemed.'

async function refuseIfThrottled(deps: Deps, keyId: string): Promise<void> {
  const { remaining, reset } = await failuresLeft(deps.redis, REDEEM_FAILURES, keyId, Date.now())
  if (remaining > 0) return
  const retryMs = Math.max(1_000, reset - Date.now())
  throw new GatewayError({
    code: 'rate_limit_exceeded',
    message: 'Too many codes that could not be redeemed; try again later.',
    headers: { 'retry-after': String(Math.ceil(retryMs / 1000)) },
  })
}

export type Redemption = { amountPico: bigint; balance: Balance | null }

export async function redeem(
  deps: Deps,
  requestId: string,
  key: KeyRecord,
  code: string,
): Promise<Redemption> {
  await refuseIfThrottled(deps, key.id)
  const redeemed = CODE_SHAPE.test(code)
    ? await redeemCode(deps.db, {
        codeHash: await sha256Hex(code),
        projectId: key.projectId,
        keyId: key.id,
        actor: `key:${key.id}`,
      })
    : null
  if (!redeemed) {
    await countFailure(deps.redis, REDEEM_FAILURES, key.id, Date.now())
    log('info', 'redemption refused', { request_id: requestId, key_id: key.id })
    throw new GatewayError({ code: 'invalid_code', message: INVALID, param: 'code' })
  }
  // The project just turned prepaid: every isolate's cached key must learn it.
  if (!redeemed.wasPrepaid) await bumpConfigVersion(deps).catch(() => {})
  let balance: Balance | null = null
  try {
    const project = await findProject(deps.db, key.projectId)
    if (project?.prepaidSince) balance = await syncBalance(deps, key.projectId, project.prepaidSince)
  } catch (error) {
    log('warn', 'balance not synced to Redis after a redemption', {
      request_id: requestId,
      error: (error as Error).message,
    })
  }
  return { amountPico: usdToPico(redeemed.amountUsd), balance }
}
