import { chatChunk } from '../openai'
import type { Chunk, Exchange, StreamDecoder, StreamStep, Usage } from '../types'
import { finishReason, openaiUsage, usageFromAnthropic, type AnthropicUsage } from './reply'

type Json = Record<string, unknown>

// Anthropic Messages SSE → OpenAI chat.completion.chunk events (docs/providers.md §1.5.2). Per-stream state:
// the message id, which content block is which tool call (OpenAI numbers tool calls 0, 1, … while
// Anthropic numbers every block), whether a tool got any argument text, the usage so far (message_start,
// overwritten field by field by message_delta: cumulative totals, never added) and the stop reason.
export function anthropicStream(exchange: Exchange): StreamDecoder {
  const wantsUsage = (exchange.body.stream_options as Json | null | undefined)?.include_usage === true
  const created = Math.floor(Date.now() / 1000)
  let id = 'chatcmpl-'
  let raw: AnthropicUsage | null = null
  let stopReason: unknown = null
  let done = false
  const toolIndex = new Map<number, number>()
  const argsSeen = new Set<number>()

  const chunk = (choices: Json[], usage?: Json): Chunk =>
    chatChunk({ id, created, model: exchange.model, wantsUsage }, choices, usage)
  const delta = (d: Json, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }])
  const usage = (): Usage | undefined => usageFromAnthropic(raw) ?? undefined
  const step = (chunks: Chunk[]): StreamStep => {
    const u = usage()
    return u ? { chunks, usage: u } : { chunks }
  }

  function event(type: string, data: Json): StreamStep {
    if (type === 'message_start') {
      const message = (data.message ?? {}) as Json
      id = `chatcmpl-${String(message.id ?? '')}`
      raw = { ...((message.usage as AnthropicUsage | undefined) ?? {}) }
      return step([delta({ role: 'assistant', content: '' })])
    }
    const index = Number(data.index)
    if (type === 'content_block_start') {
      const block = (data.content_block ?? {}) as Json
      if (block.type === 'text' && typeof block.text === 'string' && block.text)
        return step([delta({ content: block.text })])
      if (block.type !== 'tool_use') return {}
      const t = toolIndex.size
      toolIndex.set(index, t)
      const call = { index: t, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }
      return step([delta({ tool_calls: [call] })])
    }
    if (type === 'content_block_delta') {
      const d = (data.delta ?? {}) as Json
      if (d.type === 'text_delta' && typeof d.text === 'string') return step([delta({ content: d.text })])
      const t = toolIndex.get(index)
      if (
        d.type === 'input_json_delta' &&
        t !== undefined &&
        typeof d.partial_json === 'string' &&
        d.partial_json
      ) {
        argsSeen.add(index)
        return step([delta({ tool_calls: [{ index: t, function: { arguments: d.partial_json } }] })])
      }
      return {}
    }
    if (type === 'content_block_stop') {
      const t = toolIndex.get(index)
      // A tool without arguments still gets valid JSON arguments.
      if (t === undefined || argsSeen.has(index)) return {}
      argsSeen.add(index)
      return step([delta({ tool_calls: [{ index: t, function: { arguments: '{}' } }] })])
    }
    if (type === 'message_delta') {
      stopReason = (data.delta as Json | undefined)?.stop_reason ?? stopReason
      const update = (data.usage ?? {}) as Json
      const next: Json = { ...(raw ?? {}) }
      for (const [k, v] of Object.entries(update)) if (v !== null && v !== undefined) next[k] = v
      raw = next as AnthropicUsage
      return step([])
    }
    if (type === 'message_stop') {
      done = true
      const u = usage()
      const chunks = [delta({}, finishReason(stopReason))]
      // Always produced (the gateway meters it); the pipe shows it only to a client that asked.
      if (u) chunks.push(chunk([], openaiUsage(u)))
      return { chunks, ...(u ? { usage: u } : {}), done: true }
    }
    if (type === 'error') {
      const error = (data.error ?? {}) as Json
      const message = typeof error.message === 'string' ? error.message : 'The upstream reported an error.'
      return { ...step([]), failed: `The upstream failed mid-stream: ${message}` }
    }
    // ping and event types this version does not know: nothing to send.
    return {}
  }

  return {
    event(e) {
      if (done) return {}
      let data: Json
      try {
        data = JSON.parse(e.data) as Json
      } catch {
        return {}
      }
      return event(e.event ?? String(data.type ?? ''), data)
    },
    end: () => ({}),
  }
}
