import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { GatewayError } from '../errors'
import { toChatRequest } from '../protocols/anthropic/request'
import { DEFAULT_MAX_OUTPUT_TOKENS } from '../usage/tokens'

// An Anthropic Messages request becomes the chat request the rest of the pipeline (guard, relay) works on;
// the client's own body stays in `inbound` for Anthropic targets (passthrough). max_tokens is clamped to what
// the routed models can write (Claude Code always asks for 128,000, which most OpenAI-compatible models
// refuse), so the reservation uses the clamped number. A request only Anthropic can serve (server tools…)
// goes to the Anthropic targets alone, with a rough chat body for the estimates.
export const translateMessages = createMiddleware<AppEnv>(async (c, next) => {
  const inbound = c.get('body')
  let chat: Record<string, unknown>
  try {
    chat = toChatRequest(inbound)
  } catch (error) {
    const native = c.get('targets').filter((t) => t.type === 'anthropic')
    if (!(error instanceof GatewayError) || native.length === 0) throw error
    c.set('targets', native)
    chat = {
      model: inbound.model,
      messages: [{ role: 'user', content: JSON.stringify(inbound.messages) }],
      max_completion_tokens: inbound.max_tokens,
    }
  }
  // Anthropic targets get the client's own max_tokens (passthrough); the translation is clamped for the
  // others, to the mapping's max_output_tokens or the gateway's default output cap.
  const caps = c
    .get('targets')
    .filter((t) => t.type !== 'anthropic')
    .map((t) => t.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS)
  if (caps.length > 0) chat.max_completion_tokens = Math.min(Number(chat.max_completion_tokens), ...caps)
  c.set('inbound', inbound)
  c.set('body', chat)
  await next()
})
