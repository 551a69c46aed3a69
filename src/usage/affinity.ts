import { affinityResult, encodePin } from '../upstream/affinity'
import type { Target } from '../upstream/targets'
import type { UsageDraft } from './draft'

// The target that served a conversation's turn becomes its pin (written after the response), and the
// turn records whether the pin it had held.
export function pinServed(draft: UsageDraft, served: Target): void {
  if (draft.conversationId === null) return
  draft.affinity = affinityResult(draft.pin, served)
  draft.servedPin = encodePin(served)
}
