import type { Provider } from '../types'
import { classifyAnthropic } from './errors'
import { decodeMessage } from './reply'
import { anthropicBody, anthropicVersion } from './request'
import { anthropicStream } from './stream'
import { countTokensRequest, decodePassthrough, passthroughRequest, passthroughStream } from './passthrough'

// Anthropic's Messages API behind OpenAI's chat completions. The base URL includes the version path
// (https://api.anthropic.com/v1). The key goes in x-api-key, never in authorization.
export const anthropic: Provider = {
  routes: ['chat'],
  buildRequest(target, exchange) {
    const { body, stream } = exchange
    if (exchange.inbound?.protocol === 'anthropic') return passthroughRequest(target, exchange)
    const headers = new Headers({
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'anthropic-version': anthropicVersion(target.capabilities),
    })
    if (target.apiKey) headers.set('x-api-key', target.apiKey)
    return new Request(`${target.baseUrl}/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify(anthropicBody(target, body, stream)),
    })
  },
  decodeResponse: (text, exchange) =>
    exchange.inbound?.protocol === 'anthropic'
      ? decodePassthrough(text)
      : decodeMessage(text, exchange.model),
  streamDecoder: (exchange) =>
    exchange.inbound?.protocol === 'anthropic' ? passthroughStream() : anthropicStream(exchange),
  classifyError: classifyAnthropic,
  countTokens: countTokensRequest,
}
