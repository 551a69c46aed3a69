import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

// The gateway's error codes, each with its HTTP status and OpenAI's `type`. Every client dialect renders
// them (protocols/renderers.ts), with a compiler-checked table of its own.
export const ERROR_CODES = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  // A redemption code that cannot be redeemed (unknown, used, revoked, expired: never said which).
  invalid_code: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'invalid_request_error' },
  model_not_allowed: { status: 403, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'requests' },
  insufficient_quota: { status: 429, type: 'insufficient_quota' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_error: { status: 502, type: 'server_error' },
  service_unavailable: { status: 503, type: 'server_error' },
  upstream_timeout: { status: 504, type: 'server_error' },
} as const satisfies Record<string, { status: ContentfulStatusCode; type: string }>

export type ErrorCode = keyof typeof ERROR_CODES

// OpenAI's error object: what every adapter turns an upstream's refusal into.
export type ErrorObject = { message: string; type: string; param: string | null; code: string | null }

export type GatewayErrorOptions = {
  code: ErrorCode
  message: string
  param?: string | null
  // Sent with the error (Retry-After, x-should-retry, rate-limit state).
  headers?: Record<string, string>
  // OpenAI's `type` where it depends on more than the code (a TPM refusal is "tokens", not "requests").
  type?: string
  // An upstream's refusal of the request itself, relayed with its own status and message (the keys sent
  // already removed); `code` is then the gateway's nearest one.
  upstream?: { status: ContentfulStatusCode; error: ErrorObject }
}

// Every error a client sees: thrown anywhere, rendered once in the client's dialect (app.ts onError).
export class GatewayError extends HTTPException {
  readonly code: ErrorCode
  readonly param: string | null
  readonly headers: Record<string, string>
  readonly type: string
  readonly upstream: GatewayErrorOptions['upstream']
  constructor(o: GatewayErrorOptions) {
    super(o.upstream?.status ?? ERROR_CODES[o.code].status, { message: o.message })
    this.code = o.code
    this.param = o.param ?? null
    this.headers = o.headers ?? {}
    this.type = o.type ?? ERROR_CODES[o.code].type
    this.upstream = o.upstream
  }
}

// An upstream's refusal of the request itself (its own status and message, the keys sent removed),
// relayed to the client in its dialect.
export const refusal = (status: number, error: ErrorObject) =>
  new GatewayError({
    code: 'invalid_request_error',
    message: error.message,
    upstream: { status: status as ContentfulStatusCode, error },
  })

// A store the request needs did not answer (thrown by the store wrappers, mapped once to a 503).
export class StoreUnavailable extends Error {
  readonly store: 'redis' | 'postgres'
  constructor(store: 'redis' | 'postgres', cause?: unknown) {
    super(`${store} unavailable`, { cause })
    this.store = store
  }
}

// A client-chosen name quoted in an error message, cut to a readable length (a model name can be as
// long as the body allows).
export function quoted(name: string, max = 100): string {
  return `'${name.length > max ? `${name.slice(0, max)}…` : name}'`
}
