import type { ErrorCode } from '../../errors'
import type { ErrorRenderer } from '../renderers'

// The gateway's errors in Google's shape, `{"error":{"code","message","status","details"}}`, with the
// google.rpc status names, so @google/genai raises its ApiError with the status a client branches on
// and Gemini CLI tells a bad key from a quota from an outage. The gateway's own code rides as the
// ErrorInfo reason.
const STATUSES: Record<ErrorCode, { code: number; status: string }> = {
  invalid_request_error: { code: 400, status: 'INVALID_ARGUMENT' },
  invalid_code: { code: 400, status: 'INVALID_ARGUMENT' },
  invalid_api_key: { code: 401, status: 'UNAUTHENTICATED' },
  unauthorized: { code: 401, status: 'UNAUTHENTICATED' },
  model_not_allowed: { code: 403, status: 'PERMISSION_DENIED' },
  model_not_found: { code: 404, status: 'NOT_FOUND' },
  not_found: { code: 404, status: 'NOT_FOUND' },
  method_not_allowed: { code: 405, status: 'UNIMPLEMENTED' },
  conflict: { code: 409, status: 'ABORTED' },
  request_too_large: { code: 413, status: 'INVALID_ARGUMENT' },
  rate_limit_exceeded: { code: 429, status: 'RESOURCE_EXHAUSTED' },
  insufficient_quota: { code: 429, status: 'RESOURCE_EXHAUSTED' },
  internal_error: { code: 500, status: 'INTERNAL' },
  upstream_error: { code: 502, status: 'UNAVAILABLE' },
  service_unavailable: { code: 503, status: 'UNAVAILABLE' },
  upstream_timeout: { code: 504, status: 'DEADLINE_EXCEEDED' },
}

const STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

const statusName = (http: number) => STATUS_BY_HTTP[http] ?? (http >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT')

export function geminiErrorBody(code: number, status: string, message: string, details: unknown[] = []) {
  return { error: { code, message, status, ...(details.length ? { details } : {}) } }
}

const errorInfo = (reason: string) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason: reason.toUpperCase(),
  domain: 'nexusai',
})

// Google says when to retry in RetryInfo (seconds as a "7s" string); Retry-After stays as a header too.
function retryInfo(headers: Record<string, string>): unknown[] {
  const seconds = Number(headers['retry-after'] ?? headers['Retry-After'])
  return Number.isFinite(seconds) && seconds > 0
    ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` }]
    : []
}

// The gateway's errors, and an upstream's refusal of the request itself (400/404/413/422) with its status
// and message.
export const geminiRenderer: ErrorRenderer = (error) => {
  if (error.upstream) {
    const { status, error: refusal } = error.upstream
    return {
      status,
      body: geminiErrorBody(status, statusName(status), refusal.message),
      headers: error.headers,
    }
  }
  const { code, status } = STATUSES[error.code]
  const details = [errorInfo(error.code), ...retryInfo(error.headers)]
  return { status: code, body: geminiErrorBody(code, status, error.message, details), headers: error.headers }
}
