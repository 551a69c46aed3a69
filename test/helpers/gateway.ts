import { env, exports } from 'cloudflare:workers'
import { inject } from 'vitest'
import OpenAI from 'openai'
import { createDb } from '../../src/db/client'
import { readConfig } from '../../src/env'
import { createRedis } from '../../src/redis/client'

export const ORIGIN = 'http://gateway.test'
export const ADMIN_TOKEN = 'test-admin-token'
export const UPSTREAM_KEY = 'sk-upstream-secret-for-tests'
export const mockUrl = () => inject('mockUpstreamUrl')

// The Worker under test, called through its real fetch handler (request → response, waitUntil included).
export function gateway(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init))
}

// The official OpenAI SDK pointed at the Worker. SDK retries are off unless a test wants them.
export function sdk(apiKey: string, options: { maxRetries?: number } = {}): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: `${ORIGIN}/v1`,
    maxRetries: options.maxRetries ?? 0,
    fetch: (url, init) => exports.default.fetch(new Request(url as string, init as RequestInit)),
  })
}

export function testDb() {
  return createDb(readConfig(env as unknown as Record<string, unknown>))
}

export function testRedis() {
  return createRedis(readConfig(env as unknown as Record<string, unknown>))
}

export const uid = () => crypto.randomUUID().slice(0, 8)

// Polls until `check` passes: usage rows and metrics are written after the response (waitUntil).
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

export async function mockRequests(
  scenario: string,
): Promise<{ authorization: string | null; body: any; path: string; headers: Record<string, string> }[]> {
  const res = await fetch(`${mockUrl()}/__requests?scenario=${encodeURIComponent(scenario)}`)
  return res.json()
}

export async function mockAborts(scenario: string): Promise<number> {
  const res = await fetch(`${mockUrl()}/__aborts?scenario=${encodeURIComponent(scenario)}`)
  return ((await res.json()) as { aborted: number }).aborted
}

// Calls the Worker's fetch handler directly with a changed environment (another clock, a store that
// is down, the probe endpoints), waiting for its waitUntil work before returning.
export async function gatewayWith(overrides: Record<string, string>, path: string, init?: RequestInit) {
  const { createExecutionContext, waitOnExecutionContext } = await import('cloudflare:test')
  const worker = (await import('../../src/index')).default
  const ctx = createExecutionContext()
  const res = await worker.fetch(new Request(`${ORIGIN}${path}`, init), envWith(overrides), ctx)
  const body = await res.text()
  await waitOnExecutionContext(ctx)
  return { res, body }
}

// Same env object for the same overrides, so the Worker's per-env clients are reused like in production.
const envs = new Map<string, object>()
export function envWith(overrides: Record<string, string>): any {
  const id = JSON.stringify(overrides)
  if (!envs.has(id)) envs.set(id, { ...env, ...overrides })
  return envs.get(id)
}

// A POST carrying a virtual key and a JSON body (a string body is sent as is, to test bad JSON).
export function keyedPost(raw: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${raw}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }
}

// The smallest chat request for `model`, plus any extra fields.
export function chatRequest(raw: string, model: string, extra: Record<string, unknown> = {}): RequestInit {
  return keyedPost(raw, { model, messages: [{ role: 'user', content: 'hi' }], ...extra })
}
