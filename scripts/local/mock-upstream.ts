// A small, faithful mock of an OpenAI-compatible upstream, used by `npm run dev`, the test suite and the
// benchmark. Plain node:http, no dependencies.
//
// Routes live under `/v1/...` (scenario "default") or `/s/<scenario>/v1/...`, where the scenario string picks a
// behaviour: parts joined by `+`, plus an optional trailing `~<tag>` that only makes the string unique, e.g.
// `fail2x500+gap20~t1`. Parts: status<CODE>, retryafter<MS>, fail<N>x<CODE>, hang, hangbody, cut<K>, gap<MS>,
// chunks<N>, nousage, delay<MS>, secretleak. Unknown parts are ignored.
//
// Control routes: GET /__requests[?scenario=s], GET /__aborts[?scenario=s], POST /__reset[?scenario=s].
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'

export type RecordedRequest = {
  scenario: string
  method: string
  path: string
  authorization: string | null
  headers: Record<string, string>
  body: unknown
  at: number
}

export type MockUpstream = {
  url: string
  port: number
  requests: RecordedRequest[]
  close(): Promise<void>
}

type Scenario = {
  status?: number
  retryAfterMs?: number
  fail?: { n: number; code: number }
  hang: boolean
  hangBody: boolean
  cut?: number
  gapMs: number
  chunks: number
  noUsage: boolean
  delayMs: number
  secretLeak: boolean
}

type Json = Record<string, unknown>

const MAX_BODY_BYTES = 16 * 1024 * 1024
const FINGERPRINT = 'fp_mock0001'
const WORDS = ['Hello', ' from', ' mock', ' upstream', '.']
const MODELS = [
  { id: 'gpt-4o-mini', created: 1721172741, owned_by: 'system' },
  { id: 'gpt-4o', created: 1715367049, owned_by: 'system' },
  { id: 'gpt-4.1-mini', created: 1744318173, owned_by: 'system' },
  { id: 'text-embedding-3-small', created: 1705948997, owned_by: 'system' },
  { id: 'text-embedding-3-large', created: 1705953180, owned_by: 'system' },
]
const JSON_PARSE_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library " +
  'correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)'

export function parseScenario(name: string): Scenario {
  const s: Scenario = {
    hang: false,
    hangBody: false,
    gapMs: 0,
    chunks: 5,
    noUsage: false,
    delayMs: 0,
    secretLeak: false,
  }
  const tilde = name.indexOf('~')
  const spec = tilde === -1 ? name : name.slice(0, tilde)
  for (const part of spec.split('+')) {
    let m: RegExpExecArray | null
    if (part === 'hang') s.hang = true
    else if (part === 'hangbody') s.hangBody = true
    else if (part === 'nousage') s.noUsage = true
    else if (part === 'secretleak') s.secretLeak = true
    else if ((m = /^status(\d{3})$/.exec(part)) && isErrorCode(Number(m[1]))) s.status ??= Number(m[1])
    else if ((m = /^retryafter(\d{1,9})$/.exec(part))) s.retryAfterMs = Number(m[1])
    else if ((m = /^fail(\d{1,9})x(\d{3})$/.exec(part)) && isErrorCode(Number(m[2])))
      s.fail ??= { n: Number(m[1]), code: Number(m[2]) }
    else if ((m = /^cut(\d{1,9})$/.exec(part))) s.cut = Number(m[1])
    else if ((m = /^gap(\d{1,9})$/.exec(part))) s.gapMs = Number(m[1])
    else if ((m = /^chunks(\d{1,9})$/.exec(part))) s.chunks = Math.min(Number(m[1]), 100_000)
    else if ((m = /^delay(\d{1,9})$/.exec(part))) s.delayMs = Number(m[1])
  }
  return s
}

export async function startMockUpstream(
  opts: { port?: number; host?: string; latencyMs?: number; record?: boolean } = {},
): Promise<MockUpstream> {
  const host = opts.host ?? '127.0.0.1'
  const latencyMs = Math.max(0, Number(opts.latencyMs) || 0)
  const record = opts.record ?? true
  const requests: RecordedRequest[] = []
  const failCounts = new Map<string, number>()
  const aborts = new Map<string, number>()

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch(() => {
      // Never crash and never leak a stack trace: answer a bare 500 if we still can.
      if (!res.headersSent && !res.destroyed) sendError(res, 500, 'Internal mock error.', 'server_error')
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 30_000
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !socket.destroyed)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const at = Date.now()
    res.on('error', () => {})
    req.on('error', () => {})
    const method = req.method ?? 'GET'
    const rawUrl = req.url ?? '/'
    const qIndex = rawUrl.indexOf('?')
    const pathname = qIndex === -1 ? rawUrl : rawUrl.slice(0, qIndex)
    const query = parseQuery(qIndex === -1 ? '' : rawUrl.slice(qIndex + 1))

    // Local control routes.
    if (pathname === '/__requests' && method === 'GET') {
      const only = query.get('scenario')
      return sendJson(res, 200, only === undefined ? requests : requests.filter((r) => r.scenario === only))
    }
    if (pathname === '/__aborts' && method === 'GET') {
      const only = query.get('scenario')
      let aborted = 0
      for (const [k, v] of aborts) if (only === undefined || k === only) aborted += v
      return sendJson(res, 200, { aborted })
    }
    if (pathname === '/__reset' && method === 'POST') {
      await readBody(req)
      const only = query.get('scenario')
      if (only === undefined) {
        requests.length = 0
        failCounts.clear()
        aborts.clear()
      } else {
        for (let i = requests.length - 1; i >= 0; i--)
          if (requests[i]?.scenario === only) requests.splice(i, 1)
        failCounts.delete(only)
        aborts.delete(only)
      }
      return sendJson(res, 200, { ok: true })
    }

    let scenario = 'default'
    let apiPath = pathname
    const m = /^\/s\/([^/]+)(\/v1(?:\/.*)?)$/.exec(pathname)
    if (m) {
      scenario = safeDecode(m[1] ?? '')
      apiPath = m[2] ?? '/v1'
    }

    // A request counts as aborted when the connection closes before the response finished, unless we cut it.
    const state = { cutByUs: false }
    res.on('close', () => {
      if (!res.writableFinished && !state.cutByUs) aborts.set(scenario, (aborts.get(scenario) ?? 0) + 1)
    })

    const raw = await readBody(req)
    if (raw === null) {
      if (!res.destroyed) sendError(res, 413, 'Request body too large.', 'invalid_request_error')
      return
    }
    let body: unknown = null
    let parseError = false
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw)
      } catch {
        parseError = true
        body = raw
      }
    }
    if (record) {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
      }
      requests.push({
        scenario,
        method,
        path: apiPath,
        authorization: headers.authorization ?? null,
        headers,
        body,
        at,
      })
    }

    const sc = parseScenario(scenario)
    await wait(res, latencyMs + sc.delayMs)
    if (res.destroyed) return
    if (sc.hang) return // never answer; the socket stays open until the client goes away

    if (sc.secretLeak) {
      const url = `http://${req.headers.host ?? `${host}:${port}`}${rawUrl}`
      const auth = req.headers.authorization ?? '(none)'
      return sendError(
        res,
        500,
        `Internal failure while handling ${method} ${url} with Authorization: ${auth}`,
        'server_error',
      )
    }
    if (sc.status !== undefined) return sendStatusError(res, sc.status, sc)
    if (sc.fail) {
      const seen = failCounts.get(scenario) ?? 0
      if (seen < sc.fail.n) {
        failCounts.set(scenario, seen + 1)
        return sendStatusError(res, sc.fail.code, sc)
      }
    }

    if (apiPath === '/v1/chat/completions' && method === 'POST')
      return chatCompletions(res, body, parseError, sc, state)
    if (apiPath === '/v1/embeddings' && method === 'POST') return embeddings(res, body, parseError, sc, state)
    if (apiPath === '/v1/models' && method === 'GET') {
      return respondJson(res, sc, state, {
        object: 'list',
        data: MODELS.map((x) => ({ id: x.id, object: 'model', created: x.created, owned_by: x.owned_by })),
      })
    }
    const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(apiPath)
    if (modelMatch && method === 'GET') {
      const id = safeDecode(modelMatch[1] ?? '')
      const model = MODELS.find((x) => x.id === id)
      if (!model)
        return sendError(
          res,
          404,
          `The model '${id}' does not exist`,
          'invalid_request_error',
          'model',
          'model_not_found',
        )
      return respondJson(res, sc, state, {
        id,
        object: 'model',
        created: model.created,
        owned_by: model.owned_by,
      })
    }
    return sendError(res, 404, `Invalid URL (${method} ${apiPath})`, 'invalid_request_error')
  }

  // The checks every model route starts with, answered as OpenAI does; false once an error was sent.
  function hasModel(
    res: ServerResponse,
    body: unknown,
    parseError: boolean,
  ): body is Record<string, unknown> {
    const problem = parseError
      ? JSON_PARSE_MESSAGE
      : !isObject(body)
        ? 'The request body must be a JSON object.'
        : typeof body.model !== 'string' || body.model === ''
          ? 'you must provide a model parameter'
          : null
    if (problem) sendError(res, 400, problem, 'invalid_request_error')
    return problem === null
  }

  async function chatCompletions(
    res: ServerResponse,
    body: unknown,
    parseError: boolean,
    sc: Scenario,
    state: { cutByUs: boolean },
  ) {
    if (!hasModel(res, body, parseError)) return
    const messages = body.messages
    if (!Array.isArray(messages))
      return sendError(
        res,
        400,
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'messages',
        'missing_required_parameter',
      )
    if (messages.length === 0)
      return sendError(
        res,
        400,
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        'invalid_request_error',
        'messages',
        'empty_array',
      )
    for (let i = 0; i < messages.length; i++) {
      const msg: unknown = messages[i]
      if (!isObject(msg) || typeof msg.role !== 'string')
        return sendError(
          res,
          400,
          `Invalid value for 'messages[${i}]': expected an object with a string 'role'.`,
          'invalid_request_error',
          `messages[${i}]`,
          'invalid_value',
        )
    }
    const stream = body.stream === true
    if (body.stream_options != null && !stream)
      return sendError(
        res,
        400,
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        'invalid_request_error',
        'stream_options',
      )
    const maxParam = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens'
    const max = body[maxParam]
    if (max != null && !(typeof max === 'number' && Number.isInteger(max) && max >= 1))
      return sendError(
        res,
        400,
        `Invalid '${maxParam}': expected an integer >= 1, but got ${JSON.stringify(max)} instead.`,
        'invalid_request_error',
        maxParam,
        'invalid_value',
      )

    let pieces = Array.from({ length: sc.chunks }, (_, i) =>
      i > 0 && i % WORDS.length === 0 ? ' Hello' : WORDS[i % WORDS.length]!,
    )
    let finishReason = 'stop'
    if (typeof max === 'number' && max < pieces.length) {
      pieces = pieces.slice(0, max)
      finishReason = 'length'
    }
    const model = body.model
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`
    const created = Math.floor(Date.now() / 1000)
    const usage = makeUsage(promptTokens(messages), pieces.length)

    if (!stream) {
      return respondJson(res, sc, state, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: pieces.join(''), refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        ...(sc.noUsage ? {} : { usage }),
        service_tier: 'default',
        system_fingerprint: FINGERPRINT,
      })
    }

    const streamOptions = body.stream_options
    const includeUsage = isObject(streamOptions) && streamOptions.include_usage === true && !sc.noUsage
    const chunk = (choices: unknown[], chunkUsage: unknown = null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
      choices,
      ...(includeUsage ? { usage: chunkUsage } : {}),
    })
    const delta = (d: Json, finish: string | null = null) => [
      { index: 0, delta: d, logprobs: null, finish_reason: finish },
    ]
    const send = (payload: unknown) => {
      if (!res.destroyed) res.write(`data: ${JSON.stringify(payload)}\n\n`)
    }
    const cut = () => {
      state.cutByUs = true
      res.destroy()
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': requestId(),
      'openai-processing-ms': String(latencyMs + sc.delayMs),
    })
    send(chunk(delta({ role: 'assistant', content: '', refusal: null })))
    if (sc.hangBody) return // head and first chunk sent; stall until the client goes away
    for (let i = 0; i < pieces.length; i++) {
      if (sc.cut !== undefined && i >= sc.cut) return cut()
      await wait(res, sc.gapMs)
      if (res.destroyed) return
      send(chunk(delta({ content: pieces[i] })))
    }
    if (sc.cut !== undefined) return cut()
    await wait(res, sc.gapMs)
    if (res.destroyed) return
    send(chunk(delta({}, finishReason)))
    if (includeUsage) {
      await wait(res, sc.gapMs)
      if (res.destroyed) return
      send(chunk([], usage))
    }
    await wait(res, sc.gapMs)
    if (!res.destroyed) res.end('data: [DONE]\n\n')
  }

  async function embeddings(
    res: ServerResponse,
    body: unknown,
    parseError: boolean,
    sc: Scenario,
    state: { cutByUs: boolean },
  ) {
    if (!hasModel(res, body, parseError)) return
    if (body.input === undefined)
      return sendError(
        res,
        400,
        "Missing required parameter: 'input'.",
        'invalid_request_error',
        'input',
        'missing_required_parameter',
      )
    const inputs = normalizeInput(body.input)
    if (!inputs)
      return sendError(
        res,
        400,
        "'$.input' is invalid. Expected a non-empty string, array of strings, or array of token arrays.",
        'invalid_request_error',
        'input',
        'invalid_value',
      )
    const format = body.encoding_format ?? 'float'
    if (format !== 'float' && format !== 'base64')
      return sendError(
        res,
        400,
        `Invalid value for 'encoding_format': expected 'float' or 'base64', got ${JSON.stringify(format)}.`,
        'invalid_request_error',
        'encoding_format',
        'invalid_value',
      )
    const dims = body.dimensions ?? 8
    if (!(typeof dims === 'number' && Number.isInteger(dims) && dims >= 1 && dims <= 4096))
      return sendError(
        res,
        400,
        `Invalid 'dimensions': expected an integer between 1 and 4096, got ${JSON.stringify(dims)}.`,
        'invalid_request_error',
        'dimensions',
        'invalid_value',
      )
    let tokens = 0
    const data = inputs.map((input, index) => {
      tokens += input.tokens
      const vector = embed(input.text, dims)
      return { object: 'embedding', index, embedding: format === 'base64' ? toBase64(vector) : vector }
    })
    return respondJson(res, sc, state, {
      object: 'list',
      data,
      model: body.model,
      ...(sc.noUsage ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
    })
  }

  // A successful JSON answer, honouring the faults that apply to non-streaming responses.
  function respondJson(res: ServerResponse, sc: Scenario, state: { cutByUs: boolean }, payload: unknown) {
    if (sc.cut !== undefined) {
      state.cutByUs = true
      res.destroy()
      return
    }
    if (sc.hangBody) {
      const text = JSON.stringify(payload)
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId() })
      res.write(text.slice(0, Math.floor(text.length / 2)))
      return // stall with half a body until the client goes away
    }
    sendJson(res, 200, payload, { 'openai-processing-ms': String(latencyMs + sc.delayMs) })
  }

  function sendStatusError(res: ServerResponse, status: number, sc: Scenario) {
    const headers: Record<string, string> = {}
    if (status === 429) {
      const ms = sc.retryAfterMs ?? 50
      headers['retry-after-ms'] = String(ms)
      headers['retry-after'] = String(sc.retryAfterMs === undefined ? 0 : Math.ceil(ms / 1000))
    }
    const e = errorFor(status)
    sendError(res, status, e.message, e.type, null, e.code, headers)
  }

  let port = opts.port ?? 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address && typeof address === 'object') port = address.port
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

// ---- helpers ---------------------------------------------------------------------------------------------

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isErrorCode(code: number) {
  return code >= 400 && code <= 599
}

function safeDecode(s: string) {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

// Like URLSearchParams, but a literal `+` stays `+` (scenario strings use it as a separator).
function parseQuery(q: string) {
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
function readBody(req: IncomingMessage): Promise<string | null> {
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
function wait(res: ServerResponse, ms: number): Promise<void> {
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

function requestId() {
  return `req_${randomBytes(16).toString('hex')}`
}

function sendJson(
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

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  headers: Record<string, string> = {},
) {
  sendJson(res, status, { error: { message, type, param, code } }, headers)
}

function errorFor(status: number): { message: string; type: string; code: string | null } {
  switch (status) {
    case 400:
      return { message: 'Invalid request (mock status 400).', type: 'invalid_request_error', code: null }
    case 401:
      return {
        message:
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      }
    case 403:
      return {
        message: 'You are not allowed to access this resource.',
        type: 'invalid_request_error',
        code: null,
      }
    case 404:
      return {
        message: 'The model does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        code: 'model_not_found',
      }
    case 429:
      return {
        message: 'Rate limit reached for requests (mock). Please try again shortly.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      }
    case 500:
      return {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        code: null,
      }
    case 503:
      return {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: null,
      }
    default:
      return status >= 500
        ? { message: `Upstream error (mock status ${status}).`, type: 'server_error', code: null }
        : { message: `Request failed (mock status ${status}).`, type: 'invalid_request_error', code: null }
  }
}

function promptTokens(messages: unknown[]) {
  let total = 0
  for (const msg of messages) {
    let chars = 0
    const content = isObject(msg) ? msg.content : undefined
    if (typeof content === 'string') chars = content.length
    else if (Array.isArray(content))
      for (const part of content)
        if (isObject(part) && typeof part.text === 'string') chars += part.text.length
    total += Math.ceil(chars / 4) + 3
  }
  return total
}

function makeUsage(prompt: number, completion: number) {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

// string | string[] | number[] | number[][] -> [{ text, tokens }], or null when invalid or empty.
function normalizeInput(input: unknown): { text: string; tokens: number }[] | null {
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)
  const one = (v: unknown) => {
    if (typeof v === 'string' && v.length > 0)
      return { text: v, tokens: Math.max(1, Math.ceil(v.length / 4)) }
    if (isTokens(v)) return { text: v.join(','), tokens: v.length }
    return null
  }
  if (!Array.isArray(input) || isTokens(input)) {
    const r = one(input)
    return r ? [r] : null
  }
  if (input.length === 0 || input.length > 2048) return null
  const out = input.map(one)
  return out.every((r) => r !== null) ? (out as { text: string; tokens: number }[]) : null
}

// Deterministic unit vector derived from the text; values are float32-exact so the float and base64 encodings
// decode to the same numbers.
function embed(text: string, dims: number): number[] {
  const raw: number[] = []
  for (let block = 0; raw.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest()
    for (let i = 0; i + 4 <= digest.length && raw.length < dims; i += 4)
      raw.push(digest.readUInt32LE(i) / 2 ** 31 - 1)
  }
  const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0)) || 1
  return raw.map((x) => Math.fround(x / norm))
}

function toBase64(vector: number[]) {
  const buf = Buffer.alloc(vector.length * 4)
  vector.forEach((x, i) => buf.writeFloatLE(x, i * 4))
  return buf.toString('base64')
}

// ---- run as a script -------------------------------------------------------------------------------------

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8788)
  const latencyMs = Number(process.env.MOCK_LATENCY_MS ?? process.env.LATENCY_MS ?? 0)
  try {
    const mock = await startMockUpstream({
      port,
      host: process.env.HOST ?? '127.0.0.1',
      latencyMs,
      record: process.env.MOCK_RECORD !== '0',
    })
    console.log(`mock upstream listening on ${mock.url}${latencyMs ? ` (latency ${latencyMs}ms)` : ''}`)
    const stop = () => void mock.close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } catch (err) {
    console.error(`mock upstream failed to start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}
