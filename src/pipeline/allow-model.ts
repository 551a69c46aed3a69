import { createMiddleware } from 'hono/factory'
import { configVersion, getCatalog } from '../cache'
import type { AppEnv } from '../context'
import { priceFor, type Catalog } from '../db/catalog'
import type { KeyRecord, KeyRow } from '../db/keys'
import type { Deps } from '../deps'
import { GatewayError, quoted } from '../errors'
import { hasMapping, pickTargets, type Target } from '../upstream/targets'
import { resolveKey } from './authenticate'
import { fresh } from './fresh'
import { fromStore } from './stores'

export function keyAllows(key: KeyRow, model: string): boolean {
  return key.allowedModels.includes(model) || key.allowedModels.includes('*')
}

// The key's allow-list first (403), then the routing catalog (404 when nothing maps the model).
export async function resolveRoute(
  deps: Deps,
  requestId: string,
  key: KeyRecord,
  model: string,
  version?: string,
) {
  if (!keyAllows(key, model) && version === undefined) {
    // The allow-list may have been widened a moment ago: re-check the key against the current version.
    const current = await fromStore('redis', requestId, () => configVersion(deps))
    key = (await resolveKey(deps, requestId, key.keyHash, current)).key
  }
  if (!keyAllows(key, model)) {
    throw new GatewayError({
      code: 'model_not_allowed',
      message: `This API key is not allowed to use the model ${quoted(model)}.`,
      param: 'model',
    })
  }
  // Picked once per catalog: picking takes a turn from each provider's key pool.
  let picked: { catalog: Catalog; targets: Target[] } | undefined
  const pick = (catalog: Catalog) =>
    picked?.catalog === catalog
      ? picked.targets
      : (picked = { catalog, targets: pickTargets(catalog, model, deps.config) }).targets
  // The model may have been mapped, or its provider or mapping re-enabled, a moment ago.
  const entry = await fresh(
    deps,
    requestId,
    (v) => getCatalog(deps, v),
    (c) => pick(c).length === 0,
    version,
  )
  const targets = pick(entry.value)
  if (!hasMapping(entry.value, model)) {
    throw new GatewayError({
      code: 'model_not_found',
      message: `The model ${quoted(model)} does not exist or you do not have access to it.`,
      param: 'model',
    })
  }
  const now = deps.now()
  const priced = targets.map((target) => ({
    ...target,
    price: priceFor(entry.value, model, target.upstreamModel, now),
  }))
  if (priced.length === 0) {
    throw new GatewayError({
      code: 'service_unavailable',
      message: `No enabled provider currently serves the model ${quoted(model)}.`,
    })
  }
  return { key, targets: priced, version: entry.version }
}

export const olderVersion = (a: string, b: string) => (Number(a) <= Number(b) ? a : b)

export const allowModel = createMiddleware<AppEnv>(async (c, next) => {
  const deps = c.get('deps')
  const apiKey = c.get('apiKey')
  const model = String(c.get('body').model)
  const route = await resolveRoute(deps, c.get('requestId'), apiKey, model)
  c.get('meter').named(model, model)
  c.set('apiKey', route.key)
  c.set('targets', route.targets)
  c.set('configVersion', olderVersion(c.get('configVersion'), route.version))
  await next()
})
