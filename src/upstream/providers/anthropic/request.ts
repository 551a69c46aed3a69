import type { Target } from '../../targets'
import { DEFAULT_MAX_TOKENS, type Capabilities } from '../capabilities'
import { RequestRejected } from '../types'
import { messagesOf } from './messages'

type Json = Record<string, unknown>

const THINKING_BUDGET: Record<string, number> = { minimal: 1024, low: 1024, medium: 4096, high: 16384 }
const JSON_ONLY = 'Respond with a single valid JSON object and nothing else.'
// OpenAI fields with no Anthropic counterpart that change nothing essential: dropped.
const AUDIO = (body: Json) =>
  body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))

function toolsOf(tools: unknown): Json[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined
  return tools.map((tool: Json, i) => {
    const fn = tool?.function as Json | undefined
    if (tool?.type !== 'function' || !fn || typeof fn.name !== 'string')
      throw new RequestRejected(
        `Only function tools are supported by this model.`,
        `tools[${i}]`,
        'unsupported_parameter',
      )
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      // Passed whole: Anthropic takes JSON Schema as is (additionalProperties, $defs, anyOf…).
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
      ...(typeof fn.strict === 'boolean' ? { strict: fn.strict } : {}),
    }
  })
}

function toolChoiceOf(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined
  if (choice === 'auto') out = { type: 'auto' }
  else if (choice === 'required') out = { type: 'any' }
  else if (choice === 'none') out = { type: 'none' }
  else if (choice && typeof choice === 'object') {
    const name = ((choice as Json).function as Json | undefined)?.name
    if (typeof name === 'string') out = { type: 'tool', name }
  }
  if (parallel === false && out?.type !== 'none')
    out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true }
  return out
}

function samplingOf(body: Json, caps: Capabilities, version: string): Json {
  if (caps.sampling === false || version !== '2023-06-01') return {}
  // Anthropic's range is [0, 1]; several models refuse temperature and top_p together.
  if (typeof body.temperature === 'number') return { temperature: Math.min(body.temperature, 1) }
  const out: Json = {}
  if (typeof body.top_p === 'number') out.top_p = body.top_p
  if (typeof body.top_k === 'number') out.top_k = body.top_k
  return out
}

function thinkingOf(effort: unknown, caps: Capabilities, maxTokens: number): Json {
  const mode = caps.thinking ?? 'none'
  if (mode === 'none') return {}
  if (typeof effort !== 'string' || effort === 'none')
    return mode === 'always' ? {} : { thinking: { type: 'disabled' } }
  const level = effort === 'minimal' ? 'low' : effort
  if (mode === 'budget') {
    const budget = Math.min(THINKING_BUDGET[effort] ?? 16384, maxTokens - 1)
    if (budget < 1024) return { thinking: { type: 'disabled' } }
    return { thinking: { type: 'enabled', budget_tokens: budget } }
  }
  return { thinking: { type: 'adaptive' }, output_config: { effort: level } }
}

// OpenAI chat request → Anthropic Messages request (docs/providers.md §1.2).
export function anthropicBody(target: Target, body: Json, stream: boolean): Json {
  const caps = target.capabilities
  const version = caps.anthropic_version ?? '2023-06-01'
  if (typeof body.n === 'number' && body.n > 1)
    throw new RequestRejected(
      'This model returns one choice per request; n must be 1.',
      'n',
      'unsupported_parameter',
    )
  if (AUDIO(body))
    throw new RequestRejected(
      'Audio output is not supported by this model.',
      'modalities',
      'unsupported_parameter',
    )
  const { system, messages } = messagesOf(body.messages as Json[], caps)
  const format = body.response_format as Json | undefined
  if (format?.type === 'json_object') system.push({ type: 'text', text: JSON_ONLY })
  const maxTokens = Number(
    body.max_completion_tokens ??
      body.max_tokens ??
      caps.default_max_tokens ??
      Math.min(target.maxOutputTokens ?? DEFAULT_MAX_TOKENS, DEFAULT_MAX_TOKENS),
  )
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop : []
  const stopSequences = stop.filter((s): s is string => typeof s === 'string' && s.trim() !== '')
  const schema = (format?.json_schema as Json | undefined)?.schema
  const thinking = thinkingOf(body.reasoning_effort, caps, maxTokens)
  const tools = toolsOf(body.tools)
  const toolChoice = tools ? toolChoiceOf(body.tool_choice, body.parallel_tool_calls) : undefined
  const user = body.user ?? body.safety_identifier
  return {
    model: target.upstreamModel,
    max_tokens: maxTokens,
    ...(system.length ? { system } : {}),
    messages,
    ...samplingOf(body, caps, version),
    ...(stopSequences.length ? { stop_sequences: stopSequences } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...thinking,
    ...(format?.type === 'json_schema' && schema
      ? {
          output_config: {
            ...(thinking.output_config as Json | undefined),
            format: { type: 'json_schema', schema },
          },
        }
      : {}),
    ...(typeof user === 'string' ? { metadata: { user_id: user } } : {}),
    ...(stream ? { stream: true } : {}),
  }
}

export function anthropicVersion(caps: Capabilities): string {
  return caps.anthropic_version ?? '2023-06-01'
}
