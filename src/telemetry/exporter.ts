import type { Deps } from '../deps'
import { log } from '../lib/log'
import { encodeSpans, type Attributes, type Span } from './otlp'

export type TelemetryConfig = {
  // Where traces go: OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (the OTLP/HTTP default path).
  tracesUrl: string
  headers: Record<string, string>
  captureContent: boolean
  resource: Attributes
}

const EXPORT_TIMEOUT_MS = 3_000

// OTEL_EXPORTER_OTLP_HEADERS: "key1=value1,key2=value2", values URL-encoded (the OpenTelemetry spec's
// format). A malformed pair is skipped rather than sent half-parsed.
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of (raw ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    const name = pair.slice(0, at).trim()
    try {
      const value = decodeURIComponent(pair.slice(at + 1).trim())
      if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) headers[name] = value
    } catch {
      // not URL-encoded correctly: skipped
    }
  }
  return headers
}

export function telemetryConfig(vars: Record<string, string>): TelemetryConfig | null {
  const endpoint = vars.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  if (!endpoint) return null
  return {
    tracesUrl: `${endpoint.replace(/\/+$/, '')}/v1/traces`,
    headers: parseOtlpHeaders(vars.OTEL_EXPORTER_OTLP_HEADERS),
    captureContent: vars.OTEL_CAPTURE_CONTENT === 'true',
    resource: { 'service.name': vars.OTEL_SERVICE_NAME || 'nexusai' },
  }
}

const configs = new WeakMap<Deps, TelemetryConfig | null>()

// The OTLP settings of this deployment, read once per configuration; null when no endpoint is set.
export function telemetryOf(deps: Deps): TelemetryConfig | null {
  let config = configs.get(deps)
  if (config === undefined) configs.set(deps, (config = telemetryConfig(deps.config.vars)))
  return config
}

// Spans this isolate could not deliver (after one retry), for the log line that reports each loss.
let droppedSpans = 0
export const droppedSpanCount = () => droppedSpans

const retryable = (status: number) => status === 429 || status >= 500

// One POST per batch of spans; a failure (network, timeout, 429 or 5xx) is retried once, then the spans
// are dropped and counted. Never throws: telemetry must not fail the work it rides with.
export async function exportSpans(config: TelemetryConfig, spans: Span[]): Promise<'sent' | 'dropped'> {
  if (spans.length === 0) return 'sent'
  const body = encodeSpans(spans, config.resource)
  let failure = ''
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const res = await fetch(config.tracesUrl, {
        method: 'POST',
        headers: { ...config.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      })
      await res.body?.cancel()
      if (res.ok) return 'sent'
      failure = `HTTP ${res.status}`
      if (!retryable(res.status)) break
    } catch (error) {
      failure = (error as Error).name
    }
  }
  droppedSpans += spans.length
  log('warn', 'otel export dropped', { spans: spans.length, failure, dropped_total: droppedSpans })
  return 'dropped'
}
