import { Hono } from 'hono'
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
    (c) => relay(c, 'chat', anthropicDialect(String(c.var.inbound.model), c.var.requestId)),
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
