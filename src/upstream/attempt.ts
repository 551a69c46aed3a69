import { err, ok, type Result } from '../lib/result'
import { requestFor, type Operation } from './operation'
import { RequestRejected, type OpenAIErrorObject } from './providers/types'
import type { Target } from './targets'

export type AttemptError =
  | { reason: 'timeout' }
  | { reason: 'network' }
  | { reason: 'client_gone' }
  // The request cannot be expressed in this provider's protocol; nothing was sent.
  | { reason: 'rejected'; error: OpenAIErrorObject }
  | {
      reason: 'upstream_status'
      status: number
      retryAfterMs: number | null
      body: string
      contentType: string
      headers: Headers
    }

// `text` is the whole body when the caller asked for it (non-streaming): reading it inside the attempt
// means a body cut short is still a retryable failure, since nothing has reached the client yet.
export type AttemptOk = { response: Response; ttfbMs: number; text: string | null }

const MAX_ERROR_BODY = 64 * 1024

function retryAfterMs(headers: Headers): number | null {
  const ms = Number(headers.get('retry-after-ms'))
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms
  const raw = headers.get('retry-after')
  if (raw === null) return null
  const seconds = Number(raw)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(raw)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}

// One upstream call. `timeoutMs` bounds the time to the response head; `clientSignal` aborts the call
// (head or body) when our client goes away.
export async function attempt(
  target: Target,
  op: Operation,
  clientSignal: AbortSignal | undefined,
  readBody: boolean,
): Promise<Result<AttemptOk, AttemptError>> {
  if (clientSignal?.aborted) return err({ reason: 'client_gone' })
  const controller = new AbortController()
  let timedOut = false
  let timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, target.timeoutMs)
  const onClientGone = () => controller.abort()
  clientSignal?.addEventListener('abort', onClientGone)
  const started = Date.now()
  try {
    const request = requestFor(target, op)
    // A redirect is never followed: the provider's key would go with it to whatever host it names.
    const response = await fetch(request, { signal: controller.signal, redirect: 'manual' })
    const ttfbMs = Date.now() - started
    if (response.ok && !readBody) return ok({ response, ttfbMs, text: null })
    if (response.ok) {
      clearTimeout(timer)
      timer = setTimeout(() => {
        timedOut = true
        controller.abort()
      }, target.timeoutMs)
      return ok({ response, ttfbMs, text: await response.text() })
    }
    const text = await readCapped(response, MAX_ERROR_BODY)
    return err({
      reason: 'upstream_status',
      status: response.status,
      retryAfterMs: retryAfterMs(response.headers),
      body: text,
      contentType: response.headers.get('content-type') ?? '',
      headers: response.headers,
    })
  } catch (error) {
    if (error instanceof RequestRejected) return err({ reason: 'rejected', error: error.error })
    if (clientSignal?.aborted) return err({ reason: 'client_gone' })
    return err({ reason: timedOut ? 'timeout' : 'network' })
  } finally {
    clearTimeout(timer)
    clientSignal?.removeEventListener('abort', onClientGone)
  }
}

// An error body is only kept for its message: read at most `limit` bytes and drop the rest, so a huge
// error page cannot eat the isolate's memory.
async function readCapped(response: Response, limit: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (text.length < limit) {
    const { value, done } = await reader.read()
    if (done) return text
    text += decoder.decode(value, { stream: true })
  }
  await reader.cancel().catch(() => {})
  return text.slice(0, limit)
}
