import { Hono } from 'hono'
import type { AppEnv } from '../context'
import { GatewayError, quoted } from '../errors'
import { account } from '../pipeline/account'
import { allowModel } from '../pipeline/allow-model'
import { authenticate } from '../pipeline/authenticate'
import { guard } from '../pipeline/guard'
import { identify } from '../pipeline/identify'
import { validateJson } from '../pipeline/validate-json'
import { ChatRequest, EmbeddingsRequest } from '../schemas'
import { relay } from '../pipeline/relay'
import { geminiCalls } from './gemini'
import { listModels } from './model-list'
import { messages } from './messages'
import { billing, selfService } from './me'
import { responses } from './responses'

export const v1 = new Hono<AppEnv>()
  .use(authenticate)
  .get('/models', account('models'), async (c) => {
    const data = await listModels(c.get('deps'), c.get('requestId'), c.get('apiKey'), c.get('configVersion'))
    return c.json({
      object: 'list',
      data,
      // Gemini's list field, for @google/genai's models.list() (its 3.x default version is v1).
      models: data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    })
  })
  .get('/models/:model{.+}', account('models'), async (c) => {
    const data = await listModels(c.get('deps'), c.get('requestId'), c.get('apiKey'), c.get('configVersion'))
    const model = data.find((m) => m.id === c.req.param('model'))
    if (!model)
      throw new GatewayError({
        code: 'model_not_found',
        message: `The model ${quoted(c.req.param('model'))} does not exist or you do not have access to it.`,
        param: 'model',
      })
    return c.json(model)
  })
  .post(
    '/chat/completions',
    account('chat'),
    validateJson(ChatRequest),
    identify('openai'),
    allowModel,
    guard('chat'),
    (c) => relay(c, 'chat'),
  )
  .post(
    '/embeddings',
    account('embeddings'),
    validateJson(EmbeddingsRequest),
    allowModel,
    guard('embeddings'),
    (c) => relay(c, 'embeddings'),
  )
  .route('/', selfService)
  .route('/messages', messages)
  .route('/', geminiCalls)
  .route('/responses', responses)
