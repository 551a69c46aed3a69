import { Hono, type Context } from 'hono'
import type { AppEnv } from '../context'
import { account } from '../pipeline/account'
import { allowModel } from '../pipeline/allow-model'
import { guard } from '../pipeline/guard'
import { relay } from '../pipeline/relay'
import { translateMessages } from '../pipeline/translate-messages'
import { validateJson } from '../pipeline/validate-json'
import { estimateInputTokens } from '../protocols/anthropic/count-tokens'
import { anthropicDialect } from '../protocols/anthropic/dialect'
import { CountTokensRequest, MessagesRequest } from '../protocols/anthropic/schema'
import type { Inbound } from '../upstream/providers/types'

const FORWARDED = ['anthropic-version', 'anthropic-beta', 'x-claude-code-session-id']

// The client's request as an Anthropic target gets it (providers.md §3.3): its body, the headers that
// matter to Anthropic, and its query string (`?beta=true`).
function inboundOf(c: Context<AppEnv>): Inbound {
  const headers: Record<string, string> = {}
  for (const name of FORWARDED) {
    const value = c.req.header(name)
    if (value) headers[name] = value
  }
  const url = new URL(c.req.url)
  return { protocol: 'anthropic', body: c.var.inbound, headers, query: url.search }
}

// Anthropic's Messages API (providers.md §3), mounted under /v1 after authentication. `?beta=true`
// (SDK 0.x beta calls, Claude Code) changes nothing here. Errors are Anthropic-shaped (app.ts sets the
// dialect for these paths).
export const messages = new Hono<AppEnv>()
  .post(
    '/',
    account('messages'),
    validateJson(MessagesRequest),
    allowModel,
    translateMessages,
    guard('messages'),
    (c) => relay(c, 'chat', anthropicDialect(inboundOf(c), c.var.requestId)),
  )
  // Answered locally: the chat upstreams behind the gateway have no count endpoint (x-nexusai-token-count
  // says so). Rate-limited like any call, never billed.
  .post(
    '/count_tokens',
    account('count_tokens'),
    validateJson(CountTokensRequest),
    allowModel,
    guard('count_tokens'),
    (c) =>
      c.json({ input_tokens: estimateInputTokens(c.var.body) }, 200, {
        'x-nexusai-token-count': 'estimated',
      }),
  )
