// Structured JSON log lines. Callers pass ids and codes, never secrets or raw upstream bodies.
// The line is written as one string without copying `fields` into a new object (one per request on the
// hot path): the level and message first, the fields as given, the timestamp last.
export function log(
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  const body = JSON.stringify(fields)
  const line = `{"level":"${level}","msg":${JSON.stringify(msg)}${body.length > 2 ? `,${body.slice(1, -1)}` : ''},"ts":"${new Date().toISOString()}"}`
  if (level === 'error') console.error(line)
  else if (level === 'warn') console.warn(line)
  else console.log(line)
}
