// The seed document's curls, replayed as written (test/fixtures/seed-curls.sh) with the real `curl` against
// `npm run dev` started with the seed's admin token. Only the address (a free port instead of 8080) and the
// placeholder key `lgw_xxx` (the raw key the first curl returned) are substituted.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { root, startDevStack, type DevStack } from '../browser/stack.ts'

const run = promisify(execFile)
const SEED_TOKEN = 'admin-secret-token'

const curls = readFileSync(join(root, 'test/fixtures/seed-curls.sh'), 'utf8')
  .split(/\n(?=curl )/)
  .map((block) => block.replace(/^#.*$/gm, '').trim())
  .filter(Boolean)

let stack: DevStack
let rawKey = 'lgw_xxx'

beforeAll(async () => {
  stack = await startDevStack({ adminToken: SEED_TOKEN })
})
afterAll(async () => {
  await stack?.stop()
})

// Runs one seed curl through bash (its quoting and line continuations as written) and returns the status
// code and body; `-w` appends the status after the body.
async function replay(curl: string): Promise<{ status: number; body: string }> {
  const command =
    curl.replaceAll('http://localhost:8080', stack.url).replaceAll('lgw_xxx', rawKey) +
    " -sS -w '\\n%{http_code}'"
  const { stdout } = await run('bash', ['-c', command], { timeout: 30_000 })
  const cut = stdout.lastIndexOf('\n')
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) }
}

describe("the seed's curls against npm run dev", () => {
  it('has the eight curls of the seed', () => {
    expect(curls).toHaveLength(8)
  })

  it('creates a key with "status":"enabled" (stored as active) and returns its raw key once', async () => {
    const { status, body } = await replay(curls[0]!)
    expect(status, body).toBe(201)
    const key = JSON.parse(body)
    expect(key).toMatchObject({ name: 'demo-key', project_id: 'demo', status: 'active' })
    expect(key.raw_key).toMatch(/^lgw_/)
    rawKey = key.raw_key
  })

  it('lists the models the key allows', async () => {
    const { status, body } = await replay(curls[1]!)
    expect(status, body).toBe(200)
    const ids = JSON.parse(body).data.map((m: { id: string }) => m.id)
    expect(ids.sort()).toEqual(['gpt-4o-mini', 'text-embedding-3-small'])
  })

  it('answers the chat completion', async () => {
    const { status, body } = await replay(curls[2]!)
    expect(status, body).toBe(200)
    const completion = JSON.parse(body)
    expect(completion.object).toBe('chat.completion')
    expect(completion.choices[0].message.content).toEqual(expect.any(String))
    expect(completion.usage.total_tokens).toBeGreaterThan(0)
  })

  it('streams the chat completion to data: [DONE]', async () => {
    const { status, body } = await replay(curls[3]!)
    expect(status, body).toBe(200)
    const events = body.split('\n').filter((line) => line.startsWith('data: '))
    expect(events.length).toBeGreaterThan(2)
    expect(events.at(-1)).toBe('data: [DONE]')
    expect(JSON.parse(events[0]!.slice(6)).object).toBe('chat.completion.chunk')
  })

  it('answers the embedding', async () => {
    const { status, body } = await replay(curls[4]!)
    expect(status, body).toBe(200)
    expect(JSON.parse(body).data[0].embedding.length).toBeGreaterThan(0)
  })

  it('lists the providers, openai-main as number 1', async () => {
    const { status, body } = await replay(curls[5]!)
    expect(status, body).toBe(200)
    const providers = JSON.parse(body).data
    expect(providers.find((p: { number: number }) => p.number === 1)?.name).toBe('openai-main')
  })

  it('patches provider 1 (openai-main)', async () => {
    const { status, body } = await replay(curls[6]!)
    expect(status, body).toBe(200)
    expect(JSON.parse(body)).toMatchObject({
      name: 'openai-main',
      number: 1,
      enabled: true,
      timeout_ms: 45000,
      max_retries: 2,
    })
  })

  it('reports the usage of the four authenticated requests (models, chat, stream, embedding)', async () => {
    // Usage rows are written after each response (waitUntil); give them a moment to land.
    let report: { totals: { requests: number; cost_usd: string } } | undefined
    for (let i = 0; i < 50; i++) {
      const { status, body } = await replay(curls[7]!)
      expect(status, body).toBe(200)
      report = JSON.parse(body)
      if (report!.totals.requests >= 4) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(report!.totals.requests).toBe(4)
    expect(Number(report!.totals.cost_usd)).toBeGreaterThan(0)
  })
})

describe('npm run dev', () => {
  it('runs the scheduled handler (spool drain, spend reconciliation) like the production cron', async () => {
    // dev.ts triggers it once when the stack is ready, then at the start of every minute.
    const deadline = Date.now() + 30_000
    while (!stack.output().includes('"msg":"scheduled maintenance"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200))
    expect(stack.output()).toContain('"msg":"scheduled maintenance"')
  })
})
