// W3C Trace Context: `traceparent: 00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`.
export type TraceContext = { traceId: string; parentSpanId: string | null; sampled: boolean }

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZEROS = /^0+$/

function randomHex(bytes: number): string {
  const out = crypto.getRandomValues(new Uint8Array(bytes))
  let hex = ''
  for (const b of out) hex += b.toString(16).padStart(2, '0')
  return ZEROS.test(hex) ? randomHex(bytes) : hex
}

export const newSpanId = () => randomHex(8)

// A client's valid traceparent is continued (its span becomes our SERVER span's parent, its sampled flag
// decides); anything else starts a new, sampled trace. Version ff is invalid; a future version may carry
// more fields after the four we read.
export function traceContext(header: string | null | undefined): TraceContext {
  const m = TRACEPARENT.exec((header ?? '').trim().toLowerCase())
  if (m && m[1] !== 'ff' && !(m[1] === '00' && m[5]) && !ZEROS.test(m[2]!) && !ZEROS.test(m[3]!)) {
    return { traceId: m[2]!, parentSpanId: m[3]!, sampled: (parseInt(m[4]!, 16) & 1) === 1 }
  }
  return { traceId: randomHex(16), parentSpanId: null, sampled: true }
}
