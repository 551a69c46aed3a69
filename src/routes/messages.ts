import { Hono, type Context } from 'hono'
import type { AppEnv } from '../context'
import { refusal } from '../errors'
import { account } from '../pipeline/account'
import { allowModel } from '../pipeline/allow-model'
import { guard } from '../pipeline/guard'
import { identify } from '../pipeline/identify'
import { relay } from '../pipeline/relay'
import { translateMessages } from '../pipeline/translate-messages'
import { validateJson } from '../pipeline/validate-json'
import { estimateInputTokens } from '../protocols/anthropic/count-tokens'
import { anthropicDialect } from '../protocols/anthropic/dialect'
import { CountTokensRequest, MessagesRequest } from '../protocols/anthropic/schema'
import { forward } from '../upstream/forward'
import type { Inbound } from '../upstream/providers/types'

const FORWARDED = ['anthropic-version', 'anthropic-beta', 'x-claude-code-session-id']

// The client's request as an Anthropic target gets it (docs/providers.md §3.3): its body, the headers that
// matter to Anthropic, and its query string (`?beta=true`).
function inboundOf(c: Context<AppEnv>, body: Record<string, unknown>): Inbound {
  const headers: Record<string, string> = {}
  for (const name of FORWARDED) {
    const value = c.req.header(name)
    if (value) headers[name] = value
  }
  const url = new URL(c.req.url)
  return { protocol: 'anthropic', body, headers, query: url.search }
}

// An Anthropic first target counts the tokens itself; otherwise (or if it cannot answer) the gateway
// estimates locally and says so. The chat upstreams have no count endpoint, and a count never falls back
// to another provider's numbers silently.
async function countTokens(c: Context<AppEnv>): Promise<Response> {
  const target = c.get('targets')[0]
  if (target?.type === 'anthropic') {
    const meter = c.get('meter')
    const inbound = inboundOf(c, c.get('body'))
    const forwarded = await forward(
      [target],
      { kind: 'count_tokens', inbound },
      { signal: c.req.raw.signal, readBody: true },
    )
    meter.forwarded(forwarded, { asked: target })
    const { result } = forwarded
    if (result.ok)
      return new Response(result.value.text, {
        status: result.value.response.status,
        headers: { 'content-type': 'application/json' },
      })
    const error = result.error
    if (error.reason === 'client_error' && (error.status === 400 || error.status === 413)) {
      throw refusal(error.status, error.error)
    }
    if (error.reason === 'client_gone') {
      meter.ended({ status: 499, code: 'client_disconnected' })
      return new Response(null, { status: 499 })
    }
    // Any other failure: the estimate below answers instead.
  }
  return c.json({ input_tokens: estimateInputTokens(c.get('body')) }, 200, {
    'x-nexusai-token-count': 'estimated',
  })
}

// Anthropic's Messages API (docs/providers.md §3), mounted under /v1 after authentication. `?beta=true`
// (SDK 0.x beta calls, Claude Code) changes nothing here. Errors are Anthropic-shaped (app.ts sets the
// dialect for these paths).
export const messages = new Hono<AppEnv>()
  .post(
    '/',
    account('messages'),
    validateJson(MessagesRequest),
    allowModel,
    translateMessages,
    identify('anthropic'),
    guard('messages'),
    (c) => relay(c, 'chat', anthropicDialect(inboundOf(c, c.get('inbound')))),
  )
  // Rate-limited like any call, never billed.
  .post(
    '/count_tokens',
    account('count_tokens'),
    validateJson(CountTokensRequest),
    allowModel,
    guard('count_tokens'),
    countTokens,
  )
