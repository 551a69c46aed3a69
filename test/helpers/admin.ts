import { eq } from 'drizzle-orm'
import { adminAudit } from '../../drizzle/schema'
import { ADMIN_TOKEN, gateway, testDb, uid } from './gateway'

export type AdminReply = { status: number; body: any; res: Response }

// One admin API call with the test admin token (or another token, or none with `token: null`).
export async function admin(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<AdminReply> {
  const headers: Record<string, string> = {}
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await gateway(`/admin${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {
    // CSV and other non-JSON bodies stay text
  }
  return { status: res.status, body: parsed, res }
}

// The audit entries about one target, oldest first, read straight from Postgres.
export async function auditOf(targetId: string) {
  return testDb().select().from(adminAudit).where(eq(adminAudit.targetId, targetId)).orderBy(adminAudit.id)
}

export async function adminKey(spec: Record<string, unknown> = {}) {
  const reply = await admin('POST', '/api-keys', { name: `k-${uid()}`, ...spec })
  if (reply.status !== 201) throw new Error(`key not created: ${JSON.stringify(reply.body)}`)
  return reply.body as { id: string; raw_key: string; key_prefix: string } & Record<string, unknown>
}

export async function adminProvider(spec: Record<string, unknown> = {}) {
  const reply = await admin('POST', '/providers', {
    name: `p-${uid()}`,
    base_url: 'https://example.test/v1',
    ...spec,
  })
  if (reply.status !== 201) throw new Error(`provider not created: ${JSON.stringify(reply.body)}`)
  return reply.body as { id: string; name: string } & Record<string, unknown>
}

export function expectOpenAIError(reply: AdminReply, status: number, code: string, param?: string | null) {
  const error = reply.body?.error
  if (reply.status !== status || error?.code !== code || (param !== undefined && error?.param !== param)) {
    throw new Error(
      `expected ${status} ${code} param=${param}, got ${reply.status} ${JSON.stringify(reply.body)}`,
    )
  }
  if (typeof error.message !== 'string' || !('type' in error))
    throw new Error(`not OpenAI-shaped: ${JSON.stringify(reply.body)}`)
}
