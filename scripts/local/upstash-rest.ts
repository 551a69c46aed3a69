import http from 'node:http'
import { createHash } from 'node:crypto'
// Default import: under vitest with the Cloudflare plugin the named `Redis` export of this CommonJS module
// comes through undefined. Reply errors are recognised by name for the same reason.
import Redis from 'ioredis'
import { isReplyError, message, readBody, redact } from './util.ts'

// A local stand-in for Upstash's Redis REST API, forwarding to a real Redis. The wire details it follows
// (encoding, status codes, EVAL shebangs) are in docs/local-endpoints.md, section B.

export type UpstashEndpoint = {
  url: string
  port: number
  token: string
  stats: { requests: number; commands: number }
  // One-way delay added to each REST call (the request leg before Redis runs it, the reply leg after):
  // a Worker at an edge location far from the Upstash primary. Settable while running.
  latency: { oneWayMs: number }
  close(): Promise<void>
}

type Json = string | number | null | Json[]
type Reply = Buffer | string | number | bigint | null | undefined | Error | Reply[]
type Command = { name: string; args: string[]; reply?: Buffer } // reply: answer with this instead
type Prepared = Command | { error: string }

const REST_PATHS = new Set(['/', '/pipeline', '/multi-exec'])
const OK = Buffer.from('OK')

// Commands that would change or stall the one connection every request shares.
const REJECTED = new Set(
  (
    'MULTI EXEC DISCARD WATCH UNWATCH SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE ' +
    'MONITOR SELECT SWAPDB QUIT RESET HELLO AUTH CLIENT SYNC PSYNC REPLCONF SHUTDOWN ' +
    'BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP WAIT WAITAOF'
  ).split(' '),
)

// A malformed request (not a Redis error): answered with 400.
const badRequest = (msg: string) => Object.assign(new Error(msg), { badRequest: true })

export async function startUpstashEndpoint(opts: {
  redisUrl: string
  token: string
  db?: number
  flush?: boolean
  port?: number
  host?: string
  oneWayLatencyMs?: number
}): Promise<UpstashEndpoint> {
  const url = new URL(opts.redisUrl)
  // ioredis lets a db in the URL path win over the `db` option, so put it in the URL.
  if (opts.db !== undefined) url.pathname = `/${opts.db}`
  const where = redact(url)
  const redis = new Redis(url.toString(), {
    protocol: 2, // ioredis 6 defaults to RESP3, whose reply shapes differ from what Upstash returns
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  })
  // ioredis reports the socket error (ECONNREFUSED, ...) as an event; commands then fail with a vaguer one.
  let connError: string | undefined
  redis.on('error', (e) => (connError = message(e)))
  redis.on('ready', () => (connError = undefined))
  const unreachable = (e: unknown) =>
    `cannot reach Redis at ${where}: ${connError ?? (redis.status === 'ready' ? message(e) : `connection is ${redis.status}`)}`
  try {
    await redis.connect()
    if (opts.flush) await redis.callBuffer('FLUSHDB')
  } catch (e) {
    redis.disconnect()
    throw new Error(`Upstash endpoint: ${unreachable(e)}`)
  }

  const stats = { requests: 0, commands: 0 }
  const latency = { oneWayMs: opts.oneWayLatencyMs ?? 0 }
  // sha1(script as sent) -> sha1(script as forwarded), for scripts whose shebang was rewritten.
  const shas = new Map<string, string>()

  function rewriteScript(script: string): string {
    // Redis 7 rejects Upstash's `#!lua flags=allow-key-locking` (Redis 6 any shebang): turn the line into a
    // Lua comment, which keeps line numbers, and remember the sha so EVALSHA of the original still hits.
    if (!script.startsWith('#!')) return script
    const rewritten = '--' + script
    shas.set(sha1(script), sha1(rewritten))
    return rewritten
  }
  const mapSha = (sha: string) => shas.get(sha.toLowerCase()) ?? sha

  function prepare(command: unknown): Prepared {
    if (!Array.isArray(command) || command.length === 0) {
      throw badRequest('ERR a command must be a non-empty JSON array')
    }
    stats.commands++
    const args = command.map(toArg)
    const name = args[0]!.toUpperCase()
    const rest = args.slice(1)
    const upper = rest.map((a) => a.toUpperCase())
    if (REJECTED.has(name) || ((name === 'XREAD' || name === 'XREADGROUP') && upper.includes('BLOCK'))) {
      return { error: `ERR command '${args[0]}' is not supported by the local Upstash endpoint` }
    }
    if (name === 'FLUSHALL') return { name: 'FLUSHDB', args: rest } // one Upstash database = our one db
    if ((name === 'EVAL' || name === 'EVAL_RO') && rest.length > 0) {
      rest[0] = rewriteScript(rest[0]!)
    } else if ((name === 'EVALSHA' || name === 'EVALSHA_RO') && rest.length > 0) {
      rest[0] = mapSha(rest[0]!)
    } else if (name === 'SCRIPT' && upper[0] === 'LOAD' && rest.length === 2) {
      const original = rest[1]!
      rest[1] = rewriteScript(original)
      // Upstash answers with the sha of the text the client sent, which the client then uses in EVALSHA.
      return { name, args: rest, reply: Buffer.from(sha1(original)) }
    } else if (name === 'SCRIPT' && upper[0] === 'EXISTS') {
      for (let i = 1; i < rest.length; i++) rest[i] = mapSha(rest[i]!)
    }
    return { name, args: rest }
  }

  async function single(body: unknown, b64: boolean): Promise<[number, unknown]> {
    const cmd = prepare(body)
    if ('error' in cmd) return [400, { error: cmd.error }]
    try {
      const reply = await redis.callBuffer(cmd.name, ...cmd.args)
      return [200, { result: encode(cmd.reply ?? (reply as Reply), b64, true) }]
    } catch (e) {
      if (isReplyError(e)) return [400, { error: redisError(e) }]
      throw e
    }
  }

  async function pipeline(body: unknown, b64: boolean): Promise<[number, unknown]> {
    const cmds = commandList(body).map(prepare)
    const p = redis.pipeline()
    for (const c of cmds) if (!('error' in c)) p.callBuffer(c.name, ...c.args)
    const results = p.length > 0 ? ((await p.exec()) ?? []) : []
    let next = 0
    return [200, cmds.map((c) => ('error' in c ? { error: c.error } : item(c, results[next++], b64)))]
  }

  async function multiExec(body: unknown, b64: boolean): Promise<[number, unknown]> {
    const prepared = commandList(body).map(prepare)
    const rejected = prepared.find((c) => 'error' in c)
    if (rejected && 'error' in rejected) return [400, { error: rejected.error }]
    const cmds = prepared as Command[]
    const m = redis.multi()
    for (const c of cmds) m.callBuffer(c.name, ...c.args)
    let results: [Error | null, unknown][]
    try {
      results = (await m.exec()) ?? []
    } catch (e) {
      // A queue-time error (unknown command, wrong arity) discards the transaction: EXECABORT.
      if (isReplyError(e)) {
        const first = (e as { previousErrors?: Error[] }).previousErrors?.[0]
        return [400, { error: redisError(first ?? e) }]
      }
      throw e
    }
    return [200, cmds.map((c, i) => item(c, results[i], b64))]
  }

  function item(cmd: Command, r: [Error | null, unknown] | undefined, b64: boolean) {
    if (!r) throw new Error('missing reply from Redis')
    const [err, reply] = r
    if (err) {
      if (isReplyError(err)) return { error: redisError(err) }
      throw err
    }
    return { result: encode(cmd.reply ?? (reply as Reply), b64, true) }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const reqUrl = new URL(req.url ?? '/', 'http://local')
    const path = reqUrl.pathname
    const syncToken = req.headers['upstash-sync-token']
    const send = (status: number, body: unknown) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' }
      if (typeof syncToken === 'string') headers['upstash-sync-token'] = syncToken
      if (status === 405) headers.allow = path.startsWith('/__stats') ? 'GET, POST' : 'POST'
      res.writeHead(status, headers).end(JSON.stringify(body))
    }
    if (REST_PATHS.has(path)) stats.requests++
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    if (bearer !== opts.token && reqUrl.searchParams.get('_token') !== opts.token) {
      return send(401, { error: 'Unauthorized' })
    }
    if (path === '/__stats' || path === '/__stats/reset') {
      if (path === '/__stats' && req.method === 'GET') return send(200, { requests: stats.requests })
      if (path === '/__stats/reset' && req.method === 'POST') {
        stats.requests = 0
        stats.commands = 0
        return send(200, { requests: 0 })
      }
      return send(405, { error: 'Method Not Allowed' })
    }
    if (!REST_PATHS.has(path)) {
      return send(404, {
        error: `ERR unknown path ${path}; this endpoint serves POST /, /pipeline and /multi-exec`,
      })
    }
    if (req.method !== 'POST') return send(405, { error: 'Method Not Allowed' })
    const text = await readBody(req)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return send(400, { error: 'ERR the request body is not valid JSON' })
    }
    const b64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'
    try {
      const run = path === '/' ? single : path === '/pipeline' ? pipeline : multiExec
      if (latency.oneWayMs > 0) await sleep(latency.oneWayMs)
      const [status, out] = await run(body, b64)
      if (latency.oneWayMs > 0) await sleep(latency.oneWayMs)
      send(status, out)
    } catch (e) {
      if ((e as { badRequest?: boolean }).badRequest) return send(400, { error: message(e) })
      send(503, { error: `ERR the local Upstash endpoint ${unreachable(e)}` })
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: `ERR ${message(e)}` }))
    })
  })
  const host = opts.host ?? '127.0.0.1'
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port ?? 0, host, () => resolve())
    })
  } catch (e) {
    redis.disconnect()
    throw new Error(`Upstash endpoint: cannot listen on ${host}:${opts.port ?? 0}: ${message(e)}`)
  }
  const port = (server.address() as { port: number }).port

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    token: opts.token,
    stats,
    latency,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      redis.disconnect()
    },
  }
}

// Upstash stringifies every argument: the client sends numbers and booleans as raw JSON values.
function toArg(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  // `undefined` in a client call arrives as JSON null; the client itself sends an explicit null as "null".
  if (v === null) return 'null'
  throw badRequest('ERR command arguments must be strings, numbers or booleans')
}

function commandList(body: unknown): unknown[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw badRequest('ERR the request body must be a non-empty JSON array of commands')
  }
  return body
}

// RESP2 reply -> JSON. With `Upstash-Encoding: base64` every string at every depth is base64 of its raw
// bytes, except a top-level "OK", which the client's decoder expects verbatim (inside arrays it would be
// base64-decoded into garbage). Errors go out as {"error"} unencoded; one nested in an array (a Lua table
// holding an error reply) becomes its message string.
function encode(v: Reply, b64: boolean, top: boolean): Json {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (Array.isArray(v)) return v.map((x) => encode(x, b64, false))
  const buf = Buffer.isBuffer(v) ? v : Buffer.from(v instanceof Error ? v.message : String(v))
  if (!b64 || (top && buf.equals(OK))) return buf.toString('utf8')
  return buf.toString('base64')
}

// We send command names upper-case (B8), so Redis echoes them that way in "unknown command" errors;
// the client sent them lower-case.
function redisError(e: unknown): string {
  return message(e).replace(
    /^ERR unknown command '([^']*)'/,
    (_, name: string) => `ERR unknown command '${name.toLowerCase()}'`,
  )
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function sha1(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex')
}
