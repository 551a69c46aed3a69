import { bumpConfigVersion } from '../cache'
import { markProviderKeyInvalid } from '../db/provider-keys'
import type { Deps } from '../deps'
import { log } from '../lib/log'
import type { KeyEvent } from '../upstream/key-faults'

// After the response: what upstreams said about stored keys. A refused key is marked invalid in
// Postgres (audited as the gateway's own act, the event alerts can follow) and the config version is
// bumped so every isolate reloads its pools; this isolate skipped the key already. A cooling key is
// only logged here: the finish step shares its cooldown with every isolate (upstream/circuit.ts).
export async function recordKeyEvents(
  deps: Deps,
  requestId: string,
  events: readonly KeyEvent[],
): Promise<void> {
  const invalid = new Map<string, KeyEvent>()
  for (const e of events) {
    log('warn', e.kind === 'invalid' ? 'provider key refused; marked invalid' : 'provider key cooling', {
      request_id: requestId,
      provider: e.provider,
      key_id: e.keyId,
      hint: e.hint,
      status: e.status,
      ...(e.kind === 'cooling' ? { cool_ms: Math.max(0, Math.round(e.untilMs - Date.now())) } : {}),
    })
    if (e.kind === 'invalid') invalid.set(e.keyId, e)
  }
  if (invalid.size === 0) return
  await Promise.all(
    [...invalid.values()].map((e) =>
      markProviderKeyInvalid(deps.db, e.keyId, {
        actor: 'gateway',
        action: 'provider.api_key_invalid',
        targetType: 'provider',
        targetId: e.providerId,
        before: null,
        after: { key_id: e.keyId, hint: e.hint, status: e.status },
      }),
    ),
  )
  await bumpConfigVersion(deps)
}
