import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from './context'
import { GatewayError, StoreUnavailable, type ErrorCode } from './errors'
import { log } from './lib/log'
import { RENDERERS } from './protocols/renderers'

// Anything thrown becomes a GatewayError: ours as it is, a store that did not answer a 503 (its wrapper
// logged it), Hono's own exceptions by status, anything else a logged 500.
function asGatewayError(error: Error, c: Context<AppEnv>): GatewayError {
  if (error instanceof GatewayError) return error
  if (error instanceof StoreUnavailable)
    return new GatewayError({
      code: 'service_unavailable',
      message: 'The gateway cannot reach its data store. Please retry shortly.',
    })
  if (error instanceof HTTPException) {
    const code: ErrorCode =
      error.status === 413
        ? 'request_too_large'
        : error.status === 401
          ? 'unauthorized'
          : 'invalid_request_error'
    return new GatewayError({ code, message: error.message || 'Bad request' })
  }
  log('error', 'unhandled error', { request_id: c.get('requestId'), error: error.message })
  return new GatewayError({
    code: 'internal_error',
    message: 'The server had an error while processing your request.',
  })
}

// The one place an error body is written: the renderer of the route's dialect, through Hono.
function render(error: GatewayError, c: Context<AppEnv>): Response {
  const { status, body, headers } = RENDERERS[c.get('dialect') ?? 'openai'](error, c.get('requestId'))
  return c.json(body, status as ContentfulStatusCode, headers)
}

export function onError(error: Error, c: Context<AppEnv>): Response {
  return render(asGatewayError(error, c), c)
}

export function notFound(c: Context<AppEnv>): Response {
  const message = `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`
  return render(new GatewayError({ code: 'not_found', message }), c)
}
