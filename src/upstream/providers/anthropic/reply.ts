import { isCount } from '../openai-usage'
import type { Decoded, Usage } from '../types'

type Json = Record<string, unknown>

// Anthropic stop_reason → OpenAI finish_reason (docs/providers.md §1.4).
const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}
export const finishReason = (stop: unknown) => FINISH[String(stop)] ?? 'stop'

export type AnthropicUsage = {
  input_tokens?: unknown
  cache_creation_input_tokens?: unknown
  cache_read_input_tokens?: unknown
  cache_creation?: { ephemeral_5m_input_tokens?: unknown; ephemeral_1h_input_tokens?: unknown } | null
  output_tokens?: unknown
  output_tokens_details?: { thinking_tokens?: unknown } | null
}

const n = (v: unknown) => (isCount(v) ? v : 0)

// Anthropic's usage is already disjoint: input_tokens excludes both cache buckets. Cache writes split by
// TTL when the split is reported, else all count as 5-minute writes (the default TTL).
export function usageFromAnthropic(u: AnthropicUsage | null | undefined): Usage | null {
  if (!u || !isCount(u.input_tokens) || !isCount(u.output_tokens)) return null
  const write = n(u.cache_creation_input_tokens)
  const split = u.cache_creation
  const write1h = split ? Math.min(n(split.ephemeral_1h_input_tokens), write) : 0
  return {
    inputUncached: u.input_tokens,
    cacheRead: n(u.cache_read_input_tokens),
    cacheWrite5m: write - write1h,
    cacheWrite1h: write1h,
    output: u.output_tokens,
    reasoning: Math.min(n(u.output_tokens_details?.thinking_tokens), u.output_tokens),
  }
}

// The canonical usage in OpenAI's shape: prompt_tokens counts every input token, cache included.
export function openaiUsage(u: Usage) {
  const prompt = u.inputUncached + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: {
      cached_tokens: u.cacheRead,
      cache_write_tokens: u.cacheWrite5m + u.cacheWrite1h,
    },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  }
}

// A Messages API reply → OpenAI chat.completion, named with the client's model name.
export function decodeMessage(text: string, model: string): Decoded {
  let message: Json
  try {
    message = JSON.parse(text) as Json
  } catch {
    return { ok: false, message: 'The upstream sent a reply that is not JSON.' }
  }
  if (message?.type !== 'message' || !Array.isArray(message.content))
    return { ok: false, message: 'The upstream sent a reply that is not a message.' }
  let content = ''
  const toolCalls: Json[] = []
  for (const block of message.content as Json[]) {
    if (block?.type === 'text' && typeof block.text === 'string') content += block.text
    else if (block?.type === 'tool_use')
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      })
  }
  const usage = usageFromAnthropic(message.usage as AnthropicUsage)
  const refused = message.stop_reason === 'refusal'
  const explanation = (message.stop_details as Json | null | undefined)?.explanation
  const reply = {
    id: `chatcmpl-${String(message.id ?? '')}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: content === '' && toolCalls.length ? null : content,
          refusal: refused ? (typeof explanation === 'string' ? explanation : 'refused') : null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    ...(usage ? { usage: openaiUsage(usage) } : {}),
  }
  return { ok: true, text: JSON.stringify(reply), usage, outputText: content }
}
