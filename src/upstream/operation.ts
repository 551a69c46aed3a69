import { PROVIDERS } from './providers'
import { RequestRejected, type Exchange, type Inbound } from './providers/types'
import type { Target } from './targets'

// What one forward() sends to each target it tries: the client's exchange (chat, embeddings, a Responses
// create), an Anthropic token count, or a look-up or deletion of a response the provider stores.
export type Operation =
  | { kind: 'exchange'; exchange: Exchange }
  | { kind: 'count_tokens'; inbound: Inbound }
  | { kind: 'stored_response'; method: 'GET' | 'DELETE'; id: string }

// Whether a target's provider can carry the operation at all.
export function serves(target: Target, op: Operation): boolean {
  const provider = PROVIDERS[target.type]
  if (op.kind === 'exchange') return provider.routes.includes(op.exchange.route)
  if (op.kind === 'count_tokens') return provider.countTokens !== undefined
  return provider.storedResponse !== undefined
}

// The request for one target; throws RequestRejected (answered as a 400, nothing sent) when the
// operation cannot be expressed in the provider's protocol.
export function requestFor(target: Target, op: Operation): Request {
  const provider = PROVIDERS[target.type]
  if (op.kind === 'exchange') return provider.buildRequest(target, op.exchange)
  const build =
    op.kind === 'count_tokens'
      ? provider.countTokens && (() => provider.countTokens!(target, op.inbound))
      : provider.storedResponse && (() => provider.storedResponse!(target, op.method, op.id))
  if (!build)
    throw new RequestRejected(`The provider '${target.provider}' does not offer this operation.`, null)
  return build()
}
