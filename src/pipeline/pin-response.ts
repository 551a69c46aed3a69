import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { GatewayError, quoted } from '../errors'
import { pinnedTo, pinOf } from '../protocols/responses/pin'
import { TRANSLATED_PREFIX } from '../protocols/responses/reply'
import { fromStore } from './stores'

const unknown = (id: string, param: string | null) =>
  new GatewayError({
    code: 'not_found',
    message: id.startsWith(TRANSLATED_PREFIX)
      ? `The response '${id}' was translated from a provider that does not store responses; it is kept nowhere.`
      : `No response with id '${id}' was created with this API key.`,
    param,
  })

// A Responses request that continues an earlier response goes to the provider that stores it and to no
// other (another provider does not know the id): its other targets are dropped, so there is no fallback.
export const pinFollowUp = createMiddleware<AppEnv>(async (c, next) => {
  const previous = (c.var.inbound ?? c.var.body).previous_response_id
  if (typeof previous === 'string') {
    const { deps, requestId, apiKey } = c.var
    // A translated provider keeps no state: its responses were made by the gateway and stored nowhere.
    if (previous.startsWith(TRANSLATED_PREFIX))
      throw new GatewayError({
        code: 'invalid_request_error',
        message: `The response '${previous}' was translated from a provider that does not store responses, so it cannot be continued by id. Send the whole conversation in input (with store: false), as Codex does.`,
        param: 'previous_response_id',
      })
    // Read in the guard's Redis step (its pin section), unless the guard admitted without Redis.
    const read = c.var.responsePin
    const pin =
      read !== undefined
        ? pinOf(read, apiKey.id)
        : await fromStore('redis', requestId, () => pinnedTo(deps, previous, apiKey.id))
    if (!pin) throw unknown(previous, 'previous_response_id')
    const targets = c.var.targets.filter((t) => t.provider === pin.provider)
    if (targets.length === 0)
      throw new GatewayError({
        code: 'invalid_request_error',
        message: `The response '${previous}' is stored at a provider that no longer serves the model ${quoted(String(c.var.body.model))}.`,
        param: 'previous_response_id',
      })
    c.set('targets', targets.slice(0, 1))
  }
  await next()
})

// GET/DELETE /v1/responses/{id}: the response must be one this key created; its model then goes through
// the allow-list and the guard like any request (`body` stands for the request, which has none).
export const loadPinned = createMiddleware<AppEnv>(async (c, next) => {
  const id = c.req.param('id') ?? ''
  const { deps, requestId, apiKey } = c.var
  const pin = await fromStore('redis', requestId, () => pinnedTo(deps, id, apiKey.id))
  if (!pin) throw unknown(id, null)
  c.var.meter.named(pin.model)
  c.set('body', { model: pin.model, provider: pin.provider, id })
  await next()
})
