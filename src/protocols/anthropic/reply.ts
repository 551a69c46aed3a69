import { newRequestId } from '../../lib/ids'
import { usageFromOpenAI } from '../../upstream/providers/openai'
import { toolId } from '../../upstream/providers/anthropic/ids'
import type { Usage } from '../../upstream/providers/types'

// OpenAI Chat Completions → Anthropic Messages (docs/providers.md §3.5), for replies from OpenAI targets.

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
}

export const stopReason = (finish: unknown) => STOP_REASONS[String(finish)] ?? 'end_turn'

export const messageId = () => `msg_gw_${newRequestId().replace(/[^a-zA-Z0-9]/g, '')}`

function toolInput(args: unknown): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(typeof args === 'string' && args ? args : '{}')
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

export function anthropicUsage(usage: Usage | null, estimatedInput = 0) {
  if (!usage)
    return {
      input_tokens: estimatedInput,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    }
  return {
    input_tokens: usage.inputUncached,
    cache_creation_input_tokens: usage.cacheWrite5m + usage.cacheWrite1h,
    cache_read_input_tokens: usage.cacheRead,
    output_tokens: usage.output,
  }
}

type ChatCompletion = {
  choices?: {
    message?: {
      content?: string | null
      refusal?: string | null
      tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[]
    }
    finish_reason?: string | null
  }[]
  usage?: unknown
}

export function toAnthropicMessage(text: string, model: string, estimatedInput: number): string {
  const completion = JSON.parse(text) as ChatCompletion
  const choice = completion.choices?.[0]
  const message = choice?.message ?? {}
  const content: Record<string, unknown>[] = []
  if (message.content) content.push({ type: 'text', text: message.content })
  if (message.refusal) content.push({ type: 'text', text: message.refusal })
  for (const call of message.tool_calls ?? [])
    content.push({
      type: 'tool_use',
      // An id like `functions.Bash:0` would break the next turn if replayed to an Anthropic target.
      id: toolId(call.id ?? ''),
      name: call.function?.name ?? '',
      input: toolInput(call.function?.arguments),
    })
  const reason = message.refusal ? 'refusal' : stopReason(choice?.finish_reason)
  return JSON.stringify({
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: reason,
    stop_sequence: null,
    stop_details: reason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null,
    container: null,
    usage: anthropicUsage(usageFromOpenAI(completion.usage), estimatedInput),
  })
}
