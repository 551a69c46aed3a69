import * as z from 'zod/mini'
import '../../lib/zod-en'

// What the gateway relies on in a Responses request; everything else goes to the upstream as sent.
export const ResponsesRequest = z.looseObject({
  model: z.string().check(z.minLength(1)),
  input: z.optional(z.union([z.string(), z.array(z.looseObject({}))])),
  instructions: z.nullish(z.string()),
  stream: z.nullish(z.boolean()),
  max_output_tokens: z.nullish(z.int().check(z.positive())),
  previous_response_id: z.nullish(z.string().check(z.minLength(1))),
})
