import * as z from 'zod/mini'
import './lib/zod-en'

// Request schemas check the fields the gateway relies on and pass every other OpenAI field through
// untouched (looseObject), so tools, response_format, seed, logprobs… reach the upstream as sent.
const nonEmptyString = z.string().check(z.minLength(1))
const nonEmptyArray = <T extends z.core.SomeType>(item: T) => z.array(item).check(z.minLength(1))
const tokenCount = z.nullish(z.int().check(z.positive()))

const Message = z.looseObject({
  role: nonEmptyString,
  content: z.optional(z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()])),
})

export const ChatRequest = z.looseObject({
  model: nonEmptyString,
  messages: nonEmptyArray(Message),
  stream: z.nullish(z.boolean()),
  stream_options: z.nullish(z.looseObject({ include_usage: z.optional(z.boolean()) })),
  max_tokens: tokenCount,
  max_completion_tokens: tokenCount,
  n: z.nullish(z.int().check(z.gte(1), z.lte(128))),
  temperature: z.nullish(z.number().check(z.gte(0), z.lte(2))),
  top_p: z.nullish(z.number().check(z.gte(0), z.lte(1))),
})
export type ChatRequest = z.infer<typeof ChatRequest>

export const EmbeddingsRequest = z.looseObject({
  model: nonEmptyString,
  input: z.union([
    z.string(),
    nonEmptyArray(z.string()),
    nonEmptyArray(z.int()),
    nonEmptyArray(nonEmptyArray(z.int())),
  ]),
  encoding_format: z.optional(z.enum(['float', 'base64'])),
  dimensions: z.optional(z.int().check(z.positive())),
  user: z.optional(z.string()),
})
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>
