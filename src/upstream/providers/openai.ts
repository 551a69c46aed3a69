import type { Target } from '../targets'
import type { Provider } from './index'

const PATHS = { chat: '/chat/completions', embeddings: '/embeddings' } as const

// OpenAI and every OpenAI-compatible upstream: the client's body goes through untouched except for the
// model name and, on streams, stream_options.include_usage (so the gateway can account the stream).
export const openai: Provider = {
  buildRequest(target: Target, route, body) {
    const upstreamBody: Record<string, unknown> = { ...body, model: target.upstreamModel }
    if (route === 'chat' && body.stream === true) {
      const options =
        typeof body.stream_options === 'object' && body.stream_options ? body.stream_options : {}
      upstreamBody.stream_options = { ...options, include_usage: true }
    }
    const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json' })
    if (target.apiKey) headers.set('authorization', `Bearer ${target.apiKey}`)
    return new Request(`${target.baseUrl}${PATHS[route]}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(upstreamBody),
    })
  },
}
