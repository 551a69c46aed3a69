import { describe, expect, it } from 'vitest'
import { eventually, gateway, keyedPost, mockRequests } from '../helpers/gateway'
import { setup } from '../helpers/fixtures'
import { parsePrometheus } from '../helpers/prometheus'

// The shape of what Claude Code 2.1.332 sends for `claude -p "say hi"` (docs/providers.md §3.1), trimmed.
const claudeCodeBody = (model: string) => ({
  model,
  max_tokens: 128000,
  stream: true,
  thinking: { type: 'adaptive', display: 'omitted' },
  context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
  output_config: { effort: 'medium' },
  metadata: {
    user_id: JSON.stringify({ device_id: 'f'.repeat(64), account_uuid: '', session_id: crypto.randomUUID() }),
  },
  system: [
    { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.332.0b8; cc_entrypoint=sdk-cli;' },
    { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'Be concise.', cache_control: { type: 'ephemeral' } },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: '<system-reminder>context</system-reminder>' },
        { type: 'text', text: 'say hi', cache_control: { type: 'ephemeral' } },
      ],
    },
    {
      role: 'system',
      content: [{ type: 'text', text: 'Today is Sunday.', cache_control: { type: 'ephemeral' } }],
    },
  ],
  tools: [
    {
      name: 'Bash',
      description: 'Run a command',
      input_schema: { type: 'object', properties: { command: { type: 'string' } } },
    },
    {
      name: 'DeferredToolPlaceholder',
      description: 'later',
      input_schema: { type: 'object' },
      defer_loading: true,
    },
  ],
})

describe('Claude Code through /v1/messages to an OpenAI target', () => {
  it('translates its request: system first and the trailing system message last, deferred tools and cache_control dropped, effort kept, usage asked for', async () => {
    const { model, key, provider } = await setup()
    const res = await gateway(
      '/v1/messages?beta=true',
      keyedPost('', claudeCodeBody(model), {
        authorization: '',
        'x-api-key': key.raw,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
      }),
    )
    expect(res.status).toBe(200)
    const text = await res.text()
    // Every event has its `event:` line, and the stream ends with message_stop.
    const blocks = text.trim().split('\n\n')
    expect(blocks.every((b) => /^event: [a-z_]+\ndata: \{/.test(b))).toBe(true)
    expect(blocks.at(-1)).toContain('event: message_stop')
    const [seen] = await mockRequests(provider.scenario)
    expect(seen!.body).toMatchObject({
      model: `up-${model}`,
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: 'medium',
      max_completion_tokens: 16_384,
      messages: [
        { role: 'system', content: 'You are Claude Code.\n\nBe concise.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>context</system-reminder>' },
            { type: 'text', text: 'say hi' },
          ],
        },
        { role: 'system', content: 'Today is Sunday.' },
      ],
    })
    expect(seen!.body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['Bash'])
    expect(JSON.stringify(seen!.body)).not.toContain('cache_control')
    expect(JSON.stringify(seen!.body)).not.toContain('context_management')
    expect(seen!.body.user).toBeUndefined()

    const families = await eventually(async () => {
      const families = parsePrometheus(await (await gateway('/metrics')).text())
      const sample = families
        .get('nexusai_requests_total')
        ?.samples.find((s) => s.labels.model === model && s.labels.route === 'messages')
      expect(sample?.value).toBe(1)
      return families
    })
    expect(families.size).toBeGreaterThan(0)
  })
})
