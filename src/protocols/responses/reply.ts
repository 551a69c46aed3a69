import { newRequestId } from '../../lib/ids'
import { usageFromOpenAI } from '../../upstream/providers/openai'
import type { Usage } from '../../upstream/providers/types'
import { NAMESPACE_SEPARATOR } from './request'
import { callIdOf } from './signature'

// Chat Completions → an OpenAI Responses `response` object, for replies from translated targets. The id
// says that the gateway made it: such a response is not stored anywhere (see pin-response.ts).
type Json = Record<string, unknown>

export const TRANSLATED_PREFIX = 'resp_nx'
const hex = () =>
  newRequestId()
    .replace(/[^a-zA-Z0-9]/g, '')
    .toLowerCase()
export const translatedResponseId = () => `${TRANSLATED_PREFIX}${hex()}`
export const itemId = (kind: 'msg' | 'fc') => `${kind}_nx${hex()}`

export function responsesUsage(usage: Usage | null, estimatedInput = 0): Json {
  const u = usage ?? {
    inputUncached: estimatedInput,
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output: 0,
    reasoning: 0,
  }
  const input = u.inputUncached + u.cacheRead + u.cacheWrite5m + u.cacheWrite1h
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheRead },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: input + u.output,
  }
}

// A flattened namespace tool's call names its namespace again, as OpenAI's own reply does.
export function functionCallItem(id: string, callId: string, flatName: string, args: string): Json {
  const at = flatName.indexOf(NAMESPACE_SEPARATOR)
  return {
    id,
    type: 'function_call',
    status: 'completed',
    call_id: callId,
    ...(at > 0
      ? { namespace: flatName.slice(0, at), name: flatName.slice(at + NAMESPACE_SEPARATOR.length) }
      : { name: flatName }),
    arguments: args,
  }
}

export const messageItem = (id: string, text: string, status = 'completed'): Json => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: status === 'in_progress' ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
})

// `length` and `content_filter` leave the response incomplete, with the reason Responses names.
export function finishState(finish: unknown): { status: string; incomplete_details: Json | null } {
  if (finish === 'length')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
  if (finish === 'content_filter')
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } }
  return { status: 'completed', incomplete_details: null }
}

// The response object's echo of the request, as OpenAI returns it.
export function responseShell(id: string, request: Json, createdAt: number): Json {
  const reasoning = (request.reasoning ?? {}) as Json
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    model: request.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    store: false,
    temperature: request.temperature ?? null,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: request.truncation ?? 'disabled',
    usage: null,
  }
}

type ChatCompletion = {
  choices?: {
    message?: {
      content?: string | null
      refusal?: string | null
      tool_calls?: {
        id?: string
        extra_content?: unknown
        function?: { name?: string; arguments?: string }
      }[]
    }
    finish_reason?: string | null
  }[]
  usage?: unknown
}

export function toResponse(text: string, request: Json, estimatedInput: number): string {
  const completion = JSON.parse(text) as ChatCompletion
  const choice = completion.choices?.[0]
  const message = choice?.message ?? {}
  const output: Json[] = []
  const content = [message.content, message.refusal].filter(Boolean).join('')
  if (content) output.push(messageItem(itemId('msg'), content))
  for (const call of message.tool_calls ?? [])
    output.push(
      functionCallItem(
        itemId('fc'),
        callIdOf(call, itemId('fc')),
        call.function?.name ?? '',
        call.function?.arguments || '{}',
      ),
    )
  return JSON.stringify({
    ...responseShell(translatedResponseId(), request, Math.floor(Date.now() / 1000)),
    ...finishState(message.refusal ? 'content_filter' : choice?.finish_reason),
    output,
    usage: responsesUsage(usageFromOpenAI(completion.usage), estimatedInput),
  })
}
