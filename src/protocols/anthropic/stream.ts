import { usageFromOpenAI } from '../../upstream/providers/openai'
import type { Chunk, Usage } from '../../upstream/providers/types'
import { encodeEvent, type StreamEncoder } from '../../upstream/stream'
import { toolId } from '../../upstream/providers/anthropic/ids'
import { anthropicUsage, messageId, stopReason } from './reply'

// OpenAI chat.completion.chunk events → Anthropic Messages events (docs/providers.md §3.5). Every event
// carries its `event:` line: both Anthropic SDKs drop events without one.
const sse = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

type ChunkChoice = {
  delta?: {
    content?: string | null
    refusal?: string | null
    tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[]
  }
  finish_reason?: string | null
}

const errorEvent = (message: string, end: 'upstream_error' | 'idle_timeout') =>
  sse('error', { error: { type: end === 'idle_timeout' ? 'timeout_error' : 'api_error', message } })

// An Anthropic upstream's own events, relayed as they came (message_stop is one of them).
export const relayEncoder = (): StreamEncoder => ({
  chunk: encodeEvent,
  done: () => '',
  error: errorEvent,
})

export function anthropicEncoder(model: string, estimatedInput: number): StreamEncoder {
  let started = false
  let index = 0
  let textOpen = false
  let toolsFlushed = false
  let reason: string | null = null
  let usage: Usage | null = null
  // Tool calls are buffered by OpenAI index and sent whole at the end: OpenAI-compatible upstreams may
  // interleave the arguments of parallel calls, Anthropic never interleaves blocks.
  const tools = new Map<number, { id: string; name: string; args: string }>()

  const start = () => {
    if (started) return ''
    started = true
    const message = {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: estimatedInput, output_tokens: 0 },
    }
    return sse('message_start', { message })
  }

  const text = (value: string) => {
    let out = ''
    if (!textOpen) {
      textOpen = true
      out += sse('content_block_start', { index, content_block: { type: 'text', text: '' } })
    }
    return out + sse('content_block_delta', { index, delta: { type: 'text_delta', text: value } })
  }

  const closeText = () => {
    if (!textOpen) return ''
    textOpen = false
    return sse('content_block_stop', { index: index++ })
  }

  const flushTools = () => {
    if (toolsFlushed) return ''
    toolsFlushed = true
    let out = closeText()
    for (const key of [...tools.keys()].sort((a, b) => a - b)) {
      const tool = tools.get(key)!
      const block = { type: 'tool_use', id: toolId(tool.id), name: tool.name, input: {} }
      out += sse('content_block_start', { index, content_block: block })
      out += sse('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: tool.args || '{}' },
      })
      out += sse('content_block_stop', { index: index++ })
    }
    return out
  }

  return {
    chunk(chunk: Chunk) {
      let out = start()
      const json = chunk.json
      if (json?.usage) usage = usageFromOpenAI(json.usage) ?? usage
      for (const choice of (Array.isArray(json?.choices) ? json.choices : []) as ChunkChoice[]) {
        const delta = choice.delta ?? {}
        if (typeof delta.content === 'string' && delta.content) out += text(delta.content)
        if (typeof delta.refusal === 'string' && delta.refusal) {
          out += text(delta.refusal)
          reason = 'refusal'
        }
        for (const call of delta.tool_calls ?? []) {
          const key = call.index ?? 0
          const tool = tools.get(key) ?? { id: '', name: '', args: '' }
          if (call.id) tool.id = call.id
          if (call.function?.name) tool.name = call.function.name
          tool.args += call.function?.arguments ?? ''
          tools.set(key, tool)
        }
        if (choice.finish_reason) {
          reason ??= stopReason(choice.finish_reason)
          out += flushTools()
        }
      }
      return out
    },
    done() {
      const out = start() + closeText() + flushTools()
      const stop = reason ?? 'end_turn'
      return (
        out +
        sse('message_delta', {
          delta: { stop_reason: stop, stop_sequence: null },
          usage: anthropicUsage(usage, estimatedInput),
        }) +
        sse('message_stop', {})
      )
    },
    error: errorEvent,
  }
}
