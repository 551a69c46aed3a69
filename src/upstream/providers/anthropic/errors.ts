import type { ErrorDecision, UpstreamFailure } from '../types'

type AnthropicError = { type?: unknown; message?: unknown; details?: { error_code?: unknown } | null }

// Spend caps, billing and organisation holds: the operator's account, never the client's request, even
// when Anthropic answers them with a 400.
const ACCOUNT_CODES = /spend_limit|ramp_limit|organization_on_hold|billing/

function errorOf(body: string): AnthropicError {
  try {
    const parsed = JSON.parse(body) as { error?: AnthropicError }
    return parsed?.error && typeof parsed.error === 'object' ? parsed.error : {}
  } catch {
    return {}
  }
}

// Anthropic's errors (docs/providers.md §1.6), one row per status: the client's own mistakes are relayed in
// OpenAI's shape; the operator's key, billing or quota and overload go to the next target at once
// (529 overloaded: retrying the same target makes it worse); transient server errors get a retry.
export function classifyAnthropic({ status, body }: UpstreamFailure): ErrorDecision {
  const error = errorOf(body)
  const message = typeof error.message === 'string' ? error.message : `HTTP ${status}`
  const code = typeof error.details?.error_code === 'string' ? error.details.error_code : ''
  if (ACCOUNT_CODES.test(code)) return { action: 'fallback' }
  const relay = (code: string | null, type = 'invalid_request_error'): ErrorDecision => ({
    action: 'relay',
    status,
    error: { message: `Upstream rejected the request: ${message}`, type, param: null, code },
  })
  if (status === 400) return relay(null)
  if (status === 404) return relay('model_not_found')
  if (status === 413) return relay('request_too_large')
  if (status === 409 || status === 500 || status === 502) return { action: 'retry' }
  return { action: 'fallback' }
}
