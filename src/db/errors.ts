// What a database failure is, told from the error alone. The driver's error may be wrapped in
// drizzle's DrizzleQueryError (whose message embeds the query parameters, key hashes included), so
// the SQLSTATE is looked for along `cause`, and NeonDbError keeps a network failure in `sourceError`.

const MAX_DEPTH = 5

function next(error: unknown): unknown {
  if (!error || typeof error !== 'object') return undefined
  const { cause, sourceError } = error as { cause?: unknown; sourceError?: unknown }
  return cause ?? sourceError
}

// The Postgres SQLSTATE (and constraint) the error carries, if Postgres answered at all.
export function sqlState(error: unknown): { code: string; constraint: string | null } | null {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < MAX_DEPTH; e = next(e), depth++) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown }
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return { code, constraint: typeof constraint === 'string' ? constraint : null }
    }
  }
  return null
}

// Postgres refused this row's data (class 22 data exception: bad encoding such as a NUL byte, a
// number out of range, a malformed value; class 23 integrity constraint violation). Sending the same
// row again will fail the same way, unlike a connection or availability failure.
export function isRowRejected(error: unknown): boolean {
  const code = sqlState(error)?.code
  return code !== undefined && (code.startsWith('22') || code.startsWith('23'))
}

function nameOf(error: unknown): string {
  if (!error || typeof error !== 'object') return typeof error
  const name = (error as { name?: unknown }).name
  if (typeof name === 'string' && name !== 'Error') return name
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name
  return typeof ctor === 'string' && ctor !== '' ? ctor : 'Error'
}

// For logs: error names and the SQLSTATE only. Never a message — drizzle's embeds the query
// parameters, and a Postgres message can quote a value (e.g. 22P02 `invalid input syntax … "<value>"`).
export function describeDbError(error: unknown): {
  error: string
  cause: string | null
  sqlstate: string | null
} {
  let root = error
  for (let depth = 0; depth < MAX_DEPTH && next(root); depth++) root = next(root)
  return {
    error: nameOf(error),
    cause: root === error ? null : nameOf(root),
    sqlstate: sqlState(error)?.code ?? null,
  }
}
