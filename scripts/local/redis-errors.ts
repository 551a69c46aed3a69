// Small helpers shared by the local Redis launcher and the Upstash-compatible endpoint.

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
