import { configVersion } from '../cache'
import type { Deps } from '../deps'
import { fromStore } from './stores'

// A cached entry that would refuse the request is read again under the current config version first, so
// an admin write a moment ago (a key re-enabled, a model mapped) applies at once. With `version` given
// (the guard's reload under a version it knows is current) the entry is read under it and kept as it is.
export async function fresh<E extends { value: unknown; version: string }>(
  deps: Deps,
  requestId: string,
  load: (version?: string) => Promise<E>,
  refuses: (value: E['value']) => boolean,
  version?: string,
): Promise<E> {
  const entry = await fromStore('postgres', requestId, () => load(version))
  if (version !== undefined || !refuses(entry.value)) return entry
  const current = await fromStore('redis', requestId, () => configVersion(deps))
  return current === entry.version ? entry : fromStore('postgres', requestId, () => load(current))
}
