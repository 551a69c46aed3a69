// Scenario part `toolcalls`: the chat mock answers a request that offers tools with text and two parallel
// function calls (the first two tools offered). Streamed, the arguments of the two calls interleave, as
// some OpenAI-compatible servers do. Usage: prompt 920 (900 of them cached), completion 42.
import { randomBytes } from 'node:crypto'
import { isObject, requestId, type Json } from './http.ts'
import type { Call } from './call.ts'
import { respondJson } from './openai.ts'

const TOOL_USAGE = {
  prompt_tokens: 920,
  completion_tokens: 42,
  total_tokens: 962,
  prompt_tokens_details: { cached_tokens: 900 },
}

function toolNames(body: Json): string[] {
  const tools = Array.isArray(body.tools) ? body.tools : []
  return tools
    .map((t) => (isObject(t) && isObject(t.function) ? String(t.function.name) : 'unknown'))
    .slice(0, 2)
}

const ARGS = ['{"city":"Oslo"}', '{"city":"Bergen","days":2}']

export function wantsToolCalls(call: Call): boolean {
  return call.sc.parts.includes('toolcalls') && isObject(call.body) && Array.isArray(call.body.tools)
}

export function toolCallReply(call: Call, body: Json) {
  const names = toolNames(body)
  const id = `chatcmpl-${randomBytes(8).toString('hex')}`
  const created = Math.floor(Date.now() / 1000)
  const calls = names.map((name, i) => ({
    id: i === 0 ? 'call_a' : 'functions.lookup:1',
    name,
    args: ARGS[i]!,
  }))
  if (body.stream !== true) {
    return respondJson(call, {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            refusal: null,
            tool_calls: calls.map((c) => ({
              id: c.id,
              type: 'function',
              function: { name: c.name, arguments: c.args },
            })),
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: TOOL_USAGE,
    })
  }
  const { res } = call
  const send = (choices: unknown[], usage: unknown = null) =>
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, usage })}\n\n`,
    )
  const delta = (d: Json, finish: string | null = null) => [{ index: 0, delta: d, finish_reason: finish }]
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': requestId() })
  send(delta({ role: 'assistant', content: '' }))
  send(delta({ content: 'Checking.' }))
  calls.forEach((c, i) =>
    send(
      delta({
        tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }],
      }),
    ),
  )
  // Halves of each call's arguments, interleaved: 0a 1a 0b 1b.
  for (const half of [0, 1])
    calls.forEach((c, i) => {
      const mid = Math.floor(c.args.length / 2)
      const part = half === 0 ? c.args.slice(0, mid) : c.args.slice(mid)
      send(delta({ tool_calls: [{ index: i, function: { arguments: part } }] }))
    })
  send(delta({}, 'tool_calls'))
  send([], TOOL_USAGE)
  res.end('data: [DONE]\n\n')
}
