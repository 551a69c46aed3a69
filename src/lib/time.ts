const pad = (n: number, width = 2) => String(n).padStart(width, '0')

export function dayTag(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`
}

export function monthTag(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}`
}

export function startOfUtcDay(ms: number): Date {
  const d = new Date(ms)
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
}

export function startOfUtcMonth(ms: number): Date {
  const d = new Date(ms)
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))
}

export function startOfNextUtcDay(ms: number): number {
  return startOfUtcDay(ms).getTime() + 86_400_000
}

export function startOfNextUtcMonth(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

// OpenAI's x-ratelimit-reset-* format: "20ms", "1s", "6m0s".
export function formatResetDuration(ms: number): string {
  const clamped = Math.max(0, Math.ceil(ms))
  if (clamped < 1000) return `${clamped}ms`
  const seconds = Math.ceil(clamped / 1000)
  if (seconds < 60) return `${seconds}s`
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`
}
