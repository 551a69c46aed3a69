import { usageFromOpenAI } from '../../upstream/providers/openai'
import type { Usage } from '../../upstream/providers/types'

// OpenAI Chat Completions → Gemini GenerateContentResponse (the reverse of docs/providers.md §2.4), for
// replies from targets that do not speak Gemini.
type Json = Record<string, unknown>

const FINISH: Record<string, string> = {
  stop: 'STOP',
  tool_calls: 'STOP',
  function_call: 'STOP',
  length: 'MAX_TOKENS',
  content_filter: 'SAFETY',
}

export const finishReasonOf = (finish: unknown) => FINISH[String(finish)] ?? 'STOP'

// Gemini's usageMetadata: promptTokenCount includes the cached tokens; thoughts are apart from the
// candidates (the reverse of usageFromGemini).
export function usageMetadata(usage: Usage | null, estimatedInput = 0): Json {
  if (!usage)
    return { promptTokenCount: estimatedInput, candidatesTokenCount: 0, totalTokenCount: estimatedInput }
  const prompt = usage.inputUncached + usage.cacheRead + usage.cacheWrite5m + usage.cacheWrite1h
  const candidates = usage.output - usage.reasoning
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + usage.output,
    ...(usage.cacheRead ? { cachedContentTokenCount: usage.cacheRead } : {}),
    ...(usage.reasoning ? { thoughtsTokenCount: usage.reasoning } : {}),
  }
}

function parseArgs(args: unknown): Json {
  try {
    const value: unknown = JSON.parse(typeof args === 'string' && args ? args : '{}')
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
  } catch {
    return {}
  }
}

// A tool call as a functionCall part: the OpenAI id rides as Gemini's optional call id (clients echo it in
// functionResponse.id), a Gemini thought signature at part level where the hub carried one.
export function functionCallPart(call: Json): Json {
  const fn = (call.function ?? {}) as Json
  const signature = ((call.extra_content as Json | undefined)?.google as Json | undefined)?.thought_signature
  return {
    functionCall: {
      ...(typeof call.id === 'string' && call.id ? { id: call.id } : {}),
      name: fn.name,
      args: parseArgs(fn.arguments),
    },
    ...(typeof signature === 'string' ? { thoughtSignature: signature } : {}),
  }
}

export const responseId = () => crypto.randomUUID().replace(/-/g, '').slice(0, 22)

export function toGeminiResponse(text: string, model: string, estimatedInput: number): string {
  const completion = JSON.parse(text) as { choices?: Json[]; usage?: unknown }
  const candidates = (completion.choices ?? []).map((choice, i) => {
    const message = (choice.message ?? {}) as Json
    const parts: Json[] = []
    const content = [message.content, message.refusal].filter((t) => typeof t === 'string' && t).join('')
    if (content) parts.push({ text: content })
    for (const call of Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [])
      parts.push(functionCallPart(call))
    return {
      content: { role: 'model', parts },
      finishReason: message.refusal ? 'SAFETY' : finishReasonOf(choice.finish_reason),
      index: typeof choice.index === 'number' ? choice.index : i,
    }
  })
  return JSON.stringify({
    candidates,
    usageMetadata: usageMetadata(usageFromOpenAI(completion.usage), estimatedInput),
    modelVersion: model,
    responseId: responseId(),
  })
}

// OpenAI's embeddings list (floats) → embedContent's one embedding or batchEmbedContents' list.
export function toGeminiEmbeddings(text: string, single: boolean): string {
  const list = JSON.parse(text) as { data?: { index?: number; embedding?: unknown }[] }
  const embeddings = [...(list.data ?? [])]
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
    .map((d) => ({ values: Array.isArray(d.embedding) ? d.embedding : [] }))
  return JSON.stringify(single ? { embedding: embeddings[0] ?? { values: [] } } : { embeddings })
}
