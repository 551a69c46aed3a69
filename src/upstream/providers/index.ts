import { openai } from './openai'
import type { Provider, ProviderType } from './types'

export const PROVIDERS = { openai } satisfies Record<ProviderType, Provider>
