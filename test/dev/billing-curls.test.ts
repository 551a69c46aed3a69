// OpenAI's legacy dashboard billing endpoints as chat clients call them, with the real `curl` against
// `npm run dev`: the shapes docs/selling.md documents (usage in cents), with and without /v1.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevStack, type DevStack } from '../browser/stack.ts'

const run = promisify(execFile)
const TOKEN = 'billing-curls-admin-token'
let stack: DevStack

beforeAll(async () => {
  stack = await startDevStack({ adminToken: TOKEN })
})
afterAll(async () => {
  await stack?.stop()
})

async function curl(path: string, key: string) {
  const { stdout } = await run('curl', ['-sS', '-H', `Authorization: Bearer ${key}`, `${stack.url}${path}`], {
    timeout: 30_000,
  })
  return JSON.parse(stdout)
}

async function adminPost(path: string, body: unknown) {
  const res = await fetch(`${stack.url}/admin${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return res.json() as Promise<Record<string, any>>
}

describe('billing endpoints with curl against npm run dev', () => {
  it('subscription and usage answer in OpenAI’s shapes, amounts of usage in cents', async () => {
    await adminPost('/projects', { id: 'curl-shop' })
    await adminPost('/projects/curl-shop/credits', { amount_usd: '5' })
    const key = await adminPost('/api-keys', {
      name: 'curl',
      project_id: 'curl-shop',
      allowed_models: ['gpt-4o-mini'],
    })
    const chat = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.raw_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 5,
      }),
    })
    expect(chat.status).toBe(200)
    const charge = Number(chat.headers.get('x-nexusai-cost-usd'))
    expect(charge).toBeGreaterThan(0)

    const today = new Date().toISOString().slice(0, 10)
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    let usage: any
    for (let i = 0; i < 50; i++) {
      usage = await curl(`/dashboard/billing/usage?start_date=${today}&end_date=${tomorrow}`, key.raw_key)
      if (usage.total_usage > 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    // Once the usage row is in: the hard limit is the balance plus this month's charges, i.e. the credit.
    for (const prefix of ['', '/v1']) {
      const subscription = await curl(`${prefix}/dashboard/billing/subscription`, key.raw_key)
      expect(subscription).toEqual({
        object: 'billing_subscription',
        has_payment_method: true,
        hard_limit_usd: 5,
        soft_limit_usd: 5,
        system_hard_limit_usd: 5,
        access_until: 0,
      })
    }
    expect(usage).toMatchObject({ object: 'list', daily_costs: [{ line_items: [{ name: 'gpt-4o-mini' }] }] })
    expect(usage.total_usage).toBeCloseTo(charge * 100, 9)
    expect(
      await curl(`/v1/dashboard/billing/usage?start_date=${today}&end_date=${tomorrow}`, key.raw_key),
    ).toEqual(usage)
  })
})
