// Small, faithful mocks of the upstream APIs (one module per protocol under mock/), on one port, used by
// `npm run dev`, the test suite and the benchmark. Plain node:http, no dependencies.
//
// Routes live under `/v1/...` (scenario "default") or `/s/<scenario>/<version>/...`, where the scenario
// string picks a behaviour (mock/scenario.ts). The path decides the protocol: OpenAI (`/v1/chat/completions`,
// …), Anthropic (`/v1/messages`), Gemini (`/v1beta/models/<m>:generateContent`, …).
//
// Control routes: GET /__requests[?scenario=s], GET /__aborts[?scenario=s], POST /__reset[?scenario=s].
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pathToFileURL } from 'node:url'
import type { Call, ProtocolMock } from './mock/call.ts'
import { parseQuery, readBody, safeDecode, sendJson, wait } from './mock/http.ts'
import { anthropicMock } from './mock/anthropic.ts'
import { geminiMock } from './mock/gemini.ts'
import { openaiMock, sendError } from './mock/openai.ts'
import { responsesMock } from './mock/responses.ts'
import { anthropicCountMock } from './mock/anthropic-count.ts'
import { parseScenario } from './mock/scenario.ts'
import { resetPromptCaches } from './mock/prompt-cache.ts'
import { answerHostile } from './mock/hostile.ts'

const PROTOCOLS: ProtocolMock[] = [openaiMock, anthropicMock, anthropicCountMock, responsesMock, geminiMock]

export type RecordedRequest = {
  scenario: string
  method: string
  path: string
  authorization: string | null
  headers: Record<string, string>
  body: unknown
  // The body exactly as received (webhook signatures are over these bytes).
  raw: string
  at: number
}

export type MockUpstream = {
  url: string
  port: number
  requests: RecordedRequest[]
  close(): Promise<void>
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
        resetPromptCaches()
      } else {
        for (let i = requests.length - 1; i >= 0; i--)
          if (requests[i]?.scenario === only) requests.splice(i, 1)
        failCounts.delete(only)
        aborts.delete(only)
        resetPromptCaches(only)
      }
      return sendJson(res, 200, { ok: true })
    }

    let scenario = 'default'
    let apiPath = pathname
    const m = /^\/s\/([^/]+)(\/v1(?:beta)?(?:\/.*)?)$/.exec(pathname)
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
        raw,
        at,
      })
    }

    const sc = parseScenario(scenario)
    await wait(res, latencyMs + sc.delayMs)
    if (res.destroyed) return
    if (sc.hang) return // never answer; the socket stays open until the client goes away
    if (sc.redirect) {
      // A redirect to another scenario on this mock, whose requests are recorded like any other.
      res.writeHead(307, { location: rawUrl.replace(`/s/${scenario}/`, `/s/redirected-${scenario}/`) })
      return res.end()
    }

    if (sc.secretLeak) {
      const url = `http://${req.headers.host ?? `${host}:${port}`}${rawUrl}`
      const auth = req.headers.authorization ?? '(none)'
      // With status<CODE> (e.g. 400) the echo comes in an error the gateway relays to its client.
      const status = sc.status ?? 500
      return sendError(
        res,
        status,
        `Internal failure while handling ${method} ${url} with Authorization: ${auth}`,
        status >= 500 ? 'server_error' : 'invalid_request_error',
      )
    }
    if (answerHostile(req, res, method, apiPath, body, sc)) return
    const call: Call = { req, res, method, apiPath, scenario, query, body, parseError, sc, state, latencyMs }
    const protocol = PROTOCOLS.find((p) => p.owns(apiPath, method)) ?? openaiMock
    // Per-key faults: a revoked key (deny<SUFFIX>) or a rate-limited one (limit<SUFFIX>).
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '')
    if (sc.denyKeys.some((suffix) => bearer.endsWith(suffix))) return protocol.sendStatus(call, 401)
    if (sc.limitKeys.some((suffix) => bearer.endsWith(suffix))) return protocol.sendStatus(call, 429)
    if (sc.status !== undefined) return protocol.sendStatus(call, sc.status)
    if (sc.fail) {
      const seen = failCounts.get(scenario) ?? 0
      if (seen < sc.fail.n) {
        failCounts.set(scenario, seen + 1)
        return protocol.sendStatus(call, sc.fail.code)
      }
    }

    // A webhook receiver for the gateway's deliveries (record, then 200; faults as for any route).
    if (apiPath === '/v1/webhook' && method === 'POST') return sendJson(res, 200, { received: true })
    // An OTLP/HTTP JSON trace receiver (OTEL_EXPORTER_OTLP_ENDPOINT = <mock>/s/<scenario>): record, then
    // the protocol's empty success.
    if (apiPath === '/v1/traces' && method === 'POST') return sendJson(res, 200, { partialSuccess: {} })
    if (protocol.owns(apiPath, method)) return protocol.handle(call)
    return sendError(res, 404, `Invalid URL (${method} ${apiPath})`, 'invalid_request_error')
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
