import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { toChatRequest } from '../protocols/anthropic/request'

// An Anthropic Messages request becomes the chat request the rest of the pipeline (guard, relay) works
// on; the client's own body stays in `inbound`. max_tokens is clamped to what the routed models can
// write (Claude Code always asks for 128,000), so the reservation uses the clamped number.
export const translateMessages = createMiddleware<AppEnv>(async (c, next) => {
  const inbound = c.var.body
  const chat = toChatRequest(inbound)
  const caps = c.var.targets.map((t) => t.maxOutputTokens).filter((n): n is number => n !== null)
  if (caps.length > 0) chat.max_completion_tokens = Math.min(Number(chat.max_completion_tokens), ...caps)
  c.set('inbound', inbound)
  c.set('body', chat)
  await next()
})
