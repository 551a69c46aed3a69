// Statistics and the printed / markdown tables of the bench. No I/O here.

export type Summary = {
  n: number
  mean: number
  min: number
  p50: number
  p95: number
  p99: number
  max: number
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length) - 1 // nearest-rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1)
  return {
    n: s.length,
    mean,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
  }
}

export const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  )

// Spread of repeated runs: (max - min) / median, as a fraction.
export function spread(xs: number[]): number {
  if (xs.length < 2) return 0
  const m = median(xs)
  return m === 0 ? 0 : (Math.max(...xs) - Math.min(...xs)) / m
}

export const fmt = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits)
export const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '—')
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const esc = (s: string | number) => String(s).replace(/\|/g, '\\|')
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n')
}
