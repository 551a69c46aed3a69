import { z } from 'zod'

// Request schemas check the fields the gateway relies on and pass every other OpenAI field through
// untouched (looseObject), so tools, response_format, seed, logprobs… reach the upstream as sent.
const tokenCount = z.number().int().positive().nullable().optional()

const Message = z.looseObject({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
})

export const ChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: tokenCount,
  max_completion_tokens: tokenCount,
  n: z.number().int().min(1).max(128).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
})
export type ChatRequest = z.infer<typeof ChatRequest>

export const EmbeddingsRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
})
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>
