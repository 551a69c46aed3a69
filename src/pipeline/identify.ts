import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { conversationId, type ConversationProtocol } from '../protocols/conversation'

// Names the conversation the request belongs to, from the client's own body and headers (before any
// translation), for its pin (guard, after-response step) and the prompt_cache_key of a translation.
export function identify(protocol: ConversationProtocol) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // A Gemini request names its model in the path: it runs after the translation, on the client's body.
    const body = protocol === 'gemini' ? c.get('inbound') : c.get('body')
    c.set(
      'conversation',
      await conversationId({
        protocol,
        body,
        header: (name) => c.req.header(name),
        keyId: c.get('apiKey').id,
        model: String(c.get('body').model),
      }),
    )
    await next()
  })
}
