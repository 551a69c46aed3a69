import { GatewayError } from '../../errors'
import type { ClientDialect } from '../../pipeline/relay'
import type { Chunk } from '../../upstream/providers/types'
import { encodeEvent, type StreamEncoder } from '../../upstream/stream'
import { translatedEncoder } from './encoder'
import { toResponse } from './reply'

// A failure after the first byte is written as Responses' own `error` event.
export type ResponseCreated = { reply(id: string): void; stream(id: string): void }

function idOf(text: string): string | null {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id
    return typeof id === 'string' ? id : null
  } catch {
    return null
  }
}

function responsesEncoder(created: (id: string) => void): StreamEncoder {
  let sequence = 0
  let seen = false
  return {
    chunk(chunk: Chunk) {
      const json = chunk.json ?? {}
      if (typeof json.sequence_number === 'number') sequence = json.sequence_number + 1
      const id = (json.response as { id?: unknown } | undefined)?.id
      if (!seen && typeof id === 'string') {
        seen = true
        created(id)
      }
      return encodeEvent(chunk)
    },
    done: () => '',
    error: (message) =>
      `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'upstream_error', message, param: null, sequence_number: sequence })}\n\n`,
  }
}

// A Responses client: relayed as it comes from OpenAI-protocol targets (the id of the response being
// created noted for pinning); translated from chat for any other target (not pinned: nothing stores it).
export function responsesDialect(created: ResponseCreated, inbound: Record<string, unknown>): ClientDialect {
  return {
    native: 'openai',
    inbound: { protocol: 'responses', body: inbound, headers: {}, query: '' },
    reply(text, estimatedInput, native) {
      if (!native) {
        try {
          return toResponse(text, inbound, estimatedInput)
        } catch {
          throw new GatewayError({
            code: 'upstream_error',
            message: 'The upstream sent a reply that is not valid JSON.',
          })
        }
      }
      const id = idOf(text)
      if (id) created.reply(id)
      return text
    },
    encoder: (estimatedInput, native) =>
      native ? responsesEncoder(created.stream) : translatedEncoder(inbound, estimatedInput),
    showsCost: true,
  }
}
