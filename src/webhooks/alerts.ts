import type { KeyRecord } from '../db/keys'
import { picoToUsdString, usdToPico } from '../lib/money'
import type { AlertBudgets } from '../usage/spend'
import { event, type WebhookEvent } from './events'

// Budget alerts: what the finish step needs to decide them, and the events it decided.
const DEFAULT_FRACTIONS = [0.5, 0.8, 1]

const pico = (usd: string | null) => (usd === null ? -1n : usdToPico(usd))
const fractions = (list: number[] | null) => (list?.length ? list : DEFAULT_FRACTIONS).join(',')

export function alertBudgets(key: KeyRecord, refused: string | null): AlertBudgets {
  return {
    keyDaily: pico(key.dailyBudget),
    keyMonthly: pico(key.monthlyBudget),
    projectDaily: pico(key.project?.dailyBudget ?? null),
    projectMonthly: pico(key.project?.monthlyBudget ?? null),
    keyFractions: fractions(key.budgetAlerts),
    projectFractions: fractions(key.project?.budgetAlerts ?? null),
    refused: refused ?? '',
  }
}

// "<scope>|<window>|<fraction or 'exhausted'>|<spent pico>" from the finish step → events. The id names
// the budget, the period and the threshold, so it is the same whoever decided it.
export function budgetEvents(
  alerts: string[],
  key: KeyRecord,
  period: { day: string; month: string },
  at: number,
): WebhookEvent[] {
  return alerts.map((alert) => {
    const [scope, window, what, spent] = alert.split('|') as [string, 'daily' | 'monthly', string, string]
    const project = scope === 'project'
    const owner = project ? key.project : key
    const budget = window === 'daily' ? owner?.dailyBudget : owner?.monthlyBudget
    const periodTag = window === 'daily' ? period.day : period.month
    const id = `${project ? `project:${key.projectId}` : `key:${key.id}`}:${window}:${periodTag}:${what}`
    const data = {
      scope,
      api_key_id: project ? null : key.id,
      api_key_name: project ? null : key.name,
      project_id: key.projectId,
      window,
      period:
        window === 'daily'
          ? `${periodTag.slice(0, 4)}-${periodTag.slice(4, 6)}-${periodTag.slice(6)}`
          : `${periodTag.slice(0, 4)}-${periodTag.slice(4)}`,
      budget_usd: budget ?? null,
      spent_usd: picoToUsdString(BigInt(spent)),
      ...(what === 'exhausted' ? {} : { threshold: Number(what) }),
    }
    return event(what === 'exhausted' ? 'budget.exhausted' : 'budget.threshold', id, at, data)
  })
}
