import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { OpenAIError } from '../errors'
import { timingSafeEqual } from '../lib/compare'
import { sha256Hex } from '../lib/ids'
import { bearerToken } from '../pipeline/authenticate'
import { recordFailure, throttledFor } from './throttle'

// Admin bearer auth. Both tokens are hashed before the constant-time compare, so neither content nor
// length shows in timing; the audit actor is a fingerprint of the token, never the token.
// Production always sets cf-connecting-ip; without it (local tools, tests) nothing is throttled.
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { deps } = c.var
  const ip = c.req.header('cf-connecting-ip')
  const wait = ip ? await throttledFor(deps, ip) : 0
  if (wait > 0) {
    const retryAfter = String(Math.ceil(wait / 1000))
    throw new OpenAIError(
      'rate_limit_exceeded',
      'Too many failed admin sign-ins from this address; try again later.',
      null,
      {
        'retry-after': retryAfter,
      },
    )
  }
  const token = bearerToken(c.req.header('authorization'))
  const digest = token ? await sha256Hex(token) : ''
  if (!token || !timingSafeEqual(digest, await sha256Hex(deps.config.ADMIN_TOKEN))) {
    if (ip) await recordFailure(deps, ip)
    throw new OpenAIError(
      'unauthorized',
      token ? 'Incorrect admin token.' : 'Missing admin token; send "Authorization: Bearer <ADMIN_TOKEN>".',
    )
  }
  c.set('adminActor', digest.slice(0, 12))
  await next()
})
