import * as z from 'zod/mini'
import '../../lib/zod-en'

// What the gateway relies on in a Messages request; every other field is judged by the translation (or
// relayed untouched to an Anthropic target).
const nonEmptyString = z.string().check(z.minLength(1))
const Block = z.looseObject({ type: nonEmptyString })

const Message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(Block)]),
})

const CountedRequest = {
  model: nonEmptyString,
  messages: z.array(Message).check(z.minLength(1)),
  system: z.optional(z.union([z.string(), z.array(Block)])),
  tools: z.optional(z.array(z.looseObject({}))),
}

export const MessagesRequest = z.looseObject({
  ...CountedRequest,
  max_tokens: z.int().check(z.positive()),
  stream: z.optional(z.boolean()),
  stop_sequences: z.optional(z.array(z.string())),
  temperature: z.optional(z.number().check(z.gte(0), z.lte(1))),
  top_p: z.optional(z.number().check(z.gte(0), z.lte(1))),
})

export const CountTokensRequest = z.looseObject(CountedRequest)

export type Block = Record<string, unknown> & { type: string }
export type AnthropicMessage = { role: 'user' | 'assistant' | 'system'; content: string | Block[] }
