import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { getKey, legacyKeysMayExist } from '../cache'
import type { AppEnv } from '../context'
import { markKeySigned, type KeyRecord } from '../db/keys'
import type { Deps } from '../deps'
import { GatewayError } from '../errors'
import { sha256Hex } from '../lib/ids'
import { isLegacyShape, keyShape } from '../lib/key-mac'
import { log } from '../lib/log'
import { fresh } from './fresh'
import { fromStore } from './stores'

const INVALID = 'Incorrect API key provided. You can find your API key in your nexusai admin.'

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match?.[1] ?? null
}

// Looks a virtual key up (isolate cache first) and refuses unknown, disabled and expired keys, and the keys
// of a disabled project, all with the same message (a distinct one would confirm that a leaked old key is
// real; the reason goes to the log). A cached refusal of a known key is re-checked against the current config
// version first, so a key re-enabled a moment ago is not refused from a stale cache. An unknown hash is not:
// no row can appear for it later (raw keys are random), so the cache answers it with no store call.
export async function resolveKey(deps: Deps, requestId: string, keyHash: string, version?: string) {
  const entry = await fresh(
    deps,
    requestId,
    (v) => getKey(deps, keyHash, v),
    (key) => key !== null && !usable(key, deps.now()),
    version,
  )
  const key = entry.value
  const reason = !key
    ? 'unknown'
    : key.status !== 'active'
      ? 'disabled'
      : key.project && key.project.status !== 'active'
        ? 'project_disabled'
        : !usable(key, deps.now())
          ? 'expired'
          : null
  if (!key || reason) {
    log('info', 'api key refused', { request_id: requestId, reason, key_id: key?.id ?? null })
    throw new GatewayError({ code: 'invalid_api_key', message: INVALID })
  }
  return { key, version: entry.version }
}

function usable(key: KeyRecord | null, now: number): boolean {
  return (
    key !== null &&
    key.status === 'active' &&
    (!key.expiresAt || new Date(key.expiresAt).getTime() > now) &&
    (!key.project || key.project.status === 'active')
  )
}

const KEY_SHAPE = /^lgw_[0-9A-Za-z]{40,}$/

// Anthropic clients send the key as x-api-key (SDK 0.x, Claude Code) or as a Bearer token (SDK 1.x); with
// both, x-api-key wins unless it is not one of ours.
function presentedKey(xApiKey: string | undefined, authorization: string | undefined): string | null {
  const bearer = bearerToken(authorization)
  if (xApiKey && (KEY_SHAPE.test(xApiKey) || !bearer)) return xApiKey
  return bearer
}

// The hash of a well-formed token whose MAC checks out, remembered per isolate and configuration (the
// MAC's secret): a key in use costs its HMAC and SHA-256 once, not on every request. Bounded; the
// oldest goes first.
const MAX_TOKENS = 10_000
const hashesByConfig = new WeakMap<object, Map<string, string>>()

async function keyHashOf(c: Context<AppEnv>, token: string): Promise<string> {
  const config = c.get('deps').config
  let hashes = hashesByConfig.get(config)
  if (!hashes) hashesByConfig.set(config, (hashes = new Map()))
  const known = hashes.get(token)
  if (known) return known
  // Anything not shaped like a key we issue, or signed keys whose MAC does not match, are refused
  // before they cost a store call.
  // The unsigned format too, once no key in it exists (known from the cached catalog).
  const shape = await keyShape(config, token)
  const refused =
    shape === 'malformed' || shape === 'forged'
      ? shape
      : shape === 'legacy' &&
          !(await fromStore('postgres', c.get('requestId'), () => legacyKeysMayExist(c.get('deps'))))
        ? 'unsigned'
        : null
  if (refused) {
    log('info', 'api key refused', { request_id: c.get('requestId'), reason: refused })
    throw new GatewayError({ code: 'invalid_api_key', message: INVALID })
  }
  const hash = await sha256Hex(token)
  if (hashes.size >= MAX_TOKENS) hashes.delete(hashes.keys().next().value as string)
  hashes.set(token, hash)
  return hash
}

// A key flagged as possibly unsigned (older than the flag) was presented signed: cleared once per
// isolate, after the response, so the unsigned format can be refused outright once no such key is left.
const notedSigned = new Set<string>()
function noteSigned(c: Context<AppEnv>, keyId: string) {
  if (notedSigned.has(keyId)) return
  if (notedSigned.size >= MAX_TOKENS) notedSigned.clear()
  notedSigned.add(keyId)
  const { db } = c.get('deps')
  c.executionCtx.waitUntil(
    markKeySigned(db, keyId).catch((error: unknown) => {
      notedSigned.delete(keyId)
      log('warn', 'signed key not recorded', { key_id: keyId, error: (error as Error).name })
    }),
  )
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  // Gemini clients send x-goog-api-key (or ?key=, accepted on the Gemini API's paths only).
  const header =
    c.req.header('x-api-key') ??
    c.req.header('x-goog-api-key') ??
    (c.get('dialect') === 'gemini' ? c.req.query('key') : undefined)
  const token = presentedKey(header, c.req.header('authorization'))
  if (!token)
    throw new GatewayError({
      code: 'invalid_api_key',
      message: 'You did not provide an API key. Use "Authorization: Bearer lgw_…".',
    })
  const { key, version } = await resolveKey(c.get('deps'), c.get('requestId'), await keyHashOf(c, token))
  if (key.legacy && !isLegacyShape(token)) noteSigned(c, key.id)
  c.set('apiKey', key satisfies KeyRecord)
  c.set('configVersion', version)
  await next()
})
