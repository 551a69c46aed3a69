// Prompt caches as the real APIs keep them: per account key and model (here also per scenario, which
// stands for one provider), holding hashes of prompt prefixes that expire unless read again. A
// conversation that moves to another key or provider finds nothing there and pays for its prefix again.
//
// Anthropic (prompt caching docs): a prefix is written at each `cache_control` breakpoint (tools, then
// system, then messages, block by block) once it is long enough (1,024 tokens, 2,048 on Haiku); a request
// reads the longest written prefix that ends at a breakpoint or at one of the ~20 block boundaries before
// it, and writes the rest up to its last breakpoint. OpenAI: every prompt of 1,024 tokens or more is
// cached; a request reads the longest cached prefix at a message boundary, in steps of 128 tokens.
import { createHash } from 'node:crypto'
import { isObject, type Json } from './http.ts'

const stores = new Map<string, Map<string, number>>()
const MAX_ENTRIES = 50_000
const LOOKBACK_BLOCKS = 20
const OPENAI_MIN = 1024
const OPENAI_STEP = 128
const OPENAI_TTL_MS = 10 * 60_000
const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const

type Ttl = keyof typeof TTL_MS
// One block of the prompt: the hash of the whole prefix up to and including it, and the tokens so far.
type Prefix = { hash: string; tokens: number; breakpoint: Ttl | null }

function storeOf(scenario: string, apiKey: string, model: string) {
  const id = `${scenario}\n${apiKey}\n${model}`
  let store = stores.get(id)
  if (!store) stores.set(id, (store = new Map()))
  if (store.size > MAX_ENTRIES) store.clear()
  return store
}

// POST /__reset[?scenario=s] forgets the caches too.
export function resetPromptCaches(scenario?: string) {
  for (const id of stores.keys())
    if (scenario === undefined || id.startsWith(`${scenario}\n`)) stores.delete(id)
}

const tokensOf = (text: string) => Math.ceil(text.length / 4)

function chain(parts: { text: string; tokens?: number; breakpoint?: Ttl | null }[]): Prefix[] {
  let hash = ''
  let tokens = 0
  return parts.map((p) => {
    hash = createHash('sha256').update(hash).update('\n').update(p.text).digest('hex')
    tokens += p.tokens ?? tokensOf(p.text)
    return { hash, tokens, breakpoint: p.breakpoint ?? null }
  })
}

const live = (store: Map<string, number>, hash: string, now: number) => (store.get(hash) ?? 0) > now

// ---- Anthropic ----------------------------------------------------------------------------------------

function ttlOf(block: unknown): Ttl | null {
  const cc = isObject(block) ? block.cache_control : undefined
  if (!isObject(cc) || cc.type !== 'ephemeral') return null
  return cc.ttl === '1h' ? '1h' : '5m'
}

const withoutMarker = (block: unknown) => {
  if (!isObject(block)) return JSON.stringify(block)
  const { cache_control: _, ...rest } = block
  return JSON.stringify(rest)
}

function anthropicBlocks(body: Json) {
  const parts: { text: string; breakpoint: Ttl | null }[] = []
  for (const tool of Array.isArray(body.tools) ? body.tools : [])
    parts.push({ text: `tool:${withoutMarker(tool)}`, breakpoint: ttlOf(tool) })
  if (typeof body.system === 'string') parts.push({ text: `system:${body.system}`, breakpoint: null })
  else if (Array.isArray(body.system))
    for (const block of body.system)
      parts.push({ text: `system:${withoutMarker(block)}`, breakpoint: ttlOf(block) })
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    if (!isObject(message)) continue
    const role = String(message.role)
    if (typeof message.content === 'string')
      parts.push({ text: `${role}:${message.content}`, breakpoint: null })
    else if (Array.isArray(message.content))
      for (const block of message.content)
        parts.push({ text: `${role}:${withoutMarker(block)}`, breakpoint: ttlOf(block) })
  }
  return parts
}

// `total`: the prompt's tokens counted block by block (null when no breakpoint applies: nothing cached).
type AnthropicCache = { read: number; write5m: number; write1h: number; total: number | null }

// What one Messages request reads from and writes to its key's cache (and records the writes).
export function anthropicCache(
  scenario: string,
  apiKey: string,
  body: Json,
  now = Date.now(),
): AnthropicCache {
  const model = String(body.model)
  const min = /haiku/i.test(model) ? 2048 : 1024
  const prefixes = chain(anthropicBlocks(body))
  const breakpoints = prefixes.flatMap((p, i) => (p.breakpoint && p.tokens >= min ? [i] : []))
  const out = { read: 0, write5m: 0, write1h: 0, total: prefixes.at(-1)?.tokens ?? 0 }
  if (breakpoints.length === 0) return { ...out, total: null }
  const store = storeOf(scenario, apiKey, model)
  let hit = -1
  for (const b of breakpoints)
    for (let j = b; j >= Math.max(0, b - LOOKBACK_BLOCKS + 1) && j > hit; j--)
      if (live(store, prefixes[j]!.hash, now)) {
        hit = j
        break
      }
  if (hit >= 0) {
    out.read = prefixes[hit]!.tokens
    const ttl = store.get(prefixes[hit]!.hash)! - now > TTL_MS['5m'] ? '1h' : '5m'
    store.set(prefixes[hit]!.hash, now + TTL_MS[ttl])
  }
  let written = out.read
  for (const b of breakpoints) {
    const p = prefixes[b]!
    if (b > hit) {
      const tokens = p.tokens - written
      if (p.breakpoint === '1h') out.write1h += tokens
      else out.write5m += tokens
      written = p.tokens
    }
    store.set(p.hash, Math.max(store.get(p.hash) ?? 0, now + TTL_MS[p.breakpoint!]))
  }
  return out
}

// ---- OpenAI (Chat Completions and Responses) ----------------------------------------------------------

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((p) => (isObject(p) ? textOf(p.text ?? p.content) : '')).join('')
      : ''

// Cached tokens for a prompt given as its leading part (tools, instructions) and its items, each item's
// tokens as the mock counts them; every message-boundary prefix is remembered for the next request.
function openaiCached(
  scenario: string,
  apiKey: string,
  model: string,
  head: string,
  items: { text: string; tokens: number }[],
  now: number,
): number {
  const prefixes = chain([{ text: head, tokens: 0 }, ...items])
  const store = storeOf(scenario, apiKey, model)
  let cached = 0
  for (let i = prefixes.length - 1; i > 0; i--) {
    const p = prefixes[i]!
    if (p.tokens < OPENAI_MIN) break
    if (live(store, p.hash, now)) {
      cached = Math.floor(p.tokens / OPENAI_STEP) * OPENAI_STEP
      break
    }
  }
  for (const p of prefixes) if (p.tokens >= OPENAI_MIN) store.set(p.hash, now + OPENAI_TTL_MS)
  return cached
}

const bearerOf = (authorization: string | undefined) => (authorization ?? '').replace(/^Bearer\s+/i, '')

export function chatCached(
  scenario: string,
  authorization: string | undefined,
  body: Json,
  now = Date.now(),
) {
  const messages = Array.isArray(body.messages) ? body.messages : []
  const items = messages.map((m) => {
    const text = isObject(m) ? textOf(m.content) : ''
    return { text: `${isObject(m) ? String(m.role) : ''}:${JSON.stringify(m)}`, tokens: tokensOf(text) + 3 }
  })
  const head = JSON.stringify([body.tools ?? null, body.response_format ?? null])
  return openaiCached(scenario, bearerOf(authorization), String(body.model), head, items, now)
}

export function responsesCached(
  scenario: string,
  authorization: string | undefined,
  body: Json,
  now = Date.now(),
) {
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input
  const items = (Array.isArray(input) ? input : []).map((item) => {
    const text = isObject(item) ? textOf(item.text ?? item.content) : ''
    return { text: JSON.stringify(item), tokens: tokensOf(text) }
  })
  const instructions = typeof body.instructions === 'string' ? body.instructions : ''
  const head = {
    text: JSON.stringify([body.tools ?? null, instructions]),
    tokens: tokensOf(instructions) + 7,
  }
  return openaiCached(
    scenario,
    bearerOf(authorization),
    String(body.model),
    head.text,
    // The instructions count toward the 1,024 tokens a cached prefix needs.
    items.map((it, i) => (i === 0 ? { ...it, tokens: it.tokens + head.tokens } : it)),
    now,
  )
}
