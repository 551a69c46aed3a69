import { createMiddleware } from 'hono/factory'
import { configVersion, getKey } from '../cache'
import type { AppEnv } from '../context'
import type { KeyRow } from '../db/keys'
import type { Deps } from '../deps'
import { OpenAIError } from '../errors'
import { sha256Hex } from '../lib/ids'
import { fromStore } from './stores'

const RAW_KEY = /^lgw_[0-9A-Za-z]{40}$/
const INVALID = 'Incorrect API key provided. You can find your API key in your nexusai admin.'

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1] ?? null
}

// Looks a virtual key up (isolate cache first) and refuses unknown, disabled and expired keys.
// A cached refusal is re-checked against the current config version first, so a key created or
// re-enabled a moment ago is not refused from a stale cache.
export async function resolveKey(deps: Deps, requestId: string, keyHash: string, version?: string) {
  let entry = await fromStore('postgres', requestId, () => getKey(deps, keyHash, version))
  if (!usable(entry.value, deps.now()) && version === undefined) {
    const current = await fromStore('redis', requestId, () => configVersion(deps))
    if (current !== entry.version)
      entry = await fromStore('postgres', requestId, () => getKey(deps, keyHash, current))
  }
  const key = entry.value
  if (!key || key.status !== 'active') throw new OpenAIError('invalid_api_key', INVALID)
  if (key.expiresAt && new Date(key.expiresAt).getTime() <= deps.now()) {
    throw new OpenAIError('invalid_api_key', 'This API key has expired.')
  }
  return { key, version: entry.version }
}

function usable(key: KeyRow | null, now: number): boolean {
  return (
    key !== null && key.status === 'active' && (!key.expiresAt || new Date(key.expiresAt).getTime() > now)
  )
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('authorization'))
  // Anything not shaped like a key we issue is refused before it costs a store lookup.
  if (!token || !RAW_KEY.test(token)) {
    throw new OpenAIError(
      'invalid_api_key',
      token ? INVALID : 'You did not provide an API key. Use "Authorization: Bearer lgw_…".',
    )
  }
  const { key, version } = await resolveKey(c.var.deps, c.var.requestId, await sha256Hex(token))
  c.set('apiKey', key satisfies KeyRow)
  c.set('configVersion', version)
  await next()
})
