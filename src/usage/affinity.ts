import { keys } from '../redis/keys'
import { affinityResult, encodePin } from '../upstream/affinity'
import type { Target } from '../upstream/targets'
import type { UsageDraft } from './draft'
import type { MeterView } from './meter'

// The target that served a conversation's turn becomes its pin (written after the response), and the
// turn records whether the pin it had held.
export function pinServed(draft: UsageDraft, served: Target): void {
  if (draft.conversationId === null) return
  draft.affinity = affinityResult(draft.pin, served)
  draft.servedPin = encodePin(served)
}

// A pin lives this long after the turn that last used it (docs/affinity.md: at least an hour).
const PIN_TTL_SECONDS = 3600

// What the after-response step writes for a conversation's turn that an upstream served, or null.
export function pinWrite(draft: MeterView): { key: string; value: string; ttlSeconds: number } | null {
  if (draft.conversationId === null || draft.servedPin === null) return null
  return { key: keys.pin(draft.conversationId), value: draft.servedPin, ttlSeconds: PIN_TTL_SECONDS }
}
