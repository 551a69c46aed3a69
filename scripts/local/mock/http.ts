// Plain node:http helpers shared by the mock upstreams.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'

export type Json = Record<string, unknown>

const MAX_BODY_BYTES = 16 * 1024 * 1024

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function isErrorCode(code: number) {
  return code >= 400 && code <= 599
}

export function safeDecode(s: string) {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

// Like URLSearchParams, but a literal `+` stays `+` (scenario strings use it as a separator).
export function parseQuery(q: string) {
  const out = new Map<string, string>()
  for (const pair of q.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    const k = safeDecode(eq === -1 ? pair : pair.slice(0, eq))
    if (!out.has(k)) out.set(k, safeDecode(eq === -1 ? '' : pair.slice(eq + 1)))
  }
  return { get: (k: string) => out.get(k) }
}

// Resolves with the body text, or null when it is larger than MAX_BODY_BYTES. Resolves (with what arrived) if
// the client goes away mid-body; the caller then finds the response destroyed.
export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    const finish = (v: string | null) => {
      if (!done) {
        done = true
        resolve(v)
      }
    }
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data')
        req.resume()
        return finish(null)
      }
      chunks.push(c)
    })
    req.on('end', () => finish(Buffer.concat(chunks).toString('utf8')))
    req.on('close', () => finish(Buffer.concat(chunks).toString('utf8')))
    req.on('error', () => finish(''))
  })
}

// Waits ms (at least one macrotask, so consecutive SSE writes are flushed separately); ends early if the
// response closes.
export function wait(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve()
    const done = () => {
      if (ms > 0) clearTimeout(timer as NodeJS.Timeout)
      else clearImmediate(timer as NodeJS.Immediate)
      res.off('close', done)
      resolve()
    }
    const timer = ms > 0 ? setTimeout(done, ms) : setImmediate(done)
    res.on('close', done)
  })
}

export function requestId() {
  return `req_${randomBytes(16).toString('hex')}`
}

export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  if (res.destroyed || res.headersSent) return
  const text = JSON.stringify(payload)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'x-request-id': requestId(),
    ...headers,
  })
  res.end(text)
}
