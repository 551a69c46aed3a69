import { GatewayError } from '../../errors'
import type { ClientDialect } from '../../pipeline/relay'
import { toAnthropicMessage } from './reply'
import { anthropicEncoder, relayEncoder } from './stream'
import type { Inbound } from '../../upstream/providers/types'

// An Anthropic Messages client: passthrough to Anthropic targets; for any other target, replies, streams
// and upstream refusals translated back to what the client's SDK expects.
export function anthropicDialect(inbound: Inbound): ClientDialect {
  const model = String(inbound.body.model)
  return {
    native: 'anthropic',
    inbound,
    // Anthropic's 529 overloaded_error, which Claude Code handles on its own.
    reportsOverload: true,
    reply(text, estimatedInput, native) {
      if (native) return text
      try {
        return toAnthropicMessage(text, model, estimatedInput)
      } catch {
        throw new GatewayError({
          code: 'upstream_error',
          message: 'The upstream sent a reply that is not valid JSON.',
        })
      }
    },
    encoder: (estimatedInput, native) => (native ? relayEncoder() : anthropicEncoder(model, estimatedInput)),
  }
}
