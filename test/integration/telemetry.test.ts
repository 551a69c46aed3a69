import { describe, expect, it } from 'vitest'
import { droppedSpanCount, exportSpans, telemetryConfig } from '../../src/telemetry/exporter'
import { SpanKind, StatusCode, type Span } from '../../src/telemetry/otlp'
import { mockRequests, mockUrl, uid } from '../helpers/gateway'

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
