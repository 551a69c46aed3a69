import { chatChunk } from '../openai'
import type { Chunk, Exchange, StreamDecoder, StreamStep, Usage } from '../types'
import { FAILED_FINISH, finishReason, geminiOpenAIUsage, toolCallOf, usageFromGemini } from './reply'

type Json = Record<string, unknown>

// Gemini's SSE (each event a whole response fragment with new parts only, a running usage total, no
// terminator) → OpenAI chunks (docs/providers.md §2.5). Per-stream state: the tool-call counter across
// events, whether any call was made, the last usage and the finish reason, which is sent at the end of the
// body (a later event may still carry usage); a body that ends without one was cut short.
export function geminiStream(exchange: Exchange): StreamDecoder {
  const wantsUsage = (exchange.body.stream_options as Json | null | undefined)?.include_usage === true
  const created = Math.floor(Date.now() / 1000)
  let id = `chatcmpl-${crypto.randomUUID()}`
  let started = false
  let toolCounter = 0
  let finish: unknown = null
  let usage: Usage | null = null

  const chunk = (choices: Json[], u?: Json): Chunk =>
    chatChunk({ id, created, model: exchange.model, wantsUsage }, choices, u)
  const delta = (d: Json, reason: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: reason }])
  const withUsage = (step: StreamStep): StreamStep => (usage ? { ...step, usage } : step)

  return {
    event(e) {
      let data: Json
      try {
        data = JSON.parse(e.data) as Json
      } catch {
        return {}
      }
      if (data.error) {
        const message = String((data.error as Json).message ?? 'The upstream reported an error.')
        return withUsage({ failed: `The upstream failed mid-stream: ${message}` })
      }
      usage = usageFromGemini(data.usageMetadata as Json) ?? usage
      const chunks: Chunk[] = []
      if (!started) {
        started = true
        if (typeof data.responseId === 'string') id = `chatcmpl-${data.responseId}`
        chunks.push(delta({ role: 'assistant', content: '' }))
      }
      const candidate = ((data.candidates as Json[] | undefined) ?? [])[0]
      for (const part of ((candidate?.content as Json | undefined)?.parts as Json[] | undefined) ?? []) {
        if (part.thought === true) continue
        if (typeof part.text === 'string' && part.text) chunks.push(delta({ content: part.text }))
        if (part.functionCall) chunks.push(delta({ tool_calls: [toolCallOf(part, toolCounter++)] }))
      }
      if (candidate?.finishReason) {
        if (FAILED_FINISH.has(String(candidate.finishReason)))
          return withUsage({ chunks, failed: 'The upstream produced a malformed reply.' })
        finish = candidate.finishReason
      }
      return withUsage({ chunks })
    },
    end() {
      if (finish === null) return {}
      const chunks = [delta({}, finishReason(finish, toolCounter > 0))]
      if (usage) chunks.push(chunk([], geminiOpenAIUsage(usage)))
      return withUsage({ chunks, done: true })
    },
  }
}
