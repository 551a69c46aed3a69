import { Hono, type Context } from 'hono'
import type { AppEnv } from '../context'
import { GatewayError, refusal } from '../errors'
import { log } from '../lib/log'
import { account } from '../pipeline/account'
import { allowModel } from '../pipeline/allow-model'
import { guard } from '../pipeline/guard'
import { identify } from '../pipeline/identify'
import { loadPinned, pinFollowUp } from '../pipeline/pin-response'
import { relay } from '../pipeline/relay'
import { translateResponses } from '../pipeline/translate-responses'
import { validateJson } from '../pipeline/validate-json'
import { responsesDialect } from '../protocols/responses/dialect'
import { pinResponse, unpin } from '../protocols/responses/pin'
import { ResponsesRequest } from '../protocols/responses/schema'
import { forward } from '../upstream/forward'
import { PROVIDERS } from '../upstream/providers'

// Creates a response: at an OpenAI-protocol provider relayed as it comes, at any other translated from chat
// (stored nowhere). For a relayed one it remembers which provider holds it: awaited for a JSON reply (the
// client may follow up at once), in waitUntil for a stream (the id arrives in its first event, long before
// the client can follow up).
async function create(c: Context<AppEnv>): Promise<Response> {
  const { deps, apiKey, meter } = c.var
  const model = String(c.var.body.model)
  const pin = (id: string) =>
    pinResponse(deps, id, { keyId: apiKey.id, model, provider: meter.view.provider ?? '' }).catch((error) =>
      log('warn', 'response pin not written', { request_id: c.var.requestId, error: String(error) }),
    )
  let created: string | null = null
  const response = await relay(
    c,
    'chat',
    responsesDialect(
      { reply: (id) => (created = id), stream: (id) => c.executionCtx.waitUntil(pin(id)) },
      c.var.inbound,
    ),
  )
  if (created) await pin(created)
  return response
}

// GET or DELETE at the provider that stores the response, through forward() like any upstream call: its
// answer relayed with the keys sent removed, a refusal of the id (404) in OpenAI's shape, and anything
// else (its 401/403 included) a 502 of the gateway's own.
async function stored(c: Context<AppEnv>, method: 'GET' | 'DELETE'): Promise<Response> {
  const { id, provider } = c.var.body as { id: string; provider: string }
  const target = c.var.targets.find(
    (t) => t.provider === provider && PROVIDERS[t.type].routes.includes('responses'),
  )
  if (!target)
    throw new GatewayError({
      code: 'not_found',
      message: `The provider that stores response '${id}' no longer serves it.`,
    })
  const forwarded = await forward(
    [target],
    { kind: 'stored_response', method, id },
    { signal: c.req.raw.signal, readBody: true },
  )
  c.var.meter.forwarded(forwarded, { asked: target })
  const { result } = forwarded
  if (result.ok) {
    if (method === 'DELETE') await unpin(c.var.deps, id)
    return new Response(result.value.text, {
      status: result.value.response.status,
      headers: { 'content-type': 'application/json' },
    })
  }
  const error = result.error
  if (error.reason === 'client_error') throw refusal(error.status, error.error)
  if (error.reason === 'client_gone') {
    c.var.meter.ended({ status: 499, code: 'client_disconnected' })
    return new Response(null, { status: 499 })
  }
  throw new GatewayError({
    code: 'upstream_error',
    message: 'The provider that stores this response did not answer. Please retry.',
  })
}

// OpenAI's Responses API (docs/providers.md §6): relayed to OpenAI-protocol providers, translated for the
// others (docs/gemini.md).
export const responses = new Hono<AppEnv>()
  .post(
    '/',
    account('responses'),
    validateJson(ResponsesRequest),
    identify('responses'),
    allowModel,
    translateResponses,
    guard('chat'),
    pinFollowUp,
    create,
  )
  .get('/:id', account('responses'), loadPinned, allowModel, guard('lookup'), (c) => stored(c, 'GET'))
  .delete('/:id', account('responses'), loadPinned, allowModel, guard('lookup'), (c) => stored(c, 'DELETE'))
