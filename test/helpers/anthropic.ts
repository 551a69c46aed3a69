import { exports } from 'cloudflare:workers'
import Anthropic from '@anthropic-ai/sdk'
import AnthropicZero from '@anthropic-ai/sdk-0'
import { ORIGIN } from './gateway'

const toWorker = (url: unknown, init: unknown) =>
  exports.default.fetch(new Request(url as string, init as RequestInit))

// The official Anthropic SDKs pointed at the Worker, as Claude Code users do: the gateway origin without
// /v1 (the SDK adds it). 1.x sends the key as a Bearer token, 0.x as x-api-key. Retries are off unless a
// test wants them.
export function anthropic(apiKey: string, options: { maxRetries?: number } = {}): Anthropic {
  return new Anthropic({
    apiKey,
    baseURL: ORIGIN,
    maxRetries: options.maxRetries ?? 0,
    fetch: toWorker as never,
  })
}

export function anthropicZero(apiKey: string, options: { maxRetries?: number } = {}): AnthropicZero {
  return new AnthropicZero({
    apiKey,
    baseURL: ORIGIN,
    maxRetries: options.maxRetries ?? 0,
    fetch: toWorker as never,
  })
}

// Both SDKs, typed as 1.x: the calls the tests make have the same shape in both.
export const SDKS: {
  name: string
  client: (apiKey: string, options?: { maxRetries?: number }) => Anthropic
}[] = [
  { name: 'SDK 1.x', client: anthropic },
  { name: 'SDK 0.x', client: anthropicZero as unknown as typeof anthropic },
]
