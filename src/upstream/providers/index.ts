import type { Target } from '../targets'
import { openai } from './openai'

export type UpstreamRoute = 'chat' | 'embeddings'

export type Provider = {
  buildRequest(target: Target, route: UpstreamRoute, body: Record<string, unknown>): Request
}

export const PROVIDERS: Record<string, Provider> = { openai }

export function providerFor(type: string): Provider {
  return PROVIDERS[type] ?? openai
}
