import type { Provider } from '../types'
import { decodeEmbeddings, embeddingsBody } from './embeddings'
import { classifyGemini } from './errors'
import { decodeGenerate } from './reply'
import { geminiBody } from './request'
import { geminiStream } from './stream'
import { countTokensRequest, decodePassthrough, passthroughRequest, passthroughStream } from './passthrough'

// The Gemini API (generateContent, streamGenerateContent over SSE, batchEmbedContents) behind OpenAI's
// chat completions and embeddings. The base URL includes the version (…googleapis.com/v1beta); the key
// goes in x-goog-api-key, never in the URL.
export const gemini: Provider = {
  routes: ['chat', 'embeddings'],
  buildRequest(target, exchange) {
    const { route, body, stream } = exchange
    if (exchange.inbound?.protocol === 'gemini' && route === 'chat')
      return passthroughRequest(target, exchange)
    const model = encodeURIComponent(target.upstreamModel.replace(/^models\//, ''))
    const method =
      route === 'embeddings'
        ? 'batchEmbedContents'
        : stream
          ? 'streamGenerateContent?alt=sse'
          : 'generateContent'
    const headers = new Headers({ 'content-type': 'application/json' })
    if (target.apiKey) headers.set('x-goog-api-key', target.apiKey)
    const payload = route === 'embeddings' ? embeddingsBody(target, body) : geminiBody(target, body)
    return new Request(`${target.baseUrl}/models/${model}:${method}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(payload),
    })
  },
  decodeResponse: (text, { route, model, body, inbound }) =>
    route === 'embeddings'
      ? decodeEmbeddings(text, model, body)
      : inbound?.protocol === 'gemini'
        ? decodePassthrough(text)
        : decodeGenerate(text, model),
  streamDecoder: (exchange) =>
    exchange.inbound?.protocol === 'gemini' ? passthroughStream() : geminiStream(exchange),
  classifyError: classifyGemini,
  countTokens: countTokensRequest,
}
