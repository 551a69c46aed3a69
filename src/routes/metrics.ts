import { Hono } from 'hono'
import type { AppEnv } from '../context'
import { GatewayError } from '../errors'
import { renderPrometheus } from '../metrics/render'
import { readMetrics } from '../metrics/read'
import { bearerToken } from '../pipeline/authenticate'
import { timingSafeEqual } from '../lib/compare'
import { fromStore } from '../pipeline/stores'

export const metrics = new Hono<AppEnv>().get('/', async (c) => {
  const required = c.var.deps.config.METRICS_TOKEN
  if (required && !timingSafeEqual(bearerToken(c.req.header('authorization')) ?? '', required)) {
    throw new GatewayError({ code: 'unauthorized', message: 'Missing or wrong metrics token.' })
  }
  const hash = await fromStore('redis', c.var.requestId, () => readMetrics(c.var.deps))
  return c.body(renderPrometheus(hash), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
})
