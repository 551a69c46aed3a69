import { configVersion, getCatalog } from '../cache'
import type { KeyRow } from '../db/keys'
import type { Deps } from '../deps'
import { keyAllows } from '../pipeline/allow-model'
import { resolveKey } from '../pipeline/authenticate'
import { fromStore } from '../pipeline/stores'

// The models this key may call: allowed by the key and routed by at least one mapping. No upstream
// call here, so instead of the guard a plain version check keeps a disabled key out.
export async function listModels(deps: Deps, requestId: string, key: KeyRow, version: string) {
  const current = await fromStore('redis', requestId, () => configVersion(deps))
  const fresh = current === version ? key : (await resolveKey(deps, requestId, key.keyHash, current)).key
  const catalog = (await fromStore('postgres', requestId, () => getCatalog(deps, current))).value
  const models = [...catalog.mappingsByModel.keys()].filter((m) => keyAllows(fresh, m)).sort()
  return models.map((id) => modelObject(id))
}

// One object the OpenAI, Anthropic and Gemini SDKs all parse (docs/providers.md §0.6): no header sniffing.
// @google/genai 3.x lists models at /v1/models too, reading Gemini's `Model` fields.
const modelObject = (id: string) => ({
  id,
  object: 'model' as const,
  created: 0,
  owned_by: 'nexusai',
  type: 'model' as const,
  display_name: id,
  created_at: '1970-01-01T00:00:00Z',
  name: `models/${id}`,
  displayName: id,
  supportedGenerationMethods: GEMINI_METHODS,
})

const GEMINI_METHODS = [
  'generateContent',
  'streamGenerateContent',
  'countTokens',
  'embedContent',
  'batchEmbedContents',
]
