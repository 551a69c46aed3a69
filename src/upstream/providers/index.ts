import { anthropic } from './anthropic'
import { gemini } from './gemini'
import { openai } from './openai'
import type { Provider, ProviderType } from './types'

export const PROVIDERS = { openai, anthropic, gemini } satisfies Record<ProviderType, Provider>
