// Token estimates for the guard (before the call) and for usage when the upstream reports none.
// ~4 characters per token plus OpenAI's per-message framing; an exact tokenizer is future work.
const DEFAULT_COMPLETION_TOKENS = 256
const PER_MESSAGE_TOKENS = 4
const PER_REQUEST_TOKENS = 3

export function tokensForChars(chars: number): number {
  return Math.ceil(chars / 4)
}

export function tokensForText(text: string): number {
  return tokensForChars(text.length)
}

// Text of a message's content: a string, or the text parts of a list of parts.
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('')
  }
  return ''
}

export function estimateChatPromptTokens(messages: { content?: unknown }[]): number {
  return messages.reduce(
    (sum, m) => sum + PER_MESSAGE_TOKENS + tokensForText(textOf(m.content)),
    PER_REQUEST_TOKENS,
  )
}

export function estimateEmbeddingTokens(input: unknown): number {
  if (typeof input === 'string') return tokensForText(input)
  if (!Array.isArray(input)) return 0
  return input.reduce<number>((sum, item) => {
    if (typeof item === 'string') return sum + tokensForText(item)
    if (typeof item === 'number') return sum + 1
    if (Array.isArray(item)) return sum + item.length
    return sum
  }, 0)
}

// What a budget reserves for the completion when the request sets no max_tokens and the mapping no
// max_output_tokens: as much as current chat models may write (gpt-4o, gpt-4o-mini: 16,384).
export const DEFAULT_MAX_OUTPUT_TOKENS = 16_384

type CompletionLimits = {
  max_tokens?: number | null
  max_completion_tokens?: number | null
  max_output_tokens?: number | null
  n?: number | null
}

// The completion the request itself allows: max_completion_tokens / max_tokens / max_output_tokens
// (Responses) (× n), or null.
export function requestedCompletion(body: CompletionLimits): number | null {
  const perChoice = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens
  return perChoice === null || perChoice === undefined ? null : perChoice * (body.n ?? 1)
}

// The completion the TPM limit counts before the call (settled with the real count after).
export function completionAllowance(body: CompletionLimits): number {
  return requestedCompletion(body) ?? DEFAULT_COMPLETION_TOKENS * (body.n ?? 1)
}

// The most the completion can cost, for a budget reservation: without max_tokens the model may write
// up to its own cap, so that cap is reserved (a default of 256 let budgets be overshot many times over).
export function reservedCompletion(body: CompletionLimits, maxOutputTokens: number | null): number {
  return requestedCompletion(body) ?? (maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS) * (body.n ?? 1)
}

// A Responses request's prompt: its instructions and its input (a string or a list of items).
function estimateResponsesPromptTokens(body: Record<string, unknown>): number {
  const instructions = typeof body.instructions === 'string' ? tokensForText(body.instructions) : 0
  const input = body.input
  if (typeof input === 'string') return PER_REQUEST_TOKENS + instructions + tokensForText(input)
  const items = Array.isArray(input)
    ? (input as { content?: unknown; output?: unknown; arguments?: unknown }[])
    : []
  return items.reduce(
    (sum, item) =>
      sum +
      PER_MESSAGE_TOKENS +
      tokensForText(textOf(item?.content) + textOf(item?.output) + textOf(item?.arguments)),
    PER_REQUEST_TOKENS + instructions,
  )
}

// The body is what goes upstream: a Messages request has been translated to chat by then.
export function estimateRequest(
  route: 'chat' | 'embeddings' | 'messages' | 'responses' | 'count_tokens' | 'lookup',
  body: Record<string, unknown>,
): { prompt: number; completion: number } {
  if (route === 'count_tokens' || route === 'lookup') return { prompt: 0, completion: 0 }
  if (route === 'embeddings') return { prompt: estimateEmbeddingTokens(body.input), completion: 0 }
  if (route === 'responses')
    return { prompt: estimateResponsesPromptTokens(body), completion: completionAllowance(body as never) }
  const messages = Array.isArray(body.messages) ? (body.messages as { content?: unknown }[]) : []
  return { prompt: estimateChatPromptTokens(messages), completion: completionAllowance(body as never) }
}
