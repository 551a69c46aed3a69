import type { KeyRecord } from '../db/keys'
import { picoToUsdString, usdToPico } from '../lib/money'
import type { BudgetAlert } from '../redis/scripts/finish'
import type { AlertBudgets } from '../usage/spend'
import type { UsageDraft } from '../usage/draft'
import { event, type WebhookEvent } from './events'

// Budget alerts: what the finish step needs to decide them, and the events it decided.
const DEFAULT_FRACTIONS = [0.5, 0.8, 1]

const pico = (usd: string | null | undefined) => (usd == null ? null : usdToPico(usd))
const fractions = (list: number[] | null | undefined) => (list?.length ? list : DEFAULT_FRACTIONS).join(',')

export function alertBudgets(key: KeyRecord, refused: UsageDraft['budgetRefused']): AlertBudgets {
  const owners = { key, project: key.project } as const
  const of = (scope: 'key' | 'project') => ({
    dailyPico: pico(owners[scope]?.dailyBudget),
    monthlyPico: pico(owners[scope]?.monthlyBudget),
    fractions: fractions(owners[scope]?.budgetAlerts),
    refused: refused?.scope === scope ? refused.window : null,
  })
  return { key: of('key'), project: of('project') }
}

// The finish step's alerts → events. The id names the budget, the period and the threshold, so it is
// the same whoever decided it.
export function budgetEvents(
  alerts: BudgetAlert[],
  key: KeyRecord,
  period: { day: string; month: string },
  at: number,
): WebhookEvent[] {
  return alerts.map(({ scope, window, crossed: what, spentPico }) => {
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
      spent_usd: picoToUsdString(spentPico),
      ...(what === 'exhausted' ? {} : { threshold: Number(what) }),
    }
    return event(what === 'exhausted' ? 'budget.exhausted' : 'budget.threshold', id, at, data)
  })
}
