import { OpenAIError } from '../../errors'
import type { ClientDialect } from '../../pipeline/relay'
import { anthropicClientError } from './errors'
import { toAnthropicMessage } from './reply'
import { anthropicEncoder } from './stream'

// An Anthropic Messages client served by an OpenAI-protocol target: replies, streams and upstream
// refusals translated back to what the client's SDK expects.
export function anthropicDialect(model: string, requestId: string): ClientDialect {
  return {
    reply(text, estimatedInput) {
      try {
        return toAnthropicMessage(text, model, estimatedInput)
      } catch {
        throw new OpenAIError('upstream_error', 'The upstream sent a reply that is not valid JSON.')
      }
    },
    encoder: (estimatedInput) => anthropicEncoder(model, estimatedInput),
    clientError: (status, error) => anthropicClientError(status, error.message, requestId),
  }
}
