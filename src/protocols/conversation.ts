// Which conversation a request belongs to (docs/affinity.md), so every turn goes to the provider and key
// whose prompt cache already holds its prefix. First present: Claude Code's session header, Anthropic's
// metadata.user_id, OpenAI's prompt_cache_key, Codex's session header; otherwise the conversation's
// fixed start (system prompt or instructions, first user message). Always scoped to the virtual key and
// the public model, so no key can steer another's traffic and a side request on a smaller model (Claude
// Code's Haiku calls share the session) keeps a pin of its own.

export type ConversationProtocol = 'openai' | 'anthropic' | 'responses' | 'gemini'

type ConversationSource =
  'claude_code_session' | 'metadata_user_id' | 'prompt_cache_key' | 'session_header' | 'prompt'

export type ConversationInput = {
  protocol: ConversationProtocol
  // The client's own body (before any translation).
  body: Record<string, unknown>
  // Request header by lower-case name.
  header(name: string): string | undefined | null
  keyId: string
  model: string
}

// `id`: a hex digest, the same on every turn of one conversation and different across keys and models;
// what the pin is stored under and what an OpenAI-protocol target gets as prompt_cache_key.
export type Conversation = { id: string; source: ConversationSource }

// Longer client-chosen identifiers are cut, not trusted to be short.
const MAX_ID_CHARS = 512

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, MAX_ID_CHARS) : null)
const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v))

function explicit(input: ConversationInput): { value: string; source: ConversationSource } | null {
  const { body, header, protocol } = input
  const session = str(header('x-claude-code-session-id'))
  if (session) return { value: session, source: 'claude_code_session' }
  if (protocol === 'anthropic') {
    const metadata = body.metadata
    const user =
      metadata && typeof metadata === 'object' ? str((metadata as { user_id?: unknown }).user_id) : null
    if (user) return { value: user, source: 'metadata_user_id' }
  }
  if (protocol === 'openai' || protocol === 'responses') {
    const key = str(body.prompt_cache_key)
    if (key) return { value: key, source: 'prompt_cache_key' }
  }
  const codex = str(header('session-id')) ?? str(header('session_id'))
  if (codex) return { value: codex, source: 'session_header' }
  return null
}

type Item = { role?: unknown; type?: unknown; content?: unknown }
const roleOf = (m: unknown) => (m && typeof m === 'object' ? (m as Item).role : undefined)
const isInstruction = (m: unknown) => roleOf(m) === 'system' || roleOf(m) === 'developer'

// The leading instructions and the first user message of a list of turns: what stays the same on every
// turn of a conversation (later system messages, such as a date, may change and are left out).
function start(turns: unknown[]): string {
  const lead: unknown[] = []
  for (const m of turns) {
    if (isInstruction(m)) lead.push(m)
    else if (roleOf(m) === 'user') return `${json(lead)}\n${json((m as Item).content)}`
    else break
  }
  const firstUser = turns.find((m) => roleOf(m) === 'user') as Item | undefined
  return `${json(lead)}\n${json(firstUser?.content)}`
}

function promptStart(input: ConversationInput): string {
  const { body, protocol } = input
  const list = (v: unknown) => (Array.isArray(v) ? v : [])
  if (protocol === 'anthropic') {
    const first = list(body.messages).find((m) => roleOf(m) === 'user') as Item | undefined
    return `${json(body.system)}\n${json(first?.content)}`
  }
  if (protocol === 'responses') {
    const turns = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : list(body.input)
    return `${json(body.instructions)}\n${start(turns)}`
  }
  if (protocol === 'gemini') {
    const first = list(body.contents).find((m) => roleOf(m) === 'user' || roleOf(m) === undefined) as
      { parts?: unknown } | undefined
    return `${json(body.systemInstruction ?? body.system_instruction)}\n${json(first?.parts)}`
  }
  return start(list(body.messages))
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest, 0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export async function conversationId(input: ConversationInput): Promise<Conversation> {
  const named = explicit(input)
  const source = named?.source ?? 'prompt'
  const value = named?.value ?? promptStart(input)
  // The source is part of the digest: a session id can never equal a prompt's digest by construction.
  const id = await sha256Hex(`${input.keyId}\n${input.model}\n${source}\n${value}`)
  return { id, source }
}
