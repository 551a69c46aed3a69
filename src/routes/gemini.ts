import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { every } from 'hono/combine'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { GatewayError, quoted, refusal } from '../errors'
import { account } from '../pipeline/account'
import { allowModel } from '../pipeline/allow-model'
import { guard } from '../pipeline/guard'
import { identify } from '../pipeline/identify'
import { relay } from '../pipeline/relay'
import { validateJson } from '../pipeline/validate-json'
import { geminiDialect, geminiEmbedDialect } from '../protocols/gemini/dialect'
import { toChatRequest, toEmbeddingsRequest } from '../protocols/gemini/request'
import {
  BatchEmbedContentsRequest,
  CountTokensRequest,
  EmbedContentRequest,
  GenerateContentRequest,
} from '../protocols/gemini/schema'
import { forward } from '../upstream/forward'
import type { Inbound } from '../upstream/providers/types'
import { estimateChatPromptTokens, tokensForText } from '../usage/tokens'
import { listModels } from './model-list'

type Json = Record<string, unknown>

// `models/gemini-2.5-flash:generateContent` → the model and the method (Google's resource-name style).
const CALL = /^([^/:]+):([A-Za-z]+)$/

const inboundOf = (c: Context<AppEnv>, body: Json): Inbound => ({
  protocol: 'gemini',
  body,
  headers: {},
  query: '',
})

// The client's Gemini request becomes the OpenAI request the rest of the pipeline works on (its model
// taken from the path); the client's own body stays in `inbound` for Gemini targets (passthrough).
const translate = (stream: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const inbound = c.get('body')
    const model = c.req.param('call')!.replace(CALL, '$1')
    c.get('meter').named(model)
    c.set('inbound', inbound)
    c.set('body', toChatRequest(model, inbound, stream))
    await next()
  })

const translateEmbeddings = (single: boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const inbound = c.get('body')
    const model = c.req.param('call')!.replace(CALL, '$1')
    c.get('meter').named(model)
    c.set('inbound', inbound)
    c.set('body', toEmbeddingsRequest(model, single ? [inbound] : (inbound.requests as Json[])))
    await next()
  })

function generate(stream: boolean) {
  return (c: Context<AppEnv>) => {
    const model = String(c.get('body').model)
    const framing = stream && c.req.query('alt') === 'sse' ? 'sse' : 'array'
    return relay(c, 'chat', geminiDialect(inboundOf(c, c.get('inbound')), model, framing))
  }
}

// A Gemini first target counts the tokens itself; otherwise (or if it cannot answer) the gateway
// estimates locally and says so.
async function countTokens(c: Context<AppEnv>): Promise<Response> {
  const target = c.get('targets')[0]
  if (target?.type === 'gemini') {
    const meter = c.get('meter')
    const forwarded = await forward(
      [target],
      { kind: 'count_tokens', inbound: inboundOf(c, c.get('inbound')) },
      { signal: c.req.raw.signal, readBody: true },
    )
    meter.forwarded(forwarded, { asked: target })
    const { result } = forwarded
    if (result.ok)
      return new Response(result.value.text, {
        status: result.value.response.status,
        headers: { 'content-type': 'application/json' },
      })
    const error = result.error
    if (error.reason === 'client_error' && error.status === 400) {
      throw refusal(error.status, error.error)
    }
    if (error.reason === 'client_gone') {
      meter.ended({ status: 499, code: 'client_disconnected' })
      return new Response(null, { status: 499 })
    }
    // Any other failure: the estimate below answers instead.
  }
  const chat = c.get('body')
  const tools = chat.tools ? tokensForText(JSON.stringify(chat.tools)) : 0
  const total = estimateChatPromptTokens(chat.messages as { content?: unknown }[]) + tools
  return c.json({ totalTokens: total }, 200, { 'x-nexusai-token-count': 'estimated' })
}

// countTokens: the contents to count (or a whole generateContentRequest) as a chat request for the
// estimate and the guard; the client's own body stays in `inbound` for a Gemini target.
const countable = createMiddleware<AppEnv>(async (c, next) => {
  const inbound = c.get('body')
  const inner = (inbound.generateContentRequest ?? {}) as Json
  const model = c.req.param('call')!.replace(CALL, '$1')
  c.get('meter').named(model)
  c.set('inbound', inbound)
  c.set('body', toChatRequest(model, { ...inner, contents: inner.contents ?? inbound.contents ?? [] }, false))
  await next()
})

const METHODS: Record<string, MiddlewareHandler<AppEnv>[]> = {
  generateContent: [
    validateJson(GenerateContentRequest),
    translate(false),
    identify('gemini'),
    allowModel,
    guard('chat'),
    generate(false),
  ],
  streamGenerateContent: [
    validateJson(GenerateContentRequest),
    translate(true),
    identify('gemini'),
    allowModel,
    guard('chat'),
    generate(true),
  ],
  // Rate-limited like any call, never billed.
  countTokens: [validateJson(CountTokensRequest), countable, allowModel, guard('count_tokens'), countTokens],
  embedContent: [
    validateJson(EmbedContentRequest),
    translateEmbeddings(true),
    allowModel,
    guard('embeddings'),
    (c) => relay(c, 'embeddings', geminiEmbedDialect(true)),
  ],
  batchEmbedContents: [
    validateJson(BatchEmbedContentsRequest),
    translateEmbeddings(false),
    allowModel,
    guard('embeddings'),
    (c) => relay(c, 'embeddings', geminiEmbedDialect(false)),
  ],
}

// POST /models/{model}:{method}, the Gemini API's calls (docs/gemini.md), each through the same stages
// as every route. Mounted after authentication under /v1beta and /v1; errors are Google-shaped (app.ts
// sets the dialect for these paths).
export const geminiCalls = new Hono<AppEnv>().post(
  '/models/:call{[^/]+:[A-Za-z]+}',
  account('gemini'),
  async (c, next) => {
    const method = c.req.param('call')!.replace(CALL, '$2')
    const chain = METHODS[method]
    if (!chain)
      throw new GatewayError({
        code: 'not_found',
        message: `Unknown method ${quoted(method)}; this gateway serves ${Object.keys(METHODS).join(', ')}.`,
      })
    await every(...chain)(c, next)
    return c.res
  },
)

// GET /v1beta/models and /v1beta/models/{model}: the models this key may use, in Gemini's list shape.
export const geminiModels = new Hono<AppEnv>()
  .get('/models', account('gemini'), async (c) => {
    const data = await listModels(c.get('deps'), c.get('requestId'), c.get('apiKey'), c.get('configVersion'))
    return c.json({ models: data })
  })
  .get('/models/:model', account('gemini'), async (c) => {
    const data = await listModels(c.get('deps'), c.get('requestId'), c.get('apiKey'), c.get('configVersion'))
    const id = c.req.param('model')
    const model = data.find((m) => m.id === id)
    if (!model)
      throw new GatewayError({
        code: 'model_not_found',
        message: `The model ${quoted(id)} does not exist or you do not have access to it.`,
        param: 'model',
      })
    return c.json(model)
  })
