import { estimateChatPromptTokens, tokensForText } from '../../usage/tokens'
import { toChatRequest } from './request'

// Roughly what Anthropic bills for one image of up to ~1.15 megapixels.
const IMAGE_TOKENS = 1600

// A local estimate of a Messages request's input tokens, for targets without a count endpoint
// (docs/providers.md §3.7): the chat estimate of its translation, plus images and tool definitions.
export function estimateInputTokens(body: Record<string, unknown>): number {
  const chat = toChatRequest(body)
  const messages = chat.messages as { content?: unknown }[]
  let images = 0
  for (const m of messages)
    if (Array.isArray(m.content))
      for (const part of m.content) if ((part as { type?: string }).type !== 'text') images++
  const tools = chat.tools ? tokensForText(JSON.stringify(chat.tools)) : 0
  return estimateChatPromptTokens(messages) + images * IMAGE_TOKENS + tools
}
