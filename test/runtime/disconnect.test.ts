import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type RuntimeStack } from './workerd-stack'

let rt: RuntimeStack
beforeAll(async () => {
  rt = await startRuntime({ ALLOW_PRIVATE_UPSTREAMS: 'true' })
})
afterAll(async () => {
  await rt?.close()
})

const uid = () => crypto.randomUUID().slice(0, 8)

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

// A provider on the mock with the given scenario, a model routed to it, and a key with an RPM limit, a TPM
// limit and a daily budget that each admit one request of this size at a time (max_tokens 500 at
// $1000 per 1M tokens ≈ $0.51 and ≈ 510 tokens).
async function route(scenario: string) {
  const provider = await rt.admin('POST', '/providers', {
    name: `rt-${uid()}`,
    base_url: `${rt.stack.mock.url}/s/${scenario}/v1`,
    max_retries: 0,
  })
  const model = `m-${uid()}`
  await rt.admin('POST', '/model-mappings', { model, provider_id: provider.body.id })
  await rt.admin('PUT', `/prices/${model}`, { input_per_million: 1000, output_per_million: 1000 })
  return model
}

async function key(models: string[]) {
  const created = await rt.admin('POST', '/api-keys', {
    name: `k-${uid()}`,
    allowed_models: models,
    rpm_limit: 100,
    tpm_limit: 800,
    daily_budget: 0.8,
  })
  expect(created.status).toBe(201)
  return created.body as { id: string; raw_key: string }
}

function chat(model: string) {
  return JSON.stringify({ model, max_tokens: 500, messages: [{ role: 'user', content: 'hi' }] })
}

describe('a client that disconnects before the response head (bare workerd, production bundle)', () => {
  it('still gets its usage row (499), its log line and metric, and its budget and TPM holds are released', async () => {
    const hanging = await route(`delay60000~${uid()}`)
    const ok = await route(`ok~${uid()}`)
    const k = await key([hanging, ok])

    const pending = fetch(`${rt.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${k.raw_key}`,
        'content-type': 'application/json',
        'x-disconnect-id': 'first',
      },
      body: chat(hanging),
    })
    await until('the upstream call', async () =>
      rt.stack.mock.requests.some((r) => JSON.stringify(r.body).includes(hanging)) ? true : undefined,
    )
    expect((await fetch(`${rt.url}/__disconnect?id=first`)).status).toBe(204)
    expect((await pending).status).toBe(499) // from the front: the gateway never answered

    const row = await until('the usage row', async () => {
      const logs = await rt.admin('GET', `/usage/logs?api_key_id=${k.id}`)
      return logs.body.data?.[0]
    })
    expect(row).toMatchObject({ status: 499, error_code: 'client_disconnected' })

    // The hold is released: a request that only fits once the first one's reservation is gone passes.
    const next = await fetch(`${rt.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k.raw_key}`, 'content-type': 'application/json' },
      body: chat(ok),
    })
    expect(next.status).toBe(200)

    expect(rt.log()).toMatch(/"status":499/)
    const metrics = await (await fetch(`${rt.url}/metrics`)).text()
    expect(metrics).toMatch(/nexusai_requests_total\{[^}]*status="499"[^}]*\} 1/)
  })
})

describe('a request body cut short (bare workerd, production bundle)', () => {
  it('is a 400 with its usage row, not a 500', async () => {
    const model = await route(`ok~${uid()}`)
    const k = await key([model])
    const body = chat(model)
    // Announces the whole body, sends half of it, then ends its side of the connection.
    const socket = net.connect(Number(new URL(rt.url).port), '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    let answer = ''
    socket.on('data', (d) => (answer += d.toString()))
    const closed = new Promise((r) => socket.once('close', r))
    socket.end(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${k.raw_key}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n` +
        body.slice(0, body.length / 2),
    )
    await closed
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    const row = await until('the usage row', async () => {
      const logs = await rt.admin('GET', `/usage/logs?api_key_id=${k.id}`)
      return logs.body.data?.[0]
    })
    expect(row).toMatchObject({ status: 400 })
  })
})
