import * as z from 'zod/mini'
import '../../lib/zod-en'

// What the gateway relies on in a Gemini request (generateContent, countTokens); every other field is
// judged by the translation or relayed untouched to a Gemini target. The model is in the path.
const Part = z.looseObject({})
const Content = z.looseObject({
  role: z.optional(z.string()),
  parts: z.array(Part),
})

export const GenerateContentRequest = z.looseObject({
  contents: z.array(Content).check(z.minLength(1)),
  systemInstruction: z.optional(z.union([z.string(), Content])),
  tools: z.optional(z.array(z.looseObject({}))),
  toolConfig: z.optional(z.looseObject({})),
  generationConfig: z.optional(
    z.looseObject({
      maxOutputTokens: z.optional(z.int().check(z.positive())),
      candidateCount: z.optional(z.int().check(z.gte(1), z.lte(8))),
      temperature: z.optional(z.number().check(z.gte(0), z.lte(2))),
      topP: z.optional(z.number().check(z.gte(0), z.lte(1))),
    }),
  ),
})

// countTokens takes either the contents (with tools and system instruction) or a whole
// generateContentRequest.
export const CountTokensRequest = z.looseObject({
  contents: z.optional(z.array(Content)),
  generateContentRequest: z.optional(z.looseObject({ contents: z.array(Content) })),
})

const EmbedContent = z.looseObject({ parts: z.array(Part).check(z.minLength(1)) })
const EmbedRequest = z.looseObject({
  model: z.optional(z.string()),
  content: EmbedContent,
  taskType: z.optional(z.string()),
  outputDimensionality: z.optional(z.int().check(z.positive())),
})

export const EmbedContentRequest = EmbedRequest
export const BatchEmbedContentsRequest = z.looseObject({
  requests: z.array(EmbedRequest).check(z.minLength(1)),
})
