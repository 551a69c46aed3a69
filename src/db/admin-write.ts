import { err, ok, type Result } from '../lib/result'
import { sqlState } from './errors'

// Admin writes fail in two expected ways, told apart by the Postgres SQLSTATE the driver carries
// (possibly wrapped in drizzle's DrizzleQueryError, hence the walk along `cause`).
export type WriteError = { reason: 'duplicate' | 'missing_reference'; constraint: string | null }

const REASONS: Record<string, WriteError['reason']> = { '23505': 'duplicate', '23503': 'missing_reference' }

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
