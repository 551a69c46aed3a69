// The OTLP/HTTP JSON encoding of traces (opentelemetry-proto's ExportTraceServiceRequest as JSON): ids as
// hex, enums as numbers, 64-bit integers as decimal strings. Small enough to write out rather than carry
// an SDK into the Worker.
export type AttributeValue = string | number | boolean | string[]
export type Attributes = Record<string, AttributeValue | null | undefined>

export const SpanKind = { SERVER: 2, CLIENT: 3 } as const
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const

export type Span = {
  traceId: string
  spanId: string
  parentSpanId: string | null
  name: string
  kind: (typeof SpanKind)[keyof typeof SpanKind]
  startMs: number
  endMs: number
  attributes: Attributes
  status: { code: (typeof StatusCode)[keyof typeof StatusCode]; message?: string }
}

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } }

function anyValue(value: AttributeValue): AnyValue {
  if (Array.isArray(value)) return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } }
  if (typeof value === 'boolean') return { boolValue: value }
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }
  return { stringValue: value }
}

function attributes(attrs: Attributes) {
  return Object.entries(attrs)
    .filter((entry): entry is [string, AttributeValue] => entry[1] !== null && entry[1] !== undefined)
    .map(([key, value]) => ({ key, value: anyValue(value) }))
}

// Milliseconds (fractions kept to the microsecond) as Unix nanoseconds, exactly, as a decimal string.
function nanos(ms: number): string {
  const micros = BigInt(Math.round(ms * 1000))
  return (micros * 1000n).toString()
}

export function encodeSpans(spans: Span[], resource: Attributes): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: attributes(resource) },
        scopeSpans: [
          {
            scope: { name: 'nexusai' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: nanos(s.startMs),
              endTimeUnixNano: nanos(s.endMs),
              attributes: attributes(s.attributes),
              status: s.status.message ? s.status : { code: s.status.code },
            })),
          },
        ],
      },
    ],
  })
}
