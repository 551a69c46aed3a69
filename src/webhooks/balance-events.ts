import type { KeyRecord } from '../db/keys'
import { picoToUsdString } from '../lib/money'
import type { BalanceAlert } from '../redis/scripts/finish'
import { event, type WebhookEvent } from './events'

// A prepaid balance's alerts, decided in the finish step once per crossing (redis/lua/economy.lua.ts):
// balance.low when a charge takes it below the project's balance_alert_usd, balance.exhausted when a
// request is refused for it (or it reaches zero). `cid` is how many credits the balance held then, so the
// event id names the crossing: the same crossing decided twice is one delivery, and a top-up re-arms both.

export function balanceEvents(alerts: BalanceAlert[], key: KeyRecord, at: number): WebhookEvent[] {
  return alerts.map(({ kind, leftPico, cid }) =>
    event(kind === 'low' ? 'balance.low' : 'balance.exhausted', `project:${key.projectId}:${cid}`, at, {
      project_id: key.projectId,
      balance_usd: picoToUsdString(leftPico),
      ...(kind === 'low' ? { threshold_usd: key.project?.balanceAlertUsd ?? null } : {}),
      api_key_id: key.id,
    }),
  )
}
