import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { log } from './lib/log'
import { anthropicError } from './protocols/anthropic/errors'
import { geminiError } from './protocols/gemini/errors'

// One error class, one wire shape: OpenAI's {"error":{"message","type","param","code"}}.
const ERROR_CODES = {
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

export class OpenAIError extends HTTPException {
  readonly code: ErrorCode
  readonly param: string | null
  readonly headers: Record<string, string>
  // OpenAI's `type` where it depends on more than the code (a TPM refusal is "tokens", not "requests").
  readonly type: string
  constructor(
    code: ErrorCode,
    message: string,
    param: string | null = null,
    headers: Record<string, string> = {},
    type: string = ERROR_CODES[code].type,
  ) {
    super(ERROR_CODES[code].status, { message })
    this.code = code
    this.param = param
    this.headers = headers
    this.type = type
  }
}

function errorBody(
  code: ErrorCode,
  message: string,
  param: string | null = null,
  type: string = ERROR_CODES[code].type,
) {
  return { error: { message, type, param, code } }
}

function errorResponse(error: OpenAIError): Response {
  return Response.json(errorBody(error.code, error.message, error.param, error.type), {
    status: error.status,
    headers: error.headers,
  })
}

function asGatewayError(error: Error, c: Context): OpenAIError {
  if (error instanceof OpenAIError) return error
  if (error instanceof HTTPException) {
    const code: ErrorCode =
      error.status === 413
        ? 'request_too_large'
        : error.status === 401
          ? 'unauthorized'
          : 'invalid_request_error'
    return new OpenAIError(code, error.message || 'Bad request')
  }
  log('error', 'unhandled error', { request_id: c.get('requestId'), error: error.message })
  return new OpenAIError('internal_error', 'The server had an error while processing your request.')
}

// The route decides the shape (its `dialect`), never the code that throws.
function render(error: OpenAIError, c: Context): Response {
  const dialect = c.get('dialect')
  if (dialect === 'anthropic') return anthropicError(error, c.get('requestId'))
  if (dialect === 'gemini') return geminiError(error)
  return errorResponse(error)
}

export function onError(error: Error, c: Context): Response {
  return render(asGatewayError(error, c), c)
}

export function notFound(c: Context): Response {
  return render(
    new OpenAIError('not_found', `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`),
    c,
  )
}

// A client-chosen name quoted in an error message, cut to a readable length (a model name can be as
// long as the body allows).
export function quoted(name: string, max = 100): string {
  return `'${name.length > max ? `${name.slice(0, max)}…` : name}'`
}
