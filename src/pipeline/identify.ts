import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { conversationId, type ConversationProtocol } from '../protocols/conversation'

// Names the conversation the request belongs to, from the client's own body and headers, for its pin
// (guard, after-response step). A translated request (the client's body kept in `inbound`) carries the
// conversation as prompt_cache_key when the client sent none: OpenAI routes its prompt cache by it, and
// the other adapters build their bodies field by field, so only OpenAI-protocol targets see it.
export function identify(protocol: ConversationProtocol) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const body = c.get('body')
    const inbound = c.get('inbound')
    const conversation = await conversationId({
      protocol,
      body: inbound ?? body,
      header: (name) => c.req.header(name),
      keyId: c.get('apiKey').id,
      model: String(body.model),
    })
    c.set('conversation', conversation)
    if (inbound && body.prompt_cache_key === undefined)
      c.set('body', { ...body, prompt_cache_key: conversation.id })
    await next()
  })
}
