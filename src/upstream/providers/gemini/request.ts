import type { Target } from '../../targets'
import { RequestRejected } from '../types'

type Json = Record<string, unknown>
type Part = Json
type Content = { role: 'user' | 'model'; parts: Part[] }

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,(.*)$/s
// Google's documented value for a function-call turn that Gemini did not produce (no signature to echo).
const SKIP_SIGNATURE = 'skip_thought_signature_validator'
const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
}
const LEVEL: Record<string, string> = {
  none: 'MINIMAL',
  minimal: 'MINIMAL',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  xhigh: 'XHIGH',
  max: 'XHIGH',
}
const BUDGET: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576 }

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content.map((p: Json) => (typeof p?.text === 'string' ? p.text : '')).join('')
}

function userParts(content: unknown, i: number): Part[] {
  if (typeof content === 'string') return content ? [{ text: content }] : []
  if (!Array.isArray(content)) return []
  return content.map((part: Json, j) => {
    const param = `messages[${i}].content[${j}]`
    if (part?.type === 'text' && typeof part.text === 'string') return { text: part.text }
    const url =
      part?.type === 'image_url'
        ? (part.image_url as Json | undefined)?.url
        : part?.type === 'file'
          ? (part.file as Json | undefined)?.file_data
          : undefined
    if (typeof url !== 'string')
      throw new RequestRejected(
        `Content part type '${String(part?.type)}' is not supported by this model.`,
        param,
      )
    const data = DATA_URL.exec(url)
    if (data) return { inlineData: { mimeType: data[1]!.toLowerCase(), data: data[3] } }
    if (!/^https:\/\//i.test(url))
      throw new RequestRejected('A URL must be https:// or a base64 data URL.', param)
    const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? ''
    return { fileData: { fileUri: url, mimeType: MIME_BY_EXTENSION[extension] ?? 'image/jpeg' } }
  })
}

// OpenAI messages → Gemini `systemInstruction` + alternating `contents` (docs/providers.md §2.2, §2.3). Tool
// results name their function (looked up from the call's id) and answer the preceding call turn in one
// user content; function-call turns carry their thought signature back, or the documented skip value.
function contentsOf(messages: Json[]) {
  const system: Part[] = []
  const contents: Content[] = []
  const names = new Map<string, string>()
  const push = (role: Content['role'], parts: Part[]) => {
    if (parts.length === 0) return
    const last = contents.at(-1)
    if (last?.role === role) last.parts.push(...parts)
    else contents.push({ role, parts })
  }
  messages.forEach((m, i) => {
    if (m.role === 'system' || m.role === 'developer') {
      const text = textOf(m.content)
      if (text) system.push({ text })
    } else if (m.role === 'user') push('user', userParts(m.content, i))
    else if (m.role === 'assistant') {
      const parts: Part[] = []
      const text = textOf(m.content)
      if (text) parts.push({ text })
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : []
      calls.forEach((call: Json, k) => {
        const fn = (call?.function ?? {}) as Json
        let args: unknown = {}
        try {
          args = typeof fn.arguments === 'string' && fn.arguments.trim() ? JSON.parse(fn.arguments) : {}
        } catch {
          throw new RequestRejected(
            'Tool call arguments must be valid JSON.',
            `messages[${i}].tool_calls[${k}].function.arguments`,
          )
        }
        names.set(String(call?.id), String(fn.name ?? ''))
        const google = ((call?.extra_content as Json | undefined)?.google ?? {}) as Json
        const signature =
          typeof google.thought_signature === 'string'
            ? google.thought_signature
            : k === 0
              ? SKIP_SIGNATURE
              : null
        parts.push({
          functionCall: { name: fn.name, args },
          ...(signature ? { thoughtSignature: signature } : {}),
        })
      })
      push('model', parts)
    } else if (m.role === 'tool') {
      const text = textOf(m.content)
      let response: unknown
      try {
        response = JSON.parse(text)
      } catch {
        response = null
      }
      if (!response || typeof response !== 'object' || Array.isArray(response)) response = { output: text }
      const name = names.get(String(m.tool_call_id))
      if (name === undefined)
        throw new RequestRejected(
          'A tool message must answer a tool call of an earlier assistant message.',
          `messages[${i}].tool_call_id`,
        )
      push('user', [{ functionResponse: { name, response } }])
    } else throw new RequestRejected(`Role '${String(m.role)}' is not supported.`, `messages[${i}].role`)
  })
  if (contents.length === 0) throw new RequestRejected('At least one user message is required.', 'messages')
  return { system, contents }
}

function toolConfigOf(choice: unknown): Json | undefined {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } }
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } }
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } }
  const name = ((choice as Json | undefined)?.function as Json | undefined)?.name
  if (typeof name === 'string')
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } }
  return undefined
}

export function geminiBody(target: Target, body: Json): Json {
  const { system, contents } = contentsOf(body.messages as Json[])
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : []
  const declarations = tools.map((t, i) => {
    const fn = t?.function as Json | undefined
    if (t?.type !== 'function' || !fn)
      throw new RequestRejected('Only function tools are supported.', `tools[${i}]`, 'unsupported_parameter')
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      ...(fn.parameters ? { parametersJsonSchema: fn.parameters } : {}),
    }
  })
  const format = body.response_format as Json | undefined
  const schema = (format?.json_schema as Json | undefined)?.schema
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : undefined
  const effort = body.reasoning_effort
  const thinking =
    typeof effort !== 'string'
      ? undefined
      : target.capabilities.thinking === 'budget'
        ? { thinkingBudget: BUDGET[effort] ?? 24576 }
        : { thinkingLevel: LEVEL[effort] ?? 'HIGH' }
  const config: Json = {
    temperature: body.temperature,
    topP: body.top_p,
    maxOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? target.capabilities.default_max_tokens,
    stopSequences: stop,
    candidateCount: typeof body.n === 'number' && body.n > 1 ? body.n : undefined,
    seed: body.seed,
    presencePenalty: body.presence_penalty,
    frequencyPenalty: body.frequency_penalty,
    responseMimeType:
      format?.type === 'json_object' || format?.type === 'json_schema' ? 'application/json' : undefined,
    responseJsonSchema: format?.type === 'json_schema' ? schema : undefined,
    thinkingConfig: thinking,
  }
  for (const k of Object.keys(config)) if (config[k] === undefined || config[k] === null) delete config[k]
  const toolConfig = declarations.length ? toolConfigOf(body.tool_choice) : undefined
  return {
    ...(system.length ? { systemInstruction: { parts: system } } : {}),
    contents,
    ...(declarations.length ? { tools: [{ functionDeclarations: declarations }] } : {}),
    ...(toolConfig ? { toolConfig } : {}),
    ...(Object.keys(config).length ? { generationConfig: config } : {}),
  }
}
