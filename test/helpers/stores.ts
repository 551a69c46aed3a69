import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { vi } from 'vitest'
import { envWith, testRedis } from './gateway'

// One run of the cron trigger (spool drain + spend reconciliation) on the normal environment.
export async function runCron(overrides: Record<string, string> = {}): Promise<void> {
  const worker = (await import('../../src/index')).default
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController(), envWith(overrides), ctx)
  await waitOnExecutionContext(ctx)
}

// A Redis list as the exact strings stored (the client's automatic JSON parsing undone).
export async function rawList(key: string): Promise<string[]> {
  const items = await testRedis().lrange<unknown>(key, 0, -1)
  return items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)))
}

// Everything the Worker logs (console.log/warn/error) while `run` runs, one string per call.
export async function captureLogs<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = []
  const record = (...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
  }
  const spies = (['log', 'warn', 'error'] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation(record),
  )
  try {
    return { result: await run(), lines }
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
}
