import type { ErrorCode } from '../../errors'
import type { ErrorRenderer } from '../renderers'

// The gateway's errors in Anthropic's shape and status codes (docs/providers.md §3.6), so both Anthropic SDKs
// raise their own typed errors (AuthenticationError, PermissionDeniedError, RateLimitError, …).
const TYPES: Record<ErrorCode, { status: number; type: string }> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  invalid_code: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'conflict_error' },
  request_too_large: { status: 413, type: 'request_too_large' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  insufficient_quota: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'api_error' },
  upstream_error: { status: 502, type: 'api_error' },
  service_unavailable: { status: 529, type: 'overloaded_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
}

// Anthropic's own code for a spend cap, which its SDKs and Claude Code recognise.
const DETAILS: Partial<Record<ErrorCode, string>> = {
  insufficient_quota: 'enforced_spend_limit_reached',
  rate_limit_exceeded: 'rate_limit_reached',
}

function anthropicErrorBody(type: string, message: string, requestId?: string, errorCode?: string) {
  return {
    type: 'error',
    error: { type, message, ...(errorCode ? { details: { error_code: errorCode } } : {}) },
    ...(requestId ? { request_id: requestId } : {}),
  }
}

// The gateway's errors, and an upstream's refusal of the request itself (400/404/413/422) with its status
// and message.
export const anthropicRenderer: ErrorRenderer = (error, requestId) => {
  const headers = { ...error.headers, 'request-id': requestId }
  if (error.upstream) {
    const { status, error: refusal } = error.upstream
    const type =
      status === 404 ? 'not_found_error' : status === 413 ? 'request_too_large' : 'invalid_request_error'
    return { status, body: anthropicErrorBody(type, refusal.message, requestId), headers }
  }
  const { status, type } = TYPES[error.code]
  return { status, body: anthropicErrorBody(type, error.message, requestId, DETAILS[error.code]), headers }
}
