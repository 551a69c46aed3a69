import { describe, expect, it } from 'vitest'
import { eventually, gateway, mockAborts, sdk } from '../helpers/gateway'
import { setup, usageRows } from '../helpers/fixtures'

const chatBody = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'Stream please' }], stream: true, ...extra })

async function readEvents(res: Response): Promise<string[]> {
  const text = await res.text()
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6))
}

describe('streaming chat completions', () => {
  it('relays every content chunk to the SDK and hides the usage chunk when the client did not ask for it', async () => {
    const { model, key } = await setup()
    const stream = await sdk(key.raw).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    expect(content).toBe('Hello from mock upstream.')
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true)
    const row = (
      await eventually(async () => {
        const rows = await usageRows(key.id)
        expect(rows).toHaveLength(1)
        return rows
      })
    )[0]!
    expect(row).toMatchObject({ stream: true, status: 200, tokensEstimated: false })
    expect(row.completionTokens).toBe(5)
  })

  it('passes the usage chunk through when the client asked for include_usage', async () => {
    const { model, key } = await setup()
    const stream = await sdk(key.raw).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const last = chunks.at(-1)!
    expect(last.choices).toHaveLength(0)
    expect(last.usage?.completion_tokens).toBe(5)
  })

  it('delivers the first chunk while the upstream is still sending', async () => {
    const { model, key } = await setup({ scenario: `gap300+chunks4~${crypto.randomUUID()}` })
    const res = await gateway('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
      body: chatBody(model),
    })
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = res.body!.getReader()
    const started = Date.now()
    const first = await reader.read()
    const firstAt = Date.now() - started
    expect(new TextDecoder().decode(first.value)).toContain('chat.completion.chunk')
    let rest = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value)
    }
    const totalAt = Date.now() - started
    // Four gaps of 300 ms follow the first chunk: the first chunk cannot have waited for them.
    expect(totalAt - firstAt).toBeGreaterThan(600)
    expect(rest).toContain('[DONE]')
  })

  it('ends a stream that breaks mid-way with one OpenAI-shaped error event and records the failure', async () => {
    const { model, key } = await setup({ scenario: `cut2~${crypto.randomUUID()}` })
    const res = await gateway('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
      body: chatBody(model),
    })
    expect(res.status).toBe(200)
    const events = await readEvents(res)
    const last = JSON.parse(events.at(-1)!)
    expect(last.error).toMatchObject({ type: 'server_error', code: 'upstream_error' })
    expect(events.filter((e) => e.includes('"error"'))).toHaveLength(1)
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect(rows[0]).toMatchObject({ status: 502, errorCode: 'upstream_stream_broken', tokensEstimated: true })
  })

  it('falls back to the next provider when the first fails before any byte was sent', async () => {
    const { createProvider, createModel, createKey } = await import('../helpers/fixtures')
    const broken = await createProvider({ scenario: `status500~${crypto.randomUUID()}` })
    const healthy = await createProvider()
    const model = await createModel([broken.id, healthy.id])
    const key = await createKey({ models: [model] })
    const stream = await sdk(key.raw).chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    })
    let content = ''
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? ''
    expect(content).toBe('Hello from mock upstream.')
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect(rows[0]).toMatchObject({ provider: healthy.name, attempts: 2, status: 200 })
  })

  it('cancels the upstream at once when the client goes away mid-stream', async () => {
    const scenario = `gap200+chunks20~${crypto.randomUUID()}`
    const { model, key } = await setup({ scenario })
    const controller = new AbortController()
    const res = await gateway('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw}`, 'content-type': 'application/json' },
      body: chatBody(model),
      signal: controller.signal,
    })
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel()
    controller.abort()
    await eventually(async () => expect(await mockAborts(scenario)).toBe(1))
    const rows = await eventually(async () => {
      const rows = await usageRows(key.id)
      expect(rows).toHaveLength(1)
      return rows
    })
    expect(rows[0]).toMatchObject({ status: 499, errorCode: 'client_disconnected' })
  })
})
