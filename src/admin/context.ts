import type { Context } from 'hono'
import { bumpConfigVersion } from '../cache'
import type { AppEnv } from '../context'
import { write, type WriteError } from '../db/admin-write'
import { describeDbError, sqlState } from '../db/errors'
import type { AuditEntry } from '../db/audit'
import type { Deps } from '../deps'
import { GatewayError } from '../errors'
import { log } from '../lib/log'

// What every admin operation needs: the stores, who acts (the token fingerprint), the request id, and
// where work that must not hold up the answer goes (webhook deliveries).
export type Admin = {
  deps: Deps
  actor: string
  requestId: string
  defer: (work: Promise<unknown>) => void
}

// Runs one admin operation: our own errors pass through; anything else is a store failure, logged
// without driver messages (they embed query parameters). Only a store that did not answer is a 503: a
// Postgres that answered with an error refused this request's data (class 22, a 400) or has a defect
// of ours to report (a 500) — retrying either would fail the same way.
export async function act<T>(c: Context<AppEnv>, operation: (admin: Admin) => Promise<T>): Promise<T> {
  const admin: Admin = {
    deps: c.var.deps,
    actor: c.var.adminActor,
    requestId: c.var.requestId,
    defer: (work) => c.executionCtx.waitUntil(work),
  }
  try {
    return await operation(admin)
  } catch (error) {
    if (error instanceof GatewayError) throw error
    log('error', 'admin operation failed', { request_id: admin.requestId, ...describeDbError(error) })
    throw storeFailure(error)
  }
}

export function storeFailure(error: unknown): GatewayError {
  const state = sqlState(error)?.code
  if (state === undefined)
    return new GatewayError({
      code: 'service_unavailable',
      message: 'The gateway cannot reach its database. Please retry shortly.',
    })
  if (state.startsWith('22'))
    return new GatewayError({
      code: 'invalid_request_error',
      message: 'The database cannot store a value in this request.',
    })
  return new GatewayError({
    code: 'internal_error',
    message: 'The server had an error while processing your request.',
  })
}

export function audit(
  admin: Admin,
  action: string,
  target: { type: string; id: string | null },
  before: unknown,
  after: unknown,
): AuditEntry {
  return { actor: admin.actor, action, targetType: target.type, targetId: target.id, before, after }
}

// A write already batched with its audit row, then the config version bump that makes every isolate
// drop its cached keys and catalog on its next request. The write stands even if the bump fails
// (a retried POST would create a duplicate); caches then catch up within their 60 s TTL.
export async function commit<T>(
  admin: Admin,
  writeOp: () => Promise<T>,
  refuse: (e: WriteError) => GatewayError,
): Promise<T> {
  const result = await write(writeOp)
  if (!result.ok) throw refuse(result.error)
  try {
    await bumpConfigVersion(admin.deps)
  } catch (error) {
    log('error', 'config version not bumped after an admin write', {
      request_id: admin.requestId,
      error: (error as Error).message,
    })
  }
  return result.value
}

// Snake_case body fields → column values, only those present (PATCH bodies are partial).
export function toColumns<T>(body: Record<string, unknown>, columns: Record<string, keyof T>): Partial<T> {
  const out: Record<string, unknown> = {}
  for (const [field, column] of Object.entries(columns)) {
    if (body[field] !== undefined) out[column as string] = body[field]
  }
  return out as Partial<T>
}
