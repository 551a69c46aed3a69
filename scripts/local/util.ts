// Small helpers shared by the local stack's scripts (dev, the Redis launcher, the Neon- and
// Upstash-compatible endpoints, the bench).
import type { ChildProcess } from 'node:child_process'
import type { IncomingMessage } from 'node:http'

// Redis answered, but with an error reply (ioredis's class is not reliably importable under vitest).
export function isReplyError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'ReplyError'
}

// The first line of an error's message: enough for a one-line report, never a stack.
export function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!
}

// A Redis URL safe to print: the password is masked.
export function redact(url: URL): string {
  const u = new URL(url.toString())
  if (u.password) u.password = '***'
  return u.toString().replace(/\/$/, '')
}

// SIGTERM, then SIGKILL after 3 s; resolves once the child has exited.
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

// A whole request body as UTF-8 text.
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
