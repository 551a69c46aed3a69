import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { GatewayError } from '../errors'
import { toChatRequest } from '../protocols/responses/request'

// A Responses request becomes the chat request the rest of the pipeline (guard, relay) works on; the
// client's own body stays in `inbound` for OpenAI-protocol targets (relayed as sent). A request only
// OpenAI can serve (item references, input kinds other providers lack) goes to those targets alone, with
// a rough chat body for the estimates. `background: true` is refused: a background response completes
// after this request has ended, and nothing would bill it then (docs/gemini.md).
export const translateResponses = createMiddleware<AppEnv>(async (c, next) => {
  const inbound = c.get('body')
  if (inbound.background === true)
    throw new GatewayError({
      code: 'invalid_request_error',
      message:
        'background: true is not supported by this gateway: a response is billed when it completes, and a background response completes after the request ends. Use stream: true for long responses.',
      param: 'background',
    })
  let chat: Record<string, unknown>
  try {
    chat = toChatRequest(inbound)
  } catch (error) {
    const native = c.get('targets').filter((t) => t.type === 'openai')
    if (!(error instanceof GatewayError) || native.length === 0) throw error
    c.set('targets', native)
    chat = {
      model: inbound.model,
      messages: [
        { role: 'system', content: typeof inbound.instructions === 'string' ? inbound.instructions : '' },
        { role: 'user', content: JSON.stringify(inbound.input ?? '') },
      ],
      ...(inbound.max_output_tokens ? { max_completion_tokens: inbound.max_output_tokens } : {}),
      ...(inbound.stream === true ? { stream: true } : {}),
    }
  }
  c.set('inbound', inbound)
  c.set('body', chat)
  await next()
})
