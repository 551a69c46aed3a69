import type { ErrorDecision, UpstreamFailure } from '../types'

type GoogleError = { message?: unknown; status?: unknown; details?: { reason?: unknown }[] }

// Invalid or expired keys arrive as 400 INVALID_ARGUMENT: the operator's fault, never the client's.
const KEY_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_EXPIRED'])

// Gemini's errors (docs/providers.md §2.8): the client's own mistakes are relayed in OpenAI's shape; the
// operator's key, billing, permissions, quota and unavailability go to the next target; 500 is retried.
export function classifyGemini({ status, body }: UpstreamFailure): ErrorDecision {
  let error: GoogleError = {}
  try {
    error = (JSON.parse(body) as { error?: GoogleError }).error ?? {}
  } catch {
    // not JSON
  }
  const reasons = (Array.isArray(error.details) ? error.details : []).map((d) => String(d?.reason))
  const message = typeof error.message === 'string' ? error.message : `HTTP ${status}`
  if (reasons.some((r) => KEY_REASONS.has(r)) || error.status === 'FAILED_PRECONDITION')
    return { action: 'fallback' }
  const relay = (code: string | null): ErrorDecision => ({
    action: 'relay',
    status,
    error: {
      message: `Upstream rejected the request: ${message}`,
      type: 'invalid_request_error',
      param: null,
      code,
    },
  })
  if (status === 400) return relay(null)
  if (status === 404) return relay('model_not_found')
  if (status === 413) return relay('request_too_large')
  if (status === 500) return { action: 'retry' }
  return { action: 'fallback' }
}
