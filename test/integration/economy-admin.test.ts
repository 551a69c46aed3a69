import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { credits, redemptionCodes } from '../../drizzle/schema'
import { sha256Hex } from '../../src/lib/ids'
import { admin, adminKey, auditOf, expectOpenAIError } from '../helpers/admin'
import { gateway, keyedPost, testDb, uid } from '../helpers/gateway'

// The operator's side of selling access: price ratios, windows, the credit ledger, redemption codes.
async function project(spec: Record<string, unknown> = {}) {
  const reply = await admin('POST', '/projects', { id: `shop-${uid()}`, ...spec })
  expect(reply.status, JSON.stringify(reply.body)).toBe(201)
  return reply.body as { id: string } & Record<string, unknown>
}

const redeem = (raw: string, code: unknown) => gateway('/v1/redeem', keyedPost(raw, { code }))

describe('price ratios and windows on projects and keys', () => {
  it('stores an exact ratio, a balance alert and windows; refuses what cannot be enforced', async () => {
    const p = await project({
      price_ratio: '1.5',
      balance_alert_usd: 2,
      windows: [
        { period: '5h', limit_usd: '10' },
        { period: '7d', limit_requests: 500 },
      ],
    })
    expect(p).toMatchObject({
      price_ratio: 1.5,
      balance_alert_usd: 2,
      prepaid_since: null,
      windows: [
        { period: '5h', limit_usd: 10, limit_requests: null },
        { period: '7d', limit_usd: null, limit_requests: 500 },
      ],
    })
    expect((await admin('GET', `/projects/${p.id}`)).body).toMatchObject({
      price_ratio: 1.5,
      balance_usd: null,
    })
    const patched = await admin('PATCH', `/projects/${p.id}`, { price_ratio: 1.234567, windows: [] })
    expect(patched.body).toMatchObject({ price_ratio: 1.234567, windows: [] })
    expectOpenAIError(
      await admin('PATCH', `/projects/${p.id}`, { price_ratio: 0 }),
      400,
      'invalid_request_error',
      'price_ratio',
    )
    expectOpenAIError(
      await admin('PATCH', `/projects/${p.id}`, { price_ratio: '1.0000001' }),
      400,
      'invalid_request_error',
      'price_ratio',
    )
    expectOpenAIError(
      await admin('PATCH', `/projects/${p.id}`, {
        windows: [
          { period: '1d', limit_usd: 1 },
          { period: '1d', limit_usd: 2 },
        ],
      }),
      400,
      'invalid_request_error',
      'windows',
    )
    expectOpenAIError(
      await admin('PATCH', `/projects/${p.id}`, { windows: [{ period: '1d' }] }),
      400,
      'invalid_request_error',
      'windows',
    )
    expectOpenAIError(
      await admin('PATCH', `/projects/${p.id}`, { windows: [{ period: '2h', limit_usd: 1 }] }),
      400,
      'invalid_request_error',
    )

    const key = await adminKey({ project_id: p.id, windows: [{ period: '1d', limit_requests: 3 }] })
    expect(key).toMatchObject({ windows: [{ period: '1d', limit_usd: null, limit_requests: 3 }] })
    const ratioAudit = (await auditOf(p.id)).find((a) => a.action === 'project.update')
    expect(ratioAudit?.after).toMatchObject({ price_ratio: 1.234567 })
  })
})

describe('the credit ledger', () => {
  it('a first credit turns the project prepaid; credits and adjustments page newest first with the balance', async () => {
    const p = await project()
    const first = await admin('POST', `/projects/${p.id}/credits`, { amount_usd: '10', note: 'invoice 7' })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({
      credit: { object: 'credit', project_id: p.id, amount_usd: 10, kind: 'topup', note: 'invoice 7' },
      balance_usd: 10,
    })
    const adjusted = await admin('POST', `/projects/${p.id}/credits`, { amount_usd: -2.5 })
    expect(adjusted.body).toMatchObject({
      credit: { kind: 'adjustment', amount_usd: -2.5 },
      balance_usd: 7.5,
    })
    expectOpenAIError(
      await admin('POST', `/projects/${p.id}/credits`, { amount_usd: -8 }),
      400,
      'invalid_request_error',
      'amount_usd',
    )
    expectOpenAIError(
      await admin('POST', `/projects/${p.id}/credits`, { amount_usd: 0 }),
      400,
      'invalid_request_error',
      'amount_usd',
    )
    expectOpenAIError(
      await admin('POST', `/projects/nope-${uid()}/credits`, { amount_usd: 1 }),
      404,
      'not_found',
    )

    const got = await admin('GET', `/projects/${p.id}`)
    expect(got.body.balance_usd).toBe(7.5)
    expect(typeof got.body.prepaid_since).toBe('string')

    const page1 = await admin('GET', `/projects/${p.id}/credits?limit=1`)
    expect(page1.body).toMatchObject({ object: 'list', balance_usd: 7.5, data: [{ amount_usd: -2.5 }] })
    const page2 = await admin('GET', `/projects/${p.id}/credits?limit=1&cursor=${page1.body.next_cursor}`)
    expect(page2.body).toMatchObject({ data: [{ amount_usd: 10 }], next_cursor: null })
    expect((await auditOf(p.id)).map((a) => a.action)).toEqual([
      'project.create',
      'credit.topup',
      'credit.adjustment',
    ])
  })

  it('is append-only: Postgres refuses to edit or delete a credit', async () => {
    const p = await project()
    await admin('POST', `/projects/${p.id}/credits`, { amount_usd: 1 })
    const db = testDb()
    await expect(
      db.update(credits).set({ amountUsd: '100' }).where(eq(credits.projectId, p.id)),
    ).rejects.toThrow()
    await expect(db.delete(credits).where(eq(credits.projectId, p.id))).rejects.toThrow()
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(credits)
      .where(eq(credits.projectId, p.id))
    expect(Number(row!.n)).toBe(1)
  })
})

describe('redemption codes', () => {
  it('are shown once, stored hashed with a hint, listed and revoked', async () => {
    const minted = await admin('POST', '/redemption-codes', { amount_usd: '5', count: 3 })
    expect(minted.status).toBe(201)
    const codes = minted.body.codes as string[]
    expect(codes).toHaveLength(3)
    for (const code of codes) expect(code).toMatch(/^nxr_[0-9A-Za-z]{24}$/)
    const db = testDb()
    for (const code of codes) {
      const [row] = await db
        .select()
        .from(redemptionCodes)
        .where(eq(redemptionCodes.codeHash, await sha256Hex(code)))
      expect(row).toMatchObject({ hint: code.slice(-4), state: 'active', amountUsd: '5.000000' })
      expect(JSON.stringify(row)).not.toContain(code)
    }
    const listed = await admin('GET', '/redemption-codes?state=active&limit=500')
    const mine = listed.body.data.filter((c: { id: string }) =>
      minted.body.data.some((m: { id: string }) => m.id === c.id),
    )
    expect(mine).toHaveLength(3)
    expect(JSON.stringify(listed.body)).not.toMatch(/nxr_/)
    expect(mine[0]).toMatchObject({
      object: 'redemption_code',
      amount_usd: 5,
      state: 'active',
      redeemed_at: null,
    })

    const revoked = await admin('POST', `/redemption-codes/${minted.body.data[0].id}/revoke`)
    expect(revoked.body).toMatchObject({ state: 'revoked' })
    expectOpenAIError(
      await admin('POST', `/redemption-codes/${minted.body.data[0].id}/revoke`),
      409,
      'conflict',
    )
    const key = await adminKey({ project_id: `shop-${uid()}` })
    const res = await redeem(key.raw_key, codes[0])
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error).toMatchObject({ code: 'invalid_code', param: 'code' })
  })

  it('of 50 concurrent redemptions of one code exactly one succeeds, credited once and audited', async () => {
    const projectId = `shop-${uid()}`
    const keysOfProject = await Promise.all(
      Array.from({ length: 5 }, () => adminKey({ project_id: projectId })),
    )
    const minted = await admin('POST', '/redemption-codes', { amount_usd: '7.25' })
    const code = minted.body.codes[0] as string
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => redeem(keysOfProject[i % 5]!.raw_key, code)),
    )
    const ok = results.filter((r) => r.status === 200)
    expect(ok).toHaveLength(1)
    expect(results.filter((r) => r.status === 400)).toHaveLength(49)
    expect(await ok[0]!.json()).toMatchObject({
      object: 'redemption',
      project_id: projectId,
      amount_usd: 7.25,
      balance_usd: 7.25,
    })
    const ledger = await testDb().select().from(credits).where(eq(credits.projectId, projectId))
    expect(ledger).toHaveLength(1)
    expect(ledger[0]).toMatchObject({
      kind: 'redemption',
      amountUsd: '7.250000',
      codeId: minted.body.data[0].id,
    })
    const codeAudit = await auditOf(minted.body.data[0].id)
    expect(codeAudit.map((a) => a.action)).toEqual(['redemption_code.redeem'])
    expect((await admin('GET', `/projects/${projectId}`)).body.balance_usd).toBe(7.25)
    const listed = await admin('GET', `/redemption-codes?state=redeemed&project_id=`)
    expect(listed.body.data.find((c: { id: string }) => c.id === minted.body.data[0].id)).toMatchObject({
      state: 'redeemed',
      redeemed_project_id: projectId,
    })
  })

  it('a project-bound or expired code is refused like an unknown one, and wrong codes are throttled per key', async () => {
    const bound = await admin('POST', '/redemption-codes', { amount_usd: 1, project_id: `other-${uid()}` })
    const expired = await admin('POST', '/redemption-codes', {
      amount_usd: 1,
      expires_at: '2020-01-01T00:00:00Z',
    })
    const key = await adminKey({ project_id: `shop-${uid()}` })
    const messages = new Set<string>()
    for (const code of [bound.body.codes[0], expired.body.codes[0], `nxr_${'a'.repeat(24)}`, 'garbage']) {
      const res = await redeem(key.raw_key, code)
      expect(res.status).toBe(400)
      const error = ((await res.json()) as any).error
      expect(error.code).toBe('invalid_code')
      messages.add(error.message)
    }
    expect(messages.size).toBe(1)
    let throttled: Response | null = null
    for (let i = 0; i < 10 && !throttled; i++) {
      const res = await redeem(key.raw_key, `nxr_${uid()}${'b'.repeat(16)}`)
      if (res.status === 429) throttled = res
    }
    expect(throttled?.headers.get('retry-after')).toMatch(/^\d+$/)
    // Another key is not affected.
    const other = await adminKey({ project_id: `shop-${uid()}` })
    expect((await redeem(other.raw_key, 'garbage')).status).toBe(400)
  })
})

describe('credit and code routes refuse what Postgres cannot store', () => {
  it('answers a project id with a NUL as a 400 naming it, never a 503', async () => {
    expectOpenAIError(await admin('GET', '/projects/a%00b/credits'), 400, 'invalid_request_error', 'id')
    expectOpenAIError(
      await admin('POST', '/projects/a%00b/credits', { amount_usd: 1 }),
      400,
      'invalid_request_error',
      'id',
    )
    expectOpenAIError(await admin('POST', '/redemption-codes/not-a-uuid/revoke'), 404, 'not_found')
  })
})
