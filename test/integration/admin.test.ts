import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/lib/ids'
import { admin, adminKey, expectOpenAIError } from '../helpers/admin'
import { ADMIN_TOKEN, gateway, gatewayWith, uid } from '../helpers/gateway'

const ID = '00000000-0000-4000-8000-000000000000'
const ROUTES: [string, string, unknown?][] = [
  ['GET', '/api-keys'],
  ['POST', '/api-keys', { name: 'x' }],
  ['GET', `/api-keys/${ID}`],
  ['PATCH', `/api-keys/${ID}`, { name: 'x' }],
  ['POST', `/api-keys/${ID}/rotate`],
  ['GET', '/providers'],
  ['POST', '/providers', { name: 'x', base_url: 'https://x.test' }],
  ['PATCH', `/providers/${ID}`, { enabled: false }],
  ['GET', '/model-mappings'],
  ['POST', '/model-mappings', { model: 'x', provider_id: ID }],
  ['PATCH', `/model-mappings/${ID}`, { weight: 2 }],
  ['DELETE', `/model-mappings/${ID}`],
  ['GET', '/prices'],
  ['PUT', '/prices/x', { input_per_million: 1, output_per_million: 1 }],
  ['GET', '/usage'],
  ['GET', '/usage?format=csv'],
  ['GET', '/usage/logs'],
  ['GET', '/audit'],
]

describe('admin authentication', () => {
  it('refuses every admin route without a token with an OpenAI-shaped 401', async () => {
    for (const [method, path, body] of ROUTES) {
      const reply = await admin(method, path, body, null)
      expectOpenAIError(reply, 401, 'unauthorized')
      expect(reply.body.error.type).toBe('invalid_request_error')
    }
  })

  it('refuses a wrong token, a token sharing only a prefix, a virtual key and a non-bearer scheme', async () => {
    for (const token of ['wrong', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), 'lgw_abc']) {
      expectOpenAIError(await admin('GET', '/api-keys', undefined, token), 401, 'unauthorized')
    }
    const basic = await gateway('/admin/api-keys', {
      headers: { authorization: `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}` },
    })
    expect(basic.status).toBe(401)
  })

  it('does not reveal which admin routes exist before the token is checked', async () => {
    expectOpenAIError(await admin('GET', '/nothing-here', undefined, null), 401, 'unauthorized')
    expectOpenAIError(await admin('GET', '/nothing-here'), 404, 'not_found')
  })

  it('throttles wrong tokens from an address after 20 failures, never the right token, and leaves other addresses alone', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}-${uid()}`
    // On Cloudflare (request.cf present, not a local deployment) CF-Connecting-IP is the client's address.
    const from = async (address: string, token: string | null, method = 'GET') => {
      const { res, body } = await gatewayWith({ ALLOW_PRIVATE_UPSTREAMS: 'false' }, '/admin/providers', {
        method,
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          'cf-connecting-ip': address,
        },
        cf: { colo: 'AMS' },
      } as RequestInit)
      return { status: res.status, headers: res.headers, body }
    }
    // Preflights and requests without a token are no guesses.
    for (let i = 0; i < 25; i++) expect((await from(ip, null, i % 2 ? 'OPTIONS' : 'GET')).status).toBe(401)
    for (let i = 0; i < 20; i++) expect((await from(ip, 'guess')).status).toBe(401)
    const blocked = await from(ip, 'guess')
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(JSON.parse(blocked.body).error.code).toBe('rate_limit_exceeded')
    expect((await from(ip, ADMIN_TOKEN)).status).toBe(200)
    expect((await from(`${ip}-other`, 'guess')).status).toBe(401)
  })

  it('ignores a client-set CF-Connecting-IP outside Cloudflare', async () => {
    // A local deployment (the tests', like npm run dev) cannot trust the header: a client could rotate it.
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}-${uid()}`
    for (let i = 0; i < 25; i++) {
      const res = await gateway('/admin/providers', {
        headers: { authorization: 'Bearer guess', 'cf-connecting-ip': ip },
        cf: { colo: 'AMS' },
      } as RequestInit)
      expect(res.status).toBe(401)
    }
  })
})

describe('when Postgres is unreachable', () => {
  const postgresDown = {
    DATABASE_URL: 'postgres://nexus:local@pgdown.localtest.me/nexusai',
    NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
  }

  it('answers reads and writes with 503 service_unavailable and no driver details', async () => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
    const list = await gatewayWith(postgresDown, '/admin/api-keys', { headers })
    const create = await gatewayWith(postgresDown, '/admin/api-keys', {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `k-${uid()}` }),
    })
    for (const { res, body } of [list, create]) {
      expect(res.status).toBe(503)
      expect(JSON.parse(body).error).toMatchObject({ code: 'service_unavailable', type: 'server_error' })
      expect(body).not.toMatch(/pgdown|127\.0\.0\.1|Failed query|insert into/i)
    }
  })
})

describe('the admin page', () => {
  it('is served from Workers assets without the admin token, with a request id', async () => {
    const res = await gateway('/admin/ui')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(res.headers.get('x-request-id')).toBeTruthy()
    expect(await res.text()).toMatch(/<!doctype html>/i)
    const script = await gateway('/admin/ui/app.js')
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toContain('javascript')
  })

  it('redirects the trailing-slash form to the canonical page and answers 404 for files that do not exist', async () => {
    const res = await gateway('/admin/ui/', { redirect: 'manual' })
    expect([301, 307, 308]).toContain(res.status)
    expect(res.headers.get('location')).toMatch(/\/admin\/ui$/)
    expect((await gateway('/admin/ui/missing.js')).status).toBe(404)
  })
})

describe('the audit log', () => {
  it('names the actor by a fingerprint of the admin token, never the token itself', async () => {
    const key = await adminKey()
    const log = await admin('GET', '/audit?limit=50')
    const entry = log.body.data.find((e: any) => e.target_id === key.id)
    expect(entry).toMatchObject({
      action: 'api_key.create',
      target_type: 'api_key',
      actor: (await sha256Hex(ADMIN_TOKEN)).slice(0, 12),
    })
    expect(JSON.stringify(log.body)).not.toContain(ADMIN_TOKEN)
  })

  it('lists entries newest first and pages through them with next_cursor', async () => {
    const ids = [(await adminKey()).id, (await adminKey()).id, (await adminKey()).id]
    const seen: any[] = []
    let cursor: string | null = null
    for (let i = 0; i < 50 && !ids.every((id) => seen.some((e) => e.target_id === id)); i++) {
      const page: any = await admin('GET', `/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.status).toBe(200)
      expect(page.body.object).toBe('list')
      expect(page.body.data.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.data)
      cursor = page.body.next_cursor
      if (!cursor) break
    }
    const mine = seen.filter((e) => ids.includes(e.target_id)).map((e) => e.target_id)
    expect(mine).toEqual([...ids].reverse())
    const order = seen.map((e) => e.id)
    expect(order).toEqual([...order].sort((a, b) => b - a))
    expect(new Set(order).size).toBe(order.length)
  })

  it('refuses a malformed cursor or limit naming the parameter', async () => {
    expectOpenAIError(
      await admin('GET', '/audit?cursor=not-a-cursor'),
      400,
      'invalid_request_error',
      'cursor',
    )
    expectOpenAIError(await admin('GET', '/audit?limit=0'), 400, 'invalid_request_error', 'limit')
    expectOpenAIError(await admin('GET', '/audit?limit=501'), 400, 'invalid_request_error', 'limit')
    expectOpenAIError(await admin('GET', '/audit?limit=ten'), 400, 'invalid_request_error', 'limit')
  })
})
