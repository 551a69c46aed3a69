import { describe, expect, it } from 'vitest'
import { parseOtlpHeaders, telemetryConfig } from '../../src/telemetry/exporter'
import { encodeSpans, SpanKind, StatusCode } from '../../src/telemetry/otlp'
import { requestSpans, type RequestTrace } from '../../src/telemetry/spans'
import { traceContext } from '../../src/telemetry/traceparent'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'

describe('traceparent', () => {
  it.each([
    [`00-${TRACE}-${PARENT}-01`, { traceId: TRACE, parentSpanId: PARENT, sampled: true }],
    [`00-${TRACE}-${PARENT}-00`, { traceId: TRACE, parentSpanId: PARENT, sampled: false }],
    [` 00-${TRACE.toUpperCase()}-${PARENT}-01 `, { traceId: TRACE, parentSpanId: PARENT, sampled: true }],
    [`01-${TRACE}-${PARENT}-01-future`, { traceId: TRACE, parentSpanId: PARENT, sampled: true }],
  ])('continues %s', (header, want) => {
    expect(traceContext(header)).toEqual(want)
  })

  it.each([
    null,
    '',
    `ff-${TRACE}-${PARENT}-01`,
    `00-${'0'.repeat(32)}-${PARENT}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE}-${PARENT}-01-extra`,
    `00-${TRACE.slice(1)}-${PARENT}-01`,
  ])('starts a new sampled trace for %j', (header) => {
    const ctx = traceContext(header)
    expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(ctx.traceId).not.toBe(TRACE)
    expect(ctx).toMatchObject({ parentSpanId: null, sampled: true })
  })
})

describe('OTEL_EXPORTER_OTLP_HEADERS and the endpoint', () => {
  it('parses comma-separated, URL-encoded pairs and skips malformed ones', () => {
    expect(
      parseOtlpHeaders('x-honeycomb-team=abc123,Authorization=Basic%20dXNlcjpwYXNz, bad, =x,a b=c'),
    ).toEqual({ 'x-honeycomb-team': 'abc123', Authorization: 'Basic dXNlcjpwYXNz' })
  })

  it('appends /v1/traces to the endpoint and is off without one', () => {
    expect(telemetryConfig({})).toBeNull()
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example/otlp/' })).toMatchObject({
      tracesUrl: 'https://otlp.example/otlp/v1/traces',
      captureContent: false,
      resource: { 'service.name': 'nexusai' },
    })
  })
})

const trace = (over: Partial<RequestTrace> = {}): RequestTrace => ({
  context: { traceId: TRACE, parentSpanId: PARENT, sampled: true },
  route: 'messages',
  publicModel: 'claude-sonnet',
  stream: true,
  status: 200,
  errorCode: null,
  startedAt: 1_700_000_000_000,
  endedAt: 1_700_000_000_250.5,
  apiKeyId: 'k-1',
  projectId: 'p-1',
  responseModel: 'claude-sonnet-4-5-20250929',
  finishReasons: ['end_turn'],
  inputTokens: 10 + 300 + 40, // Anthropic: input + cache read + cache write
  outputTokens: 20,
  cacheReadTokens: 300,
  cacheWriteTokens: 40,
  reasoningTokens: 5,
  costUsd: '0.001234500000',
  chargeUsd: '0.002469000000',
  attempts: [
    {
      provider: 'openai-main',
      providerType: 'openai',
      upstreamModel: 'gpt-4o',
      startedAt: 1_700_000_000_010,
      endedAt: 1_700_000_000_020,
      status: 503,
      errorType: 'status_503',
    },
    {
      provider: 'anthropic-main',
      providerType: 'anthropic',
      upstreamModel: 'claude-sonnet-4-5',
      startedAt: 1_700_000_000_021,
      endedAt: 1_700_000_000_249,
      status: 200,
      errorType: null,
    },
  ],
  ...over,
})

describe('GenAI spans', () => {
  it('makes one SERVER span continuing the client trace and one CLIENT span per attempt as its children', () => {
    const [server, ...clients] = requestSpans(trace())
    expect(server).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, kind: SpanKind.SERVER })
    expect(server!.name).toBe('chat claude-sonnet')
    expect(clients).toHaveLength(2)
    for (const c of clients)
      expect(c).toMatchObject({ traceId: TRACE, parentSpanId: server!.spanId, kind: SpanKind.CLIENT })
    expect(clients[0]!.status).toEqual({ code: StatusCode.ERROR, message: 'status_503' })
    expect(clients[0]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'error.type': 'status_503',
    })
    expect(clients[1]!.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
    })
    expect(server!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': 350,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 300,
      'gen_ai.usage.cache_creation.input_tokens': 40,
      'gen_ai.usage.reasoning.output_tokens': 5,
      'nexusai.cost_usd': 0.0012345,
      'nexusai.charge_usd': 0.002469,
      'nexusai.api_key_id': 'k-1',
      'nexusai.project_id': 'p-1',
      'nexusai.request.model': 'claude-sonnet',
    })
    expect(server!.attributes['error.type']).toBeNull()
  })

  it('carries no prompt or completion text unless content capture is on', () => {
    const plain = JSON.stringify(requestSpans(trace()))
    expect(plain).not.toContain('gen_ai.input.messages')
    const captured = requestSpans(
      trace({ content: { input: [{ role: 'user', content: 'secret prompt' }], output: 'the answer' } }),
    )[0]!
    expect(captured.attributes['gen_ai.input.messages']).toContain('secret prompt')
    expect(captured.attributes['gen_ai.output.messages']).toContain('the answer')
  })

  it('marks a failed request with error.type and an ERROR status', () => {
    const [server] = requestSpans(trace({ status: 502, errorCode: 'upstream_error' }))
    expect(server!.attributes['error.type']).toBe('upstream_error')
    expect(server!.status).toEqual({ code: StatusCode.ERROR, message: 'upstream_error' })
  })
})

describe('OTLP/HTTP JSON', () => {
  it('encodes ids as hex, kinds as numbers, times as exact nanosecond strings and typed attributes', () => {
    const body = JSON.parse(encodeSpans(requestSpans(trace()), { 'service.name': 'nexusai' }))
    const scope = body.resourceSpans[0].scopeSpans[0]
    expect(body.resourceSpans[0].resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'nexusai' } },
    ])
    const server = scope.spans[0]
    expect(server).toMatchObject({
      traceId: TRACE,
      parentSpanId: PARENT,
      kind: 2,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000250500000',
    })
    const attr = (key: string) => server.attributes.find((a: any) => a.key === key)?.value
    expect(attr('gen_ai.usage.input_tokens')).toEqual({ intValue: '350' })
    expect(attr('gen_ai.request.stream')).toEqual({ boolValue: true })
    expect(attr('nexusai.cost_usd')).toEqual({ doubleValue: 0.0012345 })
    expect(attr('gen_ai.response.finish_reasons')).toEqual({
      arrayValue: { values: [{ stringValue: 'end_turn' }] },
    })
    expect(attr('error.type')).toBeUndefined()
    expect(scope.spans[1]).toMatchObject({ kind: 3, parentSpanId: server.spanId })
  })
})
