// The agent-sessions scenario (issue 21): coding-agent conversations whose bill is the prompt prefix they
// resend every turn. 20 concurrent conversations of 20 turns each, Claude-Code-style (/v1/messages, a
// session header, a 12,000-character system prompt and a moving breakpoint on the last message) over two
// Anthropic providers with three pooled keys each, `weighted` routing; and Codex-style (/v1/responses,
// store:false, prompt_cache_key and a session-id header, the full history every turn) over two OpenAI
// providers. The mock upstream caches prompts per provider and key as the real APIs do. Each family runs
// against the gateway with affinity and against the same gateway with AFFINITY_DISABLED=true, and once more
// with affinity while one provider starts failing mid-run (its breaker opens; its conversations re-pin).
import { randomUUID } from 'node:crypto'
import { log } from './options.ts'
import { fmt, markdownTable, pct, summarize, table } from './stats.ts'

const CONVERSATIONS = 20
const TURNS = 20
// The seeded price of claude-sonnet-4-6 (USD per 1M: input, cache read, 5-minute cache write), and
// gpt-5's list price for the Codex model (input, cached input), which the bench sets through the admin API.
const CLAUDE_PRICE = { input: 3, read: 0.3, write5m: 3.75, write1h: 6 }
const CODEX_PRICE = { input: 1.25, read: 0.125 }
const SYSTEM = 'You are an interactive CLI tool that helps users with software engineering tasks. '.repeat(
  150,
)
const TOOL_OUTPUT =
  'src/app.ts:12: export function createApp() { return new Hono() } // lines of a tool result\n'

type Family = 'claude' | 'codex'
type Mode = 'ceiling' | 'off' | 'on' | 'breaker'
type Turn = { prompt: number; cacheRead: number; costUsd: number; ms: number; gatewayMs: number }

type SessionRow = {
  family: Family
  mode: Mode
  // Σ cache reads / Σ prompt tokens over turns 2..20 of every conversation.
  cacheReadShare: number
  promptCostPerConversation: number
  p50Ms: number
  gatewayP50Ms: number
  errors: number
  // Turns by whether their pin held (nexusai_affinity_total over the run; empty without the gateway).
  affinity: Record<string, number>
}

type SessionsResult = { conversations: number; turns: number; rows: SessionRow[] }

type Admin = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>

function adminOf(url: string, token: string): Admin {
  return async (method, path, body) => {
    const res = await fetch(`${url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
    if (!res.ok) throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`)
    return json
  }
}

// Two providers of one type, three stored keys each, one model routed to both by weight.
async function providers(admin: Admin, mockUrl: string, family: Family, run: string) {
  const model = `bench-agent-${family}-${run}`
  const ids: string[] = []
  for (const side of ['a', 'b']) {
    const p = await admin('POST', '/providers', {
      name: `bench-${family}-${run}-${side}`,
      type: family === 'claude' ? 'anthropic' : 'openai',
      base_url: `${mockUrl}/s/agent-${family}-${run}-${side}/v1`,
      api_keys: [1, 2, 3].map((k) => `sk-bench-${family}-${run}-${side}${k}-${randomUUID()}`),
      max_retries: 0,
      timeout_ms: 30_000,
    })
    ids.push(String(p.id))
    await admin('POST', '/model-mappings', {
      model,
      provider_id: p.id,
      upstream_model: family === 'claude' ? 'claude-sonnet-4-6' : 'gpt-5',
      priority: 1,
      weight: 1,
      strategy: 'weighted',
    })
  }
  if (family === 'codex')
    await admin('PUT', `/prices/${model}`, {
      input_per_million: CODEX_PRICE.input,
      output_per_million: 10,
      cache_read_per_million: CODEX_PRICE.read,
    })
  return { model, ids }
}

type Usage = Record<string, any>

function claudeTurn(usage: Usage): Omit<Turn, 'ms' | 'gatewayMs'> {
  const input = usage.input_tokens ?? 0
  const read = usage.cache_read_input_tokens ?? 0
  const w5 = usage.cache_creation?.ephemeral_5m_input_tokens ?? usage.cache_creation_input_tokens ?? 0
  const w1 = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0
  const p = CLAUDE_PRICE
  return {
    prompt: input + read + w5 + w1,
    cacheRead: read,
    costUsd: (input * p.input + read * p.read + w5 * p.write5m + w1 * p.write1h) / 1e6,
  }
}

function codexTurn(usage: Usage): Omit<Turn, 'ms' | 'gatewayMs'> {
  const prompt = usage.input_tokens ?? 0
  const read = usage.input_tokens_details?.cached_tokens ?? 0
  return {
    prompt,
    cacheRead: read,
    costUsd: ((prompt - read) * CODEX_PRICE.input + read * CODEX_PRICE.read) / 1e6,
  }
}

// One conversation, turn after turn, as the agent sends it.
async function conversation(
  gatewayUrl: string,
  raw: string,
  family: Family,
  model: string,
  beforeTurn: (turn: number) => Promise<void>,
) {
  const session = randomUUID()
  const system = `${SYSTEM} (conversation ${session})`
  const history: Usage[] = []
  const turns: (Turn | null)[] = []
  for (let turn = 0; turn < TURNS; turn++) {
    await beforeTurn(turn)
    const ask = `Turn ${turn}: run the tests and fix what fails.\n${TOOL_OUTPUT.repeat(8)}`
    let url: string
    let headers: Record<string, string>
    let body: unknown
    if (family === 'claude') {
      history.push({ role: 'user', content: [{ type: 'text', text: ask }] })
      // Claude Code's breakpoints: the system prompt, and the last message's last block.
      const messages = history.map((m, i) =>
        i === history.length - 1
          ? { ...m, content: m.content.map((b: Usage) => ({ ...b, cache_control: { type: 'ephemeral' } })) }
          : m,
      )
      url = `${gatewayUrl}/v1/messages`
      headers = { 'x-api-key': raw, 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': session }
      body = {
        model,
        max_tokens: 32_000,
        system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
        messages,
        tools: [
          {
            name: 'Bash',
            description: 'Run a shell command',
            input_schema: { type: 'object', properties: { command: { type: 'string' } } },
          },
        ],
      }
    } else {
      history.push({ role: 'user', content: [{ type: 'input_text', text: ask }] })
      url = `${gatewayUrl}/v1/responses`
      headers = { authorization: `Bearer ${raw}`, 'session-id': session }
      body = {
        model,
        input: [{ role: 'developer', content: [{ type: 'input_text', text: system }] }, ...history],
        store: false,
        prompt_cache_key: session,
        tools: [
          {
            type: 'function',
            name: 'exec_command',
            parameters: { type: 'object', properties: { cmd: { type: 'string' } } },
          },
        ],
      }
    }
    const started = performance.now()
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
    const reply = (await res.json().catch(() => null)) as Usage | null
    const ms = performance.now() - started
    if (res.status !== 200 || !reply?.usage) {
      turns.push(null)
      history.pop()
      continue
    }
    const gatewayMs = Number(/gateway;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? NaN)
    turns.push({ ...(family === 'claude' ? claudeTurn(reply.usage) : codexTurn(reply.usage)), ms, gatewayMs })
    const text =
      family === 'claude'
        ? (reply.content as Usage[]).map((b) => b.text ?? '').join('')
        : String(reply.output_text ?? '')
    history.push(
      family === 'claude'
        ? { role: 'assistant', content: [{ type: 'text', text }] }
        : { role: 'assistant', content: [{ type: 'output_text', text }] },
    )
  }
  return turns
}

// The gateway's nexusai_affinity_total counters (all runs so far).
async function affinityCounts(gatewayUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^nexusai_affinity_total\{result="(\w+)"\} (\d+)/gm))
    out[m[1]!] = Number(m[2])
  return out
}

// The ceiling: each conversation straight to the mock on one key of its own (pinned by construction).
async function runCeiling(mockUrl: string, family: Family): Promise<SessionRow> {
  const run = randomUUID().slice(0, 6)
  const model = family === 'claude' ? 'claude-sonnet-4-6' : 'gpt-5'
  const all = await Promise.all(
    Array.from({ length: CONVERSATIONS }, (_, i) =>
      conversation(
        `${mockUrl}/s/agent-ceiling-${run}`,
        `sk-ceiling-${run}-${i}`,
        family,
        model,
        async () => {},
      ),
    ),
  )
  return summarizeRun(family, 'ceiling', all, {})
}

function summarizeRun(
  family: Family,
  mode: Mode,
  all: (Turn | null)[][],
  affinity: Record<string, number>,
): SessionRow {
  const later = all.flatMap((turns) => turns.slice(1)).filter((t): t is Turn => t !== null)
  const every = all.flat().filter((t): t is Turn => t !== null)
  const prompt = later.reduce((s, t) => s + t.prompt, 0)
  const read = later.reduce((s, t) => s + t.cacheRead, 0)
  return {
    family,
    mode,
    cacheReadShare: prompt ? read / prompt : NaN,
    promptCostPerConversation: every.reduce((s, t) => s + t.costUsd, 0) / CONVERSATIONS,
    p50Ms: summarize(every.map((t) => t.ms)).p50,
    gatewayP50Ms: summarize(every.map((t) => t.gatewayMs).filter(Number.isFinite)).p50,
    errors: all.flat().filter((t) => t === null).length,
    affinity,
  }
}

async function runOne(
  gatewayUrl: string,
  admin: Admin,
  mockUrl: string,
  family: Family,
  mode: Mode,
): Promise<SessionRow> {
  const run = `${mode}${randomUUID().slice(0, 6)}`
  const { model, ids } = await providers(admin, mockUrl, family, run)
  const before = await affinityCounts(gatewayUrl)
  const key = (await admin('POST', '/api-keys', {
    name: `bench agent ${family} ${mode}`,
    allowed_models: [model],
  })) as {
    raw_key: string
  }
  // Breaker mode: half-way through, provider b starts answering 500 (its breaker opens after a few).
  let broken = false
  const beforeTurn = async (turn: number) => {
    if (mode !== 'breaker' || broken || turn < TURNS / 2) return
    broken = true
    await admin('PATCH', `/providers/${ids[1]}`, { base_url: `${mockUrl}/s/status500~agent-${run}/v1` })
  }
  const all = await Promise.all(
    Array.from({ length: CONVERSATIONS }, (_, i) =>
      conversation(gatewayUrl, key.raw_key, family, model, beforeTurn),
    ),
  )
  // The counters are written after the responses (a batch waits up to 400 ms for company).
  await new Promise((r) => setTimeout(r, 1500))
  const after = await affinityCounts(gatewayUrl)
  const affinity = Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)])
      .filter(([, v]) => Number(v) > 0),
  )
  return summarizeRun(family, mode, all, affinity)
}

// `on` and `off` are two gateways over the same stores, the second with AFFINITY_DISABLED=true.
export async function runSessions(
  gateways: { on: string; off: string },
  adminToken: string,
  mockUrl: string,
): Promise<SessionsResult> {
  const admin = adminOf(gateways.on, adminToken)
  const rows: SessionRow[] = []
  for (const family of ['claude', 'codex'] as const) {
    for (const mode of ['ceiling', 'off', 'on', 'breaker'] as const) {
      const row =
        mode === 'ceiling'
          ? await runCeiling(mockUrl, family)
          : await runOne(mode === 'off' ? gateways.off : gateways.on, admin, mockUrl, family, mode)
      rows.push(row)
      log(
        `  ${family} ${mode.padEnd(7)} cache-read share ${pct(row.cacheReadShare)}, prompt cost $${fmt(row.promptCostPerConversation, 4)}/conversation, p50 ${fmt(row.p50Ms)} ms (gateway ${fmt(row.gatewayP50Ms)} ms) ${JSON.stringify(row.affinity)}${row.errors ? `, ${row.errors} failed turns` : ''}`,
      )
    }
  }
  return { conversations: CONVERSATIONS, turns: TURNS, rows }
}

const MODE_NAMES: Record<Mode, string> = {
  ceiling: 'no gateway: one key per conversation (the ceiling)',
  off: 'affinity off',
  on: 'affinity on',
  breaker: 'affinity on, a breaker opens at turn 11',
}

export function sessionsSections(r: SessionsResult): { text: string; markdown: string } {
  const header = [
    'agents',
    'routing',
    'cache-read share (turns 2-20)',
    'prompt cost / conversation',
    'cost vs affinity off',
    'p50',
    'gateway p50',
    'turns: hit / new / moved',
    'failed turns',
  ]
  const rows = r.rows.map((row) => {
    const off = r.rows.find((x) => x.family === row.family && x.mode === 'off')
    return [
      row.family === 'claude' ? 'Claude Code (2 Anthropic × 3 keys)' : 'Codex (2 OpenAI × 3 keys)',
      MODE_NAMES[row.mode],
      pct(row.cacheReadShare),
      `$${fmt(row.promptCostPerConversation, 4)}`,
      off ? `${fmt(row.promptCostPerConversation / off.promptCostPerConversation, 2)}×` : '—',
      `${fmt(row.p50Ms)} ms`,
      Number.isFinite(row.gatewayP50Ms) ? `${fmt(row.gatewayP50Ms)} ms` : '—',
      row.mode === 'on' || row.mode === 'breaker'
        ? `${row.affinity.hit ?? 0} / ${row.affinity.new ?? 0} / ${row.affinity.moved ?? 0}`
        : '—',
      String(row.errors),
    ]
  })
  const title = `Agent sessions (${r.conversations} concurrent conversations × ${r.turns} turns, weighted routing; claude-sonnet-4-6 at its seeded price, the Codex model at gpt-5's list price)`
  return {
    text: `${title}\n${table(header, rows)}\n`,
    markdown: `## Agent sessions\n\n${title}.\n\n${markdownTable(header, rows)}\n`,
  }
}
