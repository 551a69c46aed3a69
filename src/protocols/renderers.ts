import type { GatewayError } from '../errors'
import { anthropicRenderer } from './anthropic/errors'
import { geminiRenderer } from './gemini/errors'

// An error as one client dialect writes it: the status, the JSON body and the headers to send. Pure: the
// app renders it through Hono (onError), so headers prepared on the context go out with it.
export type Rendered = { status: number; body: unknown; headers: Record<string, string> }
export type ErrorRenderer = (error: GatewayError, requestId: string) => Rendered

// OpenAI's {"error":{"message","type","param","code"}}: Chat Completions, embeddings, Responses, admin.
const openaiRenderer: ErrorRenderer = (error) => ({
  status: error.status,
  body: {
    error: error.upstream?.error ?? {
      message: error.message,
      type: error.type,
      param: error.param,
      code: error.code,
    },
  },
  headers: error.headers,
})

// One renderer per client dialect; a route's dialect (set once, from its path) picks it. A new client
// protocol adds its renderer here and its name becomes a Dialect.
export const RENDERERS = {
  openai: openaiRenderer,
  anthropic: anthropicRenderer,
  gemini: geminiRenderer,
} satisfies Record<string, ErrorRenderer>

export type Dialect = keyof typeof RENDERERS
