import type { ClientDialect } from '../../pipeline/relay'
import type { Chunk } from '../../upstream/providers/types'
import { encodeEvent, type StreamEncoder } from '../../upstream/stream'

// A Responses client: replies and streams are the upstream's own (relayed), so this dialect only notes
// the id of the response being created (for pinning) and writes a failure after the first byte as
// Responses' own `error` event.
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

export function responsesDialect(created: ResponseCreated): ClientDialect {
  return {
    reply(text) {
      const id = idOf(text)
      if (id) created.reply(id)
      return text
    },
    encoder: () => responsesEncoder(created.stream),
    clientError: (status, error) => Response.json({ error }, { status }),
  }
}
