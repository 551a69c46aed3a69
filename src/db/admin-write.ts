import { err, ok, type Result } from '../lib/result'

// Admin writes fail in two expected ways, told apart by the Postgres SQLSTATE the driver carries
// (possibly wrapped in drizzle's DrizzleQueryError, hence the walk along `cause`).
export type WriteError = { reason: 'duplicate' | 'missing_reference'; constraint: string | null }

const REASONS: Record<string, WriteError['reason']> = { '23505': 'duplicate', '23503': 'missing_reference' }

function sqlState(error: unknown): { code: string; constraint: string | null } | null {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown }
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return { code, constraint: typeof constraint === 'string' ? constraint : null }
    }
  }
  return null
}

export async function write<T>(run: () => Promise<T>): Promise<Result<T, WriteError>> {
  try {
    return ok(await run())
  } catch (error) {
    const state = sqlState(error)
    const reason = state && REASONS[state.code]
    if (!reason) throw error
    return err({ reason, constraint: state.constraint })
  }
}

// For logs: the innermost cause (the driver's or the network's own error) and its SQLSTATE. Drizzle's
// wrapper message is skipped: it embeds the query parameters, key hashes included.
export function describeDbError(error: unknown): Record<string, unknown> {
  let root = error
  for (let depth = 0; depth < 5 && (root as { cause?: unknown } | null)?.cause; depth++) {
    root = (root as { cause: unknown }).cause
  }
  const withParams = typeof root === 'object' && root !== null && 'params' in root
  const message = withParams ? 'query failed' : ((root as Error)?.message ?? String(root))
  return { error: message, sqlstate: sqlState(error)?.code ?? null }
}
