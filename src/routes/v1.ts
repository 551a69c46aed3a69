import { Hono } from 'hono'
import { configVersion, getCatalog } from '../cache'
import type { AppEnv } from '../context'
import type { KeyRow } from '../db/keys'
import type { Deps } from '../deps'
import { OpenAIError, quoted } from '../errors'
import { account } from '../pipeline/account'
import { allowModel, keyAllows } from '../pipeline/allow-model'
import { authenticate, resolveKey } from '../pipeline/authenticate'
import { guard } from '../pipeline/guard'
import { identify } from '../pipeline/identify'
import { fromStore } from '../pipeline/stores'
import { validateJson } from '../pipeline/validate-json'
import { ChatRequest, EmbeddingsRequest } from '../schemas'
import { relay } from '../pipeline/relay'
import { messages } from './messages'
import { responses } from './responses'

// The models this key may call: allowed by the key and routed by at least one mapping. No upstream
// call here, so instead of the guard a plain version check keeps a disabled key out.
async function listModels(deps: Deps, requestId: string, key: KeyRow, version: string) {
  const current = await fromStore('redis', requestId, () => configVersion(deps))
  const fresh = current === version ? key : (await resolveKey(deps, requestId, key.keyHash, current)).key
  const catalog = (await fromStore('postgres', requestId, () => getCatalog(deps, current))).value
  const models = [...catalog.mappingsByModel.keys()].filter((m) => keyAllows(fresh, m)).sort()
  return models.map((id) => modelObject(id))
}

// One object both OpenAI's and Anthropic's SDKs parse (docs/providers.md §0.6): no header sniffing.
const modelObject = (id: string) => ({
  id,
  object: 'model' as const,
  created: 0,
  owned_by: 'nexusai',
  type: 'model' as const,
  display_name: id,
  created_at: '1970-01-01T00:00:00Z',
})

export const v1 = new Hono<AppEnv>()
  .use(authenticate)
  .get('/models', account('models'), async (c) => {
    const data = await listModels(c.get('deps'), c.get('requestId'), c.get('apiKey'), c.get('configVersion'))
    return c.json({
      object: 'list',
      data,
      has_more: false,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    })
  })
  .get('/models/:model{.+}', account('models'), async (c) => {
    const data = await listModels(c.get('deps'), c.get('requestId'), c.get('apiKey'), c.get('configVersion'))
    const model = data.find((m) => m.id === c.req.param('model'))
    if (!model)
      throw new OpenAIError(
        'model_not_found',
        `The model ${quoted(c.req.param('model'))} does not exist or you do not have access to it.`,
        'model',
      )
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
  .route('/messages', messages)
  .route('/responses', responses)
