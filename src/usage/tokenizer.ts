// Exact token counts for a request whose upstream reported no usage (an OpenAI-compatible server that
// ignores stream_options.include_usage, a stream cut short), with OpenAI's BPE encodings. It runs after
// the response (waitUntil), and its rank tables are Workers assets (public/tokenizer/, written by
// `npm install`) fetched on first use per isolate: nothing of it is on the hot path or in the bundle but
// the encoder's small core, itself imported only then.
import { chargeUsage, type UsageDraft } from './draft'
import { textOf } from './tokens'

export type Encoding = 'o200k_base' | 'cl100k_base'
type Count = (text: string) => number

// GPT-4 (not 4o/4.1), GPT-3.5 and the embedding models count in cl100k_base; GPT-4o and later, the
// o-series and every other family (for which no public tokenizer is exact) in o200k_base.
function encodingFor(model: string): Encoding {
  const name = model.toLowerCase().replace(/^.*\//, '')
  if (/^gpt-4(?![o.])/.test(name) || name.startsWith('gpt-3.5') || name.startsWith('text-embedding'))
    return 'cl100k_base'
  return 'o200k_base'
}

const loaded = new Map<Encoding, Promise<Count>>()

function tokenCounter(assets: Fetcher, encoding: Encoding): Promise<Count> {
  let counter = loaded.get(encoding)
  if (!counter) {
    counter = load(assets, encoding)
    // A failed load (asset missing) is retried by the next request rather than cached.
    counter.catch(() => loaded.delete(encoding))
    loaded.set(encoding, counter)
  }
  return counter
}

async function load(assets: Fetcher, encoding: Encoding): Promise<Count> {
  const [{ GptEncoding }, res] = await Promise.all([
    import('gpt-tokenizer/GptEncoding'),
    assets.fetch(`https://assets.local/tokenizer/${encoding}.json`),
  ])
  if (!res.ok) throw new Error(`tokenizer table ${encoding} not found (HTTP ${res.status})`)
  const ranks = (await res.json()) as (string | number[])[]
  const api = GptEncoding.getEncodingApi(encoding, () => ranks)
  return (text) => (text ? api.countTokens(text) : 0)
}

// OpenAI's chat framing (its cookbook's count): 3 tokens per message plus its role, name and content,
// and 3 that prime the reply. Tool calls' arguments count as text.
function countChatPrompt(count: Count, messages: unknown): number {
  if (!Array.isArray(messages)) return 0
  let total = 3
  for (const m of messages as Record<string, unknown>[]) {
    total += 3 + count(String(m?.role ?? '')) + count(textOf(m?.content))
    if (typeof m?.name === 'string') total += 1 + count(m.name)
    for (const call of Array.isArray(m?.tool_calls) ? m.tool_calls : [])
      total += count(String(call?.function?.name ?? '')) + count(String(call?.function?.arguments ?? ''))
  }
  return total
}

// Embedding inputs: strings are counted, token arrays already are tokens.
function countEmbeddingInput(count: Count, input: unknown): number {
  const items = Array.isArray(input) ? input : [input]
  if (items.every((item) => typeof item === 'number')) return items.length
  return items.reduce<number>((sum, item) => {
    if (typeof item === 'string') return sum + count(item)
    if (Array.isArray(item)) return sum + item.length
    return sum
  }, 0)
}

// Replaces the draft's character estimate with the tokenizer's count (the draft says how it was counted);
// when the tables cannot be had, the estimate stands and the row says 'chars'.
export async function countWithTokenizer(assets: Fetcher | undefined, draft: UsageDraft): Promise<void> {
  const pending = draft.recount
  if (!pending || !assets) return
  draft.recount = null
  const encoding = encodingFor(pending.model)
  const count = await tokenCounter(assets, encoding)
  const prompt =
    pending.route === 'chat'
      ? countChatPrompt(count, pending.body.messages)
      : countEmbeddingInput(count, pending.body.input)
  draft.usage = { ...draft.usage, inputUncached: prompt, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 }
  draft.promptTokens = prompt
  if (pending.output !== null) {
    draft.completionTokens = count(pending.output)
    draft.usage.output = draft.completionTokens
  }
  draft.tokensMethod = encoding
  chargeUsage(draft)
}
