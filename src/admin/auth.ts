import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import type { Deps } from '../deps'
import { GatewayError } from '../errors'
import { timingSafeEqual } from '../lib/compare'
import { sha256Hex } from '../lib/ids'
import { bearerToken } from '../pipeline/authenticate'
import { recordFailure } from './throttle'

// The client's address, when it can be trusted: CF-Connecting-IP is set by Cloudflare's edge, which
// also attaches request.cf (a client can set the header, never request.cf). A local deployment
// (ALLOW_PRIVATE_UPSTREAMS, where wrangler dev simulates request.cf) and a bare workerd have no
// trusted address, so nothing is throttled there.
function trustedIp(request: Request, deps: Deps): string | null {
  if (deps.config.ALLOW_PRIVATE_UPSTREAMS || !(request as { cf?: unknown }).cf) return null
  return request.headers.get('cf-connecting-ip')
}

// Admin bearer auth. Both tokens are hashed before the constant-time compare, so neither content nor
// length shows in timing; the audit actor is a fingerprint of the token, never the token. The right
// token always passes; only wrong tokens are counted (a request without one, such as a CORS preflight,
// is no guess) and, past the limit, answered 429 for the rest of the window.
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { deps } = c.var
  const token = bearerToken(c.req.header('authorization'))
  const digest = token ? await sha256Hex(token) : ''
  if (!token)
    throw new GatewayError({
      code: 'unauthorized',
      message: 'Missing admin token; send "Authorization: Bearer <ADMIN_TOKEN>".',
    })
  if (!timingSafeEqual(digest, await sha256Hex(deps.config.ADMIN_TOKEN))) {
    const ip = trustedIp(c.req.raw, deps)
    const wait = ip ? await recordFailure(deps, ip) : 0
    if (wait > 0)
      throw new GatewayError({
        code: 'rate_limit_exceeded',
        message: 'Too many failed admin sign-ins from this address; try again later.',
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      })
    throw new GatewayError({ code: 'unauthorized', message: 'Incorrect admin token.' })
  }
  c.set('adminActor', digest.slice(0, 12))
  await next()
})
