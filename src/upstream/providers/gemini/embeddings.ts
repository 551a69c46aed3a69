import type { Target } from '../../targets'
import { isCount } from '../openai-usage'
import { RequestRejected, type Decoded } from '../types'

type Json = Record<string, unknown>

// OpenAI embeddings → one batchEmbedContents call (Gemini embeds text only).
export function embeddingsBody(target: Target, body: Json): Json {
  const input = typeof body.input === 'string' ? [body.input] : body.input
  if (!Array.isArray(input) || !input.every((i) => typeof i === 'string'))
    throw new RequestRejected('This model embeds text only; send strings, not token arrays.', 'input')
  const model = `models/${target.upstreamModel.replace(/^models\//, '')}`
  const taskType = target.capabilities.embedding_task_type
  return {
    requests: input.map((text) => ({
      model,
      content: { parts: [{ text }] },
      ...(typeof body.dimensions === 'number' ? { outputDimensionality: body.dimensions } : {}),
      ...(taskType ? { taskType } : {}),
    })),
  }
}

// Little-endian float32, base64: what the OpenAI SDK asks for by default and decodes itself.
function toBase64(values: number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4))
  values.forEach((v, i) => view.setFloat32(i * 4, v, true))
  const bytes = new Uint8Array(view.buffer)
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

export function decodeEmbeddings(text: string, model: string, body: Json): Decoded {
  let reply: Json
  try {
    reply = JSON.parse(text) as Json
  } catch {
    return { ok: false, message: 'The upstream sent a reply that is not JSON.' }
  }
  const embeddings = Array.isArray(reply.embeddings) ? (reply.embeddings as Json[]) : null
  if (!embeddings) return { ok: false, message: 'The upstream sent no embeddings.' }
  const base64 = body.encoding_format !== 'float'
  const prompt = (reply.usageMetadata as Json | undefined)?.promptTokenCount
  const usage = isCount(prompt)
    ? { inputUncached: prompt, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 0, reasoning: 0 }
    : null
  const out = {
    object: 'list',
    data: embeddings.map((e, index) => {
      const values = Array.isArray(e.values) ? (e.values as number[]) : []
      return { object: 'embedding', index, embedding: base64 ? toBase64(values) : values }
    }),
    model,
    ...(usage ? { usage: { prompt_tokens: usage.inputUncached, total_tokens: usage.inputUncached } } : {}),
  }
  return { ok: true, text: JSON.stringify(out), usage, outputText: '' }
}
