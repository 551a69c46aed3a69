import { createMiddleware } from 'hono/factory'
import type * as z from 'zod/mini'
import type { AppEnv } from '../context'
import { GatewayError } from '../errors'

function tooLarge(limit: number): GatewayError {
  return new GatewayError({
    code: 'request_too_large',
    message: `Request body exceeds the limit of ${limit} bytes.`,
  })
}

// Reads the body under the size limit: refused before reading when Content-Length says so, else
// counted while streaming in.
async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  if (!request.body) return ''
  // A declared length frames the body (the runtime never delivers more), so it is read in one go.
  if (request.headers.has('content-length') && Number.isFinite(declared)) return request.text()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}

function paramOf(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  )
}

function valueAt(json: unknown, path: PropertyKey[]): unknown {
  let value = json
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<PropertyKey, unknown>)[part]
  }
  return value
}

export function validateJson<S extends z.ZodMiniType<Record<string, unknown>>>(schema: S) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const type = c.req.header('content-type')
    if (type && !/json/i.test(type)) {
      throw new GatewayError({
        code: 'invalid_request_error',
        message: `Unsupported Content-Type "${type}"; send application/json.`,
      })
    }
    let text: string
    try {
      text = await readBody(c.req.raw, c.get('deps').config.MAX_BODY_BYTES)
    } catch (error) {
      if (error instanceof GatewayError) throw error
      // The body stream broke: the client left (499, nobody to answer) or sent less than it announced.
      if (c.req.raw.signal?.aborted) {
        c.get('meter')?.ended({ status: 499, code: 'client_disconnected' })
        return new Response(null, { status: 499 })
      }
      throw new GatewayError({
        code: 'invalid_request_error',
        message: 'The request body was cut short or could not be read; send the whole JSON body.',
      })
    }
    if (!text.trim())
      throw new GatewayError({
        code: 'invalid_request_error',
        message: 'The request body is empty; send a JSON object.',
      })
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new GatewayError({
        code: 'invalid_request_error',
        message: 'We could not parse the JSON body of your request.',
      })
    }
    if (json && typeof json === 'object' && typeof (json as { model?: unknown }).model === 'string') {
      // Only the /v1 routes open a meter; admin routes reuse this validator without one.
      c.get('meter')?.named((json as { model: string }).model)
    }
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      const param = paramOf(issue.path)
      const missing = issue.path.length > 0 && valueAt(json, issue.path) === undefined
      throw new GatewayError({
        code: 'invalid_request_error',
        message: missing
          ? `Missing required parameter: '${param}'.`
          : `Invalid value for '${param || 'body'}': ${issue.message}`,
        param: param || null,
      })
    }
    c.set('body', parsed.data)
    await next()
  })
}
