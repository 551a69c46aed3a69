import { Hono, type MiddlewareHandler } from 'hono'
import { requestId } from 'hono/request-id'
import type { AppEnv } from './context'
import { getDeps } from './deps'
import { GatewayError } from './errors'
import { notFound, onError } from './on-error'
import { log } from './lib/log'
import { newRequestId } from './lib/ids'
import { admin } from './routes/admin'
import { health } from './routes/health'
import { metrics } from './routes/metrics'
import { geminiCalls, geminiModels } from './routes/gemini'
import { billing } from './routes/me'
import { v1 } from './routes/v1'
import { authenticate } from './pipeline/authenticate'

// The Gemini API's paths (all of /v1beta, and `models/{model}:{method}` under /v1): every error on them is
// Google-shaped.
const geminiPaths: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.path.startsWith('/v1beta/') || /^\/v1\/models\/[^/]+:[A-Za-z]+$/.test(c.req.path))
    c.set('dialect', 'gemini')
  await next()
}

export function createApp() {
  return (
    new Hono<AppEnv>()
      .use(requestId({ headerName: 'X-Request-Id', limitLength: 128, generator: newRequestId }))
      .use(async (c, next) => {
        await next()
        // Error and not-found responses are built fresh; make sure they carry the id too.
        c.res.headers.set('X-Request-Id', c.get('requestId'))
      })
      .use('/v1/messages/*', async (c, next) => {
        // Anthropic clients read `request-id`; every error on these paths is Anthropic-shaped.
        c.set('dialect', 'anthropic')
        await next()
        c.res.headers.set('request-id', c.get('requestId'))
      })
      .use('/v1beta/*', geminiPaths)
      .use('/v1/models/*', geminiPaths)
      .use(async (c, next) => {
        try {
          c.set('deps', getDeps(c.env))
        } catch (error) {
          log('error', 'configuration invalid', {
            request_id: c.get('requestId'),
            error: (error as Error).message,
          })
          throw new GatewayError({
            code: 'service_unavailable',
            message: 'The gateway is not configured correctly.',
          })
        }
        await next()
      })
      .route('/healthz', health)
      .route('/metrics', metrics)
      .route('/v1', v1)
      // OpenAI's legacy billing endpoints, which some chat clients call without the /v1.
      .use('/dashboard/*', authenticate)
      .route('/dashboard', billing)
      .route('/v1beta', new Hono<AppEnv>().use(authenticate).route('/', geminiModels).route('/', geminiCalls))
      .route('/admin', admin)
      .notFound(notFound)
      .onError(onError)
  )
}
