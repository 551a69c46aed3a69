import { anthropic } from './anthropic'
import { openai } from './openai'
import type { Provider, ProviderType } from './types'

export const PROVIDERS = { openai, anthropic } satisfies Record<ProviderType, Provider>
