import { and, eq, gt, lte } from 'drizzle-orm'
import { apiKeys } from '../../drizzle/schema'
import type { Deps } from '../deps'
import { emit, retryDue } from './deliver'
import { event } from './events'

const EXPIRING_WITHIN_MS = 7 * 86_400_000

// key.expiring for every active key whose expires_at is within 7 days. Runs every minute; the event id
// names the key and its expiry, so each expiry is announced once (a new expires_at is a new event).
async function expiringKeys(deps: Deps): Promise<void> {
  const now = deps.now()
  const rows = await deps.db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      projectId: apiKeys.projectId,
      expiresAt: apiKeys.expiresAt,
    })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.status, 'active'),
        gt(apiKeys.expiresAt, new Date(now)),
        lte(apiKeys.expiresAt, new Date(now + EXPIRING_WITHIN_MS)),
      ),
    )
  await emit(
    deps,
    rows.map((k) => {
      const expiresAt = new Date(k.expiresAt!).toISOString()
      return event('key.expiring', `${k.id}:${expiresAt}`, now, {
        api_key_id: k.id,
        api_key_name: k.name,
        project_id: k.projectId,
        expires_at: expiresAt,
      })
    }),
  )
}

// The cron's webhook work: announce expiring keys, then retry what is due.
export async function webhookCron(deps: Deps): Promise<number> {
  await expiringKeys(deps)
  return retryDue(deps)
}
