import type { Config } from '../env'
import { REDIS_TIMEOUT_MS } from './client'

// EVALSHA over Upstash's REST API without the client, for the two scripts every request runs (the
// guard and the finish step): the CPU profile put the client's per-call work (base64 replies and their
// decoding, result deserialization, its request bookkeeping) at about a tenth of the Worker's CPU.
// Same contract as the client's script.exec: EVALSHA, then EVAL when Redis does not have the script
// yet; one quick retry on a network error; a hard timeout. Replies are plain JSON (no base64).
export type HotScript = { text: string; sha: Promise<string> | null }

export const hotScript = (text: string): HotScript => ({ text, sha: null })

const RETRY_BACKOFF_MS = 25

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

type Reply = { result?: unknown; error?: unknown }

async function post(config: Config, body: string): Promise<Reply> {
  const send = () =>
    fetch(config.UPSTASH_REDIS_REST_URL, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.UPSTASH_REDIS_REST_TOKEN}` },
      body,
      signal: AbortSignal.timeout(REDIS_TIMEOUT_MS),
    })
  let res: Response
  try {
    res = await send()
  } catch (error) {
    if ((error as Error)?.name === 'TimeoutError') throw error
    await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS))
    res = await send()
  }
  const reply = (await res.json().catch(() => null)) as Reply | null
  if (!reply || (!res.ok && typeof reply.error !== 'string'))
    throw new Error(`Redis REST answered HTTP ${res.status} without a reply`)
  return reply
}

export async function runHotScript(
  config: Config,
  script: HotScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  script.sha ??= sha1Hex(script.text)
  const tail = JSON.stringify([String(keys.length), ...keys, ...args]).slice(1)
  let reply = await post(config, `["EVALSHA",${JSON.stringify(await script.sha)},${tail}`)
  if (typeof reply.error === 'string' && reply.error.startsWith('NOSCRIPT'))
    reply = await post(config, `["EVAL",${JSON.stringify(script.text)},${tail}`)
  if (typeof reply.error === 'string') throw new Error(`Redis: ${reply.error}`)
  return reply.result
}
