import { usageFromOpenAI } from '../../upstream/providers/openai'
import type { Chunk, Usage } from '../../upstream/providers/types'
import type { StreamEncoder } from '../../upstream/stream'
import { callIdOf } from './signature'
import {
  finishState,
  functionCallItem,
  itemId,
  messageItem,
  responseShell,
  responsesUsage,
  translatedResponseId,
} from './reply'

type Json = Record<string, unknown>

type ChunkChoice = {
  delta?: {
    content?: string | null
    refusal?: string | null
    tool_calls?: {
      index?: number
      id?: string
      extra_content?: unknown
      function?: { name?: string; arguments?: string }
    }[]
  }
  finish_reason?: string | null
}

type Open =
  | { kind: 'message'; id: string; index: number; text: string }
  | { kind: 'call'; id: string; index: number; callId: string; name: string; args: string }

// OpenAI chat.completion.chunk events → the Responses stream, in the order OpenAI sends it:
// response.created, response.in_progress, per output item output_item.added, its deltas
// (output_text.delta / function_call_arguments.delta), its .done events and output_item.done, and last
// response.completed (or response.incomplete) carrying the whole response and its usage. Every event has
// its `event:` line and a sequence_number.
export function translatedEncoder(request: Json, estimatedInput: number): StreamEncoder {
  const shell = responseShell(translatedResponseId(), request, Math.floor(Date.now() / 1000))
  let sequence = 0
  let started = false
  let usage: Usage | null = null
  let cost: number | null = null
  let finish: string | null = null
  const output: Json[] = []
  let text: Extract<Open, { kind: 'message' }> | null = null
  const calls = new Map<number, Extract<Open, { kind: 'call' }>>()

  const event = (type: string, data: Json) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`

  const start = () => {
    if (started) return ''
    started = true
    return event('response.created', { response: shell }) + event('response.in_progress', { response: shell })
  }

  const closeText = () => {
    if (!text) return ''
    const done = messageItem(text.id, text.text)
    const part = (done.content as Json[])[0]
    const where = { item_id: text.id, output_index: text.index, content_index: 0 }
    output[text.index] = done
    text = null
    return (
      event('response.output_text.done', { ...where, text: part!.text, logprobs: [] }) +
      event('response.content_part.done', { ...where, part }) +
      event('response.output_item.done', { output_index: where.output_index, item: done })
    )
  }

  const addText = (delta: string) => {
    let out = ''
    if (!text) {
      text = { kind: 'message', id: itemId('msg'), index: output.length, text: '' }
      output.push(messageItem(text.id, '', 'in_progress'))
      out += event('response.output_item.added', { output_index: text.index, item: output[text.index] })
      out += event('response.content_part.added', {
        item_id: text.id,
        output_index: text.index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      })
    }
    text.text += delta
    return (
      out +
      event('response.output_text.delta', {
        item_id: text.id,
        output_index: text.index,
        content_index: 0,
        delta,
        logprobs: [],
      })
    )
  }

  const addCall = (call: NonNullable<NonNullable<ChunkChoice['delta']>['tool_calls']>[number]) => {
    let out = ''
    const key = call.index ?? 0
    let open = calls.get(key)
    if (!open) {
      out += closeText()
      const id = itemId('fc')
      open = {
        kind: 'call',
        id,
        index: output.length,
        callId: callIdOf(call, id),
        name: call.function?.name ?? '',
        args: '',
      }
      calls.set(key, open)
      const item = { ...functionCallItem(id, open.callId, open.name, ''), status: 'in_progress' }
      output.push(item)
      out += event('response.output_item.added', { output_index: open.index, item })
    }
    const delta = call.function?.arguments ?? ''
    if (delta) {
      open.args += delta
      out += event('response.function_call_arguments.delta', {
        item_id: open.id,
        output_index: open.index,
        delta,
      })
    }
    return out
  }

  const closeCalls = () => {
    let out = ''
    for (const open of calls.values()) {
      const item = functionCallItem(open.id, open.callId, open.name, open.args || '{}')
      output[open.index] = item
      out += event('response.function_call_arguments.done', {
        item_id: open.id,
        output_index: open.index,
        name: item.name,
        arguments: item.arguments,
      })
      out += event('response.output_item.done', { output_index: open.index, item })
    }
    calls.clear()
    return out
  }

  return {
    chunk(chunk: Chunk) {
      let out = start()
      const json = chunk.json
      if (json?.usage) usage = usageFromOpenAI(json.usage) ?? usage
      // The charge the relay wrote into the usage chunk (usage.cost) goes on to response.usage.
      const charged = (json?.usage as { cost?: unknown } | undefined)?.cost
      if (typeof charged === 'number') cost = charged
      for (const choice of (Array.isArray(json?.choices) ? json.choices : []) as ChunkChoice[]) {
        const delta = choice.delta ?? {}
        for (const t of [delta.content, delta.refusal]) if (typeof t === 'string' && t) out += addText(t)
        if (delta.refusal) finish = 'content_filter'
        for (const call of delta.tool_calls ?? []) out += addCall(call)
        if (choice.finish_reason) finish ??= choice.finish_reason
      }
      return out
    },
    done() {
      const out = start() + closeText() + closeCalls()
      const state = finishState(finish)
      const counted = responsesUsage(usage, estimatedInput)
      const response = { ...shell, ...state, output, usage: cost === null ? counted : { ...counted, cost } }
      const type = state.status === 'completed' ? 'response.completed' : 'response.incomplete'
      return out + event(type, { response })
    },
    error: (message) => event('error', { code: 'upstream_error', message, param: null }),
  }
}
