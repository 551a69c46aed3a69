// What a webhook can subscribe to, and the JSON body every delivery carries: {id, type, created_at, data}.
// An event's id is derived from what it announces (the key, the budget, the period, the threshold…),
// so the same announcement decided twice is one delivery per webhook (webhook_deliveries is unique on it).
export const EVENT_TYPES = [
  'budget.threshold',
  'budget.exhausted',
  'provider.circuit_opened',
  'provider.circuit_closed',
  'provider.key_invalid',
  'key.expiring',
  'balance.low',
  'balance.exhausted',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

export type WebhookEvent = { id: string; type: EventType; created_at: string; data: Record<string, unknown> }

export function event(type: EventType, id: string, at: number, data: Record<string, unknown>): WebhookEvent {
  return { id: `${type}:${id}`, type, created_at: new Date(at).toISOString(), data }
}
