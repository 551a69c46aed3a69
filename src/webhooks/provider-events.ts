import { dayTag } from '../lib/time'
import type { CircuitMove } from '../redis/scripts/finish'
import type { AttemptRecord } from '../upstream/circuit'
import type { KeyEvent } from '../upstream/key-faults'
import { event, type WebhookEvent } from './events'

// provider.circuit_opened / provider.circuit_closed from the breaker transitions the finish step
// returned; each transition is decided once, atomically, in Redis.
export function circuitEvents(
  moves: CircuitMove[],
  outcomes: readonly AttemptRecord[],
  at: number,
): WebhookEvent[] {
  const events: WebhookEvent[] = []
  for (const { outcome, to } of moves) {
    const target = outcomes[outcome]?.target
    if (!target || to === 'half_open') continue
    const type = to === 'open' ? 'provider.circuit_opened' : 'provider.circuit_closed'
    events.push(
      event(type, `${target.providerId}:${at}`, at, {
        provider: target.provider,
        provider_id: target.providerId,
        state: to,
      }),
    )
  }
  return events
}

// provider.circuit_closed when an operator resets a breaker that was not closed.
export function circuitResetEvent(provider: { id: string; name: string }, at: number): WebhookEvent {
  return event('provider.circuit_closed', `${provider.id}:${at}`, at, {
    provider: provider.name,
    provider_id: provider.id,
    state: 'closed',
    by: 'reset',
  })
}

// provider.key_invalid when an upstream refused one of a provider's stored keys (401/403): the key is
// marked invalid. Announced once per key per UTC day, however many requests saw the refusal.
export function keyInvalidEvents(events: readonly KeyEvent[], at: number): WebhookEvent[] {
  const seen = new Map<string, KeyEvent>()
  for (const e of events) if (e.kind === 'invalid') seen.set(e.keyId, e)
  return [...seen.values()].map((e) =>
    event('provider.key_invalid', `${e.keyId}:${dayTag(at)}`, at, {
      provider: e.provider,
      provider_id: e.providerId,
      key_id: e.keyId,
      key_hint: e.hint,
      status: e.status,
    }),
  )
}
