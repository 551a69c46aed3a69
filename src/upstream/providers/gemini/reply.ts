import { isCount } from '../openai-usage'
import type { Decoded, Usage } from '../types'

type Json = Record<string, unknown>

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'LANGUAGE',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  'MODEL_ARMOR',
  'ESCALATION',
  'PUP_LIMITED_DISABLED',
])
// A reply Gemini itself calls broken: before the first byte it is retried or sent to the next provider.
export const FAILED_FINISH = new Set([
  'MALFORMED_FUNCTION_CALL',
  'UNEXPECTED_TOOL_CALL',
  'MALFORMED_RESPONSE',
])

// finishReason → finish_reason (docs/providers.md §2.4): STOP after a function call is `tool_calls`.
export function finishReason(reason: unknown, sawToolCall: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length'
  if (FILTERED.has(String(reason))) return 'content_filter'
  return sawToolCall ? 'tool_calls' : 'stop'
}

type GeminiUsage = {
  promptTokenCount?: unknown
  cachedContentTokenCount?: unknown
  candidatesTokenCount?: unknown
  thoughtsTokenCount?: unknown
  toolUsePromptTokenCount?: unknown
}

const n = (v: unknown) => (isCount(v) ? v : 0)

// promptTokenCount includes the cached tokens; thoughts are not in candidatesTokenCount but bill as output.
export function usageFromGemini(u: GeminiUsage | null | undefined): Usage | null {
  if (!u || !isCount(u.promptTokenCount)) return null
  const cached = Math.min(n(u.cachedContentTokenCount), u.promptTokenCount)
  const thoughts = n(u.thoughtsTokenCount)
  return {
    inputUncached: u.promptTokenCount - cached + n(u.toolUsePromptTokenCount),
    cacheRead: cached,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output: n(u.candidatesTokenCount) + thoughts,
    reasoning: thoughts,
  }
}

function mintCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`
}

// A functionCall part → an OpenAI tool call; its thought signature travels in extra_content.google.
export function toolCallOf(part: Json, index?: number): Json {
  const call = part.functionCall as Json
  return {
    ...(index === undefined ? {} : { index }),
    id: typeof call.id === 'string' && call.id ? call.id : mintCallId(),
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
    ...(typeof part.thoughtSignature === 'string'
      ? { extra_content: { google: { thought_signature: part.thoughtSignature } } }
      : {}),
  }
}

export function decodeGenerate(text: string, model: string): Decoded {
  let reply: Json
  try {
    reply = JSON.parse(text) as Json
  } catch {
    return { ok: false, message: 'The upstream sent a reply that is not JSON.' }
  }
  const candidates = Array.isArray(reply.candidates) ? (reply.candidates as Json[]) : []
  const blocked = (reply.promptFeedback as Json | undefined)?.blockReason
  if (candidates.length === 0 && blocked) {
    const message = `Prompt blocked by the upstream safety system (${String(blocked)}).`
    return {
      ok: false,
      message,
      clientError: {
        status: 400,
        error: { message, type: 'invalid_request_error', param: null, code: 'content_filter' },
      },
    }
  }
  if (candidates.some((c) => FAILED_FINISH.has(String(c.finishReason))))
    return { ok: false, message: 'The upstream produced a malformed reply.' }
  let generated = ''
  const choices = candidates.map((c, i) => {
    const parts = (((c.content as Json | undefined)?.parts as Json[] | undefined) ?? []).filter(
      (p) => p.thought !== true,
    )
    const content = parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('')
    const calls = parts.filter((p) => p.functionCall).map((p) => toolCallOf(p))
    generated += content
    return {
      index: typeof c.index === 'number' ? c.index : i,
      message: {
        role: 'assistant',
        content: content === '' && calls.length ? null : content,
        refusal: null,
        ...(calls.length ? { tool_calls: calls } : {}),
      },
      logprobs: null,
      finish_reason: finishReason(c.finishReason, calls.length > 0),
    }
  })
  const usage = usageFromGemini(reply.usageMetadata as GeminiUsage)
  const out = {
    id: `chatcmpl-${String(reply.responseId ?? mintCallId())}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices,
    ...(usage ? { usage: geminiOpenAIUsage(usage) } : {}),
  }
  return { ok: true, text: JSON.stringify(out), usage, outputText: generated }
}

export function geminiOpenAIUsage(u: Usage) {
  const prompt = u.inputUncached + u.cacheRead
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  }
}
