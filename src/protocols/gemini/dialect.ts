import { GatewayError } from '../../errors'
import type { ClientDialect } from '../../pipeline/relay'
import type { Inbound } from '../../upstream/providers/types'
import { toGeminiEmbeddings, toGeminiResponse } from './reply'
import { geminiEncoder, relayEncoder, type Framing } from './stream'

const unreadable = () =>
  new GatewayError({ code: 'upstream_error', message: 'The upstream sent a reply that is not valid JSON.' })

// A Gemini API client (Gemini CLI, @google/genai): passthrough to Gemini targets, thought signatures and
// all; for any other target, replies, streams and upstream refusals translated back to Gemini's shapes.
export function geminiDialect(inbound: Inbound, model: string, framing: Framing): ClientDialect {
  return {
    native: 'gemini',
    inbound,
    reply(text, estimatedInput, native) {
      if (native) return text
      try {
        return toGeminiResponse(text, model, estimatedInput)
      } catch {
        throw unreadable()
      }
    },
    encoder: (estimatedInput, native) =>
      native ? relayEncoder(framing) : geminiEncoder(framing, model, estimatedInput),
  }
}

// embedContent / batchEmbedContents: every target answers OpenAI's embeddings list (a Gemini target's
// batchEmbedContents comes back through its adapter), turned into Gemini's shape here.
export function geminiEmbedDialect(single: boolean): ClientDialect {
  return {
    reply(text) {
      try {
        return toGeminiEmbeddings(text, single)
      } catch {
        throw unreadable()
      }
    },
    encoder: () => relayEncoder('sse'),
  }
}
