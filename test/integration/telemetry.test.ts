import { describe, expect, it } from 'vitest'
import { droppedSpanCount, exportSpans, telemetryConfig } from '../../src/telemetry/exporter'
import { SpanKind, StatusCode, type Span } from '../../src/telemetry/otlp'
import { adminKey } from '../helpers/admin'
import { createModel, createProvider } from '../helpers/fixtures'
import { gatewayWith, keyedPost, mockRequests, mockUrl, uid } from '../helpers/gateway'

const span = (name: string): Span => ({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: null,
  name,
  kind: SpanKind.SERVER,
  startMs: 1_700_000_000_000,
  endMs: 1_700_000_000_001,
  attributes: { 'gen_ai.operation.name': 'chat' },
  status: { code: StatusCode.UNSET },
})

const configFor = (scenario: string) =>
  telemetryConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: `${mockUrl()}/s/${scenario}`,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=team%20key,x-scope-orgid=tenant-1',
  })!

describe('the OTLP exporter against a local receiver', () => {
  it('posts all spans of a batch in one OTLP/HTTP JSON request with the configured headers', async () => {
    const scenario = `otel~${uid()}`
    expect(await exportSpans(configFor(scenario), [span('a'), span('b')])).toBe('sent')
    const received = await mockRequests(scenario)
    expect(received).toHaveLength(1)
    expect(received[0]!.path).toContain('/v1/traces')
    expect(received[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-honeycomb-team': 'team key',
      'x-scope-orgid': 'tenant-1',
    })
    expect(received[0]!.body.resourceSpans[0].scopeSpans[0].spans.map((s: any) => s.name)).toEqual(['a', 'b'])
  })

  it('retries a failed export once', async () => {
    const scenario = `otel+fail1x503~${uid()}`
    expect(await exportSpans(configFor(scenario), [span('a')])).toBe('sent')
    expect(await mockRequests(scenario)).toHaveLength(2)
  })

  it('drops and counts spans when the retry fails too, without throwing', async () => {
    const scenario = `otel+status500~${uid()}`
    const before = droppedSpanCount()
    expect(await exportSpans(configFor(scenario), [span('a'), span('b'), span('c')])).toBe('dropped')
    expect(await mockRequests(scenario)).toHaveLength(2)
    expect(droppedSpanCount() - before).toBe(3)
  })

  it('does not retry what the receiver refuses for good (400), and survives an endpoint that is down', async () => {
    const scenario = `otel+status400~${uid()}`
    expect(await exportSpans(configFor(scenario), [span('a')])).toBe('dropped')
    expect(await mockRequests(scenario)).toHaveLength(1)
    const down = telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })!
    expect(await exportSpans(down, [span('a')])).toBe('dropped')
  })
})

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c'
const CLIENT_SPAN = 'b7ad6b7169203331'
const attrs = (span: any): Record<string, any> =>
  Object.fromEntries(span.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]))
const spansOf = (exported: any): any[] => exported.body.resourceSpans[0].scopeSpans[0].spans

async function tracedModel() {
  const down = await createProvider({ scenario: `status503~${uid()}` })
  const up = await createProvider({ scenario: `ok+cached2~${uid()}` })
  const model = await createModel([down.id, up.id], { input: '1', output: '2' })
  const project = `otel-${uid()}`
  const key = await adminKey({ project_id: project, allowed_models: [model] })
  return { down, up, model, project, key }
}

const ask = (raw: string, model: string, headers: Record<string, string> = {}) =>
  keyedPost(raw, { model, messages: [{ role: 'user', content: 'the secret prompt' }] }, headers)

describe('GenAI traces from the gateway', () => {
  it('exports a SERVER span continuing the client trace and one CLIENT span per attempt, a fallback as siblings', async () => {
    const { down, up, model, project, key } = await tracedModel()
    const receiver = `otel~${uid()}`
    const { res } = await gatewayWith(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `${mockUrl()}/s/${receiver}` },
      '/v1/chat/completions',
      ask(key.raw_key, model, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` }),
    )
    expect(res.status).toBe(200)
    const exports = await mockRequests(receiver)
    expect(exports).toHaveLength(1)
    const spans = spansOf(exports[0])
    const server = spans.find((s) => s.kind === 2)
    const clients = spans.filter((s) => s.kind === 3)
    expect(server).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: CLIENT_SPAN, name: `chat ${model}` })
    expect(clients).toHaveLength(2)
    for (const c of clients) expect(c).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: server.spanId })
    expect(attrs(clients[0])).toMatchObject({ 'nexusai.provider': down.name, 'error.type': '503' })
    expect(attrs(clients[1])).toMatchObject({ 'nexusai.provider': up.name, 'gen_ai.provider.name': 'openai' })
    expect(attrs(clients[1])['error.type']).toBeUndefined()
    const a = attrs(server)
    expect(a).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.stream': false,
      'nexusai.request.model': model,
      'nexusai.api_key_id': key.id,
      'nexusai.project_id': project,
      'nexusai.provider': up.name,
      'gen_ai.usage.cache_read.input_tokens': '2',
      'http.response.status_code': '200',
    })
    // Input counts every prompt token, the cached ones included.
    expect(Number(a['gen_ai.usage.input_tokens'])).toBeGreaterThanOrEqual(2)
    expect(Number(a['gen_ai.usage.output_tokens'])).toBeGreaterThan(0)
    expect(a['gen_ai.response.finish_reasons'].values.map((v: any) => v.stringValue)).toEqual(['stop'])
    expect(a['nexusai.cost_usd']).toBeGreaterThan(0)
    expect(JSON.stringify(exports[0]!.body)).not.toContain('the secret prompt')
    expect(JSON.stringify(exports[0]!.body)).not.toContain(key.raw_key)
  })

  it('sends the prompt and completion only with OTEL_CAPTURE_CONTENT=true', async () => {
    const { model, key } = await tracedModel()
    const receiver = `otel~${uid()}`
    await gatewayWith(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `${mockUrl()}/s/${receiver}`, OTEL_CAPTURE_CONTENT: 'true' },
      '/v1/chat/completions',
      ask(key.raw_key, model),
    )
    const server = spansOf((await mockRequests(receiver))[0]).find((s) => s.kind === 2)
    expect(attrs(server)['gen_ai.input.messages']).toContain('the secret prompt')
    expect(attrs(server)['gen_ai.output.messages']).toContain('assistant')
    // No traceparent: a new trace, no parent.
    expect(server.parentSpanId).toBeUndefined()
  })

  it('sends the spans of requests that finish together in one export, and nothing for a client trace that is not sampled', async () => {
    const { model, key } = await tracedModel()
    const receiver = `otel~${uid()}`
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `${mockUrl()}/s/${receiver}` }
    const n = 8
    await Promise.all(
      Array.from({ length: n }, () => gatewayWith(env, '/v1/chat/completions', ask(key.raw_key, model))),
    )
    // Requests finishing within a batch window share one export (how many windows they span depends on
    // the machine's timing): every span arrives, in fewer POSTs than requests.
    const exports = await mockRequests(receiver)
    expect(exports.length).toBeLessThan(n)
    const servers = exports.flatMap((e) => spansOf(e).filter((s) => s.kind === 2))
    expect(servers).toHaveLength(n)
    await gatewayWith(
      env,
      '/v1/chat/completions',
      ask(key.raw_key, model, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` }),
    )
    expect(await mockRequests(receiver)).toHaveLength(exports.length)
  })

  it('answers normally when the collector is down', async () => {
    const { model, key } = await tracedModel()
    const { res } = await gatewayWith(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      '/v1/chat/completions',
      ask(key.raw_key, model),
    )
    expect(res.status).toBe(200)
  })
})
