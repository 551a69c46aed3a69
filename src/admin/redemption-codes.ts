import { findCode, insertCodes, listCodesPage, revokeCode, type NewCode } from '../db/redemption-codes'
import { GatewayError } from '../errors'
import { newRedemptionCode, sha256Hex } from '../lib/ids'
import { audit, type Admin } from './context'
import { decodeCursor, notFound, page, rowId } from './query'
import type { CodesCreate } from './schemas'
import { serializeCode } from './serialize'

// Redemption codes: minted here, redeemed by a key holder (POST /v1/redeem, routes/me.ts). Each code is
// returned once, at minting; only its hash and its last 4 characters (the hint) are kept.
const CURSOR = [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, /^[0-9a-f-]{36}$/i]
const TARGET = 'redemption_code'

export async function mintCodes(admin: Admin, body: CodesCreate) {
  const codes = Array.from({ length: body.count ?? 1 }, newRedemptionCode)
  const rows: NewCode[] = await Promise.all(
    codes.map(async (code) => ({
      codeHash: await sha256Hex(code),
      hint: code.slice(-4),
      amountUsd: body.amount_usd,
      projectId: body.project_id ?? null,
      expiresAt: body.expires_at ?? null,
    })),
  )
  const entry = audit(admin, 'redemption_code.mint', { type: TARGET, id: null }, null, {
    count: codes.length,
    amount_usd: Number(body.amount_usd),
    project_id: body.project_id ?? null,
    expires_at: body.expires_at?.toISOString() ?? null,
    hints: rows.map((r) => r.hint),
  })
  const created = await insertCodes(admin.deps.db, rows, entry)
  const byHash = new Map(created.map((row) => [row.codeHash, row]))
  return {
    object: 'list' as const,
    data: await Promise.all(
      codes.map(async (code) => ({ ...serializeCode(byHash.get(await sha256Hex(code))!), code })),
    ),
    codes,
  }
}

export async function listCodes(
  admin: Admin,
  query: { limit: number; cursor?: string; state?: string; project_id?: string },
) {
  const [at, id] = query.cursor ? decodeCursor(query.cursor, CURSOR) : []
  const rows = await listCodesPage(
    admin.deps.db,
    query.limit + 1,
    { state: query.state, projectId: query.project_id },
    at && id ? { at, id } : undefined,
  )
  return page(rows, query.limit, serializeCode, (row) => [row.cursorAt, row.id])
}

// An active code stops being redeemable; a redeemed or revoked one is a 409.
export async function revoke(admin: Admin, id: string) {
  const current = await findCode(admin.deps.db, rowId(id, 'redemption code'))
  if (!current) throw notFound('redemption code', id)
  if (current.state !== 'active')
    throw new GatewayError({ code: 'conflict', message: `This code is already ${current.state}.` })
  const at = new Date(admin.deps.now())
  const entry = audit(admin, 'redemption_code.revoke', { type: TARGET, id }, serializeCode(current), {
    ...serializeCode(current),
    state: 'revoked',
  })
  const revoked = await revokeCode(admin.deps.db, id, at, entry)
  if (!revoked) throw new GatewayError({ code: 'conflict', message: 'This code was redeemed a moment ago.' })
  return serializeCode(revoked)
}
